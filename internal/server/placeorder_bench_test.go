package server_test

// BenchmarkPlaceOrder measures placeOrder through the real GraphQL endpoint
// on PostgreSQL (issue 3, criterion 10), with many clients at once:
//
//   - distinct: consecutive orders take consecutive products of a pool of
//     benchProducts, so no two orders in flight share a product row;
//   - contended: every order takes one unit of one product.
//
// Figures and the command are in BENCHMARKS.md:
//
//	TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test -run '^$' -bench BenchmarkPlaceOrder -benchtime 5s ./internal/server/

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"unionmall/ent"
	"unionmall/ent/county"
	"unionmall/ent/member"
	"unionmall/ent/product"
	"unionmall/internal/gid"
	"unionmall/internal/role"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

const (
	// benchProducts is the pool of the distinct case: far more than the
	// orders in flight (8 × GOMAXPROCS clients).
	benchProducts = 2048
	// benchBuyers are VERIFIED members; the clients take turns among them.
	benchBuyers = 64
	// benchParallelism × GOMAXPROCS clients place orders at once.
	benchParallelism = 8
	benchStock       = 100_000_000
)

const benchPlaceQ = `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id status total } }`

func BenchmarkPlaceOrder(b *testing.B) {
	testdb.PostgresURL(b) // skips, saying how, without TEST_DATABASE_URL
	d := testdb.Open(b, "postgres")
	m := servertest.Start(b, d, servertest.Options{})
	ctx := context.Background()

	// Catalogue and buyers, straight into the database.
	cty := gid.New(gid.County)
	sup := gid.New(gid.Supplier)
	if err := d.Client.County.Create().SetID(cty).SetName("紫阳县").SetCity("安康市").
		SetPovertyStatus(county.PovertyStatusLIFTED).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	if err := d.Client.Supplier.Create().SetID(sup).SetName("紫阳富硒茶合作社").SetCountyID(cty).
		SetBeneficiaries(120).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	newProducts := func(n int, prefix string) []gid.ID {
		ids := make([]gid.ID, n)
		rows := make([]*ent.ProductCreate, n)
		for i := range rows {
			ids[i] = gid.New(gid.Product)
			rows[i] = d.Client.Product.Create().SetID(ids[i]).SetName(fmt.Sprintf("%s %04d", prefix, i)).
				SetCategory(product.CategoryTEA).SetPrice(2990).SetSalePrice(2990).SetStock(benchStock).SetStockReceived(benchStock).
				SetSupplierID(sup).SetCountyID(cty)
		}
		for lo := 0; lo < n; lo += 500 {
			if err := d.Client.Product.CreateBulk(rows[lo:min(lo+500, n)]...).Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
		return ids
	}
	distinct := newProducts(benchProducts, "紫阳毛尖")
	contended := newProducts(1, "汉中仙毫")

	tokens := make([]string, benchBuyers)
	for i := range tokens {
		mem, err := d.Client.Member.Create().
			SetPhone(fmt.Sprintf("152%08d", i)).
			SetPasswordHash("unused: signed in with an issued token").
			SetDisplayName(fmt.Sprintf("会员%02d", i)).
			SetRoles(role.Set{role.Member}).
			SetVerificationStatus(member.VerificationStatusVERIFIED).
			SetRealName(fmt.Sprintf("张%02d", i)).
			Save(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if tokens[i], _, err = m.Server.Sessions.Issue(ctx, d.Client, mem); err != nil {
			b.Fatal(err)
		}
	}

	// One keep-alive connection per client: the default transport keeps
	// only two idle connections per host and would reconnect constantly.
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     time.Minute,
	}}
	b.Cleanup(client.CloseIdleConnections)

	run := func(b *testing.B, productOf func(n int64) gid.ID) {
		var next atomic.Int64
		stockBefore := benchStockSum(b, d)
		itemsBefore := benchItems(b, d)
		b.SetParallelism(benchParallelism)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := next.Add(1)
				r, err := servertest.Post(client, m.HTTP.URL, tokens[n%benchBuyers], benchPlaceQ, map[string]any{
					"i": map[string]any{"items": []map[string]any{{"productID": productOf(n), "quantity": 1}}},
				})
				if err != nil {
					b.Errorf("placeOrder: %v", err)
					return
				}
				var out struct {
					PlaceOrder struct{ ID, Status, Total string }
				}
				if len(r.Errors) > 0 || r.Status != http.StatusOK {
					b.Errorf("placeOrder: HTTP %d, errors %+v", r.Status, r.Errors)
					return
				}
				if err := json.Unmarshal(r.Data, &out); err != nil ||
					out.PlaceOrder.Status != "PENDING_PAYMENT" || out.PlaceOrder.Total != "29.90" {
					b.Errorf("placeOrder returned %s (%v)", r.Data, err)
					return
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
		// Every order took exactly its unit, and wrote exactly its line.
		if got, want := stockBefore-benchStockSum(b, d), int64(b.N); got != want {
			b.Errorf("%d units taken from stock for %d orders", got, want)
		}
		if got, want := benchItems(b, d)-itemsBefore, int64(b.N); got != want {
			b.Errorf("%d order lines written for %d orders", got, want)
		}
	}
	b.Run("distinct", func(b *testing.B) {
		run(b, func(n int64) gid.ID { return distinct[n%benchProducts] })
	})
	b.Run("contended", func(b *testing.B) {
		run(b, func(int64) gid.ID { return contended[0] })
	})
}

// benchStockSum is the stock of all products.
func benchStockSum(b *testing.B, d *testdb.DB) int64 {
	b.Helper()
	var out []struct {
		Sum int64 `json:"sum"`
	}
	if err := d.Client.Product.Query().Aggregate(ent.Sum(product.FieldStock)).Scan(context.Background(), &out); err != nil {
		b.Fatal(err)
	}
	return out[0].Sum
}

// benchItems counts the order lines.
func benchItems(b *testing.B, d *testdb.DB) int64 {
	b.Helper()
	n, err := d.Client.OrderItem.Query().Count(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return int64(n)
}

package flashsales_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"unionmall/ent"
	"unionmall/ent/county"
	"unionmall/ent/member"
	"unionmall/ent/product"
	"unionmall/internal/flashsales"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/role"
	"unionmall/internal/testdb"
)

// BenchmarkBuy measures the gate and its batch transactions alone (no
// HTTP): b.N buyers at once on one sale, on PostgreSQL.
//
//	TEST_DATABASE_URL=... go test -run '^$' -bench BenchmarkBuy -benchtime 20000x ./internal/flashsales/
func BenchmarkBuy(b *testing.B) {
	d := testdb.Open(b, "postgres")
	ctx := context.Background()
	c := d.Client.County.Create().SetName("城固县").SetCity("汉中市").SetPovertyStatus(county.PovertyStatusLIFTED).SaveX(ctx)
	s := d.Client.Supplier.Create().SetName("粮油").SetCountyID(c.ID).SetBeneficiaries(1).SaveX(ctx)
	p := d.Client.Product.Create().SetName("菜籽油").SetCategory(product.CategoryGRAIN_OIL).SetPrice(7990).SetSalePrice(7990).
		SetStock(b.N).SetStockReceived(b.N).SetSupplierID(s.ID).SetCountyID(c.ID).SaveX(ctx)
	svc := flashsales.New(d.DB, time.Hour, nil)
	sale, err := svc.Create(ctx, flashsales.NewSale{ProductID: p.ID, Price: money.Yuan, Quantity: b.N, PerMemberLimit: 1,
		StartsAt: time.Now().Add(-time.Second), EndsAt: time.Now().Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	buyers := make([]gid.ID, 0, b.N)
	for start := 0; start < b.N; start += 1000 {
		creates := make([]*ent.MemberCreate, min(1000, b.N-start))
		for i := range creates {
			creates[i] = d.Client.Member.Create().SetPhone(fmt.Sprintf("1%010d", start+i)).SetPasswordHash("-").
				SetDisplayName("买家").SetRoles(role.Set{role.Member}).SetVerificationStatus(member.VerificationStatusVERIFIED)
		}
		for _, m := range d.Client.Member.CreateBulk(creates...).SaveX(ctx) {
			buyers = append(buyers, m.ID)
		}
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, id := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := svc.Buy(ctx, id, sale.ID, 1, nil); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "buys/s")
}

package flashsales_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

const saleQ = `query($id: ID!) { flashSale(id: $id) { quantity sold remaining status } }`

func TestFlashSaleRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		oil := servertest.OilProduct(t, m, 100)
		now := time.Now().UTC()
		sale := servertest.CreateSale(t, m, oil, "1", 3, 2, now.Add(-time.Second), now.Add(time.Hour))
		if sale.Quantity != 3 || sale.Sold != 0 || sale.Remaining != 3 || sale.Status != "ACTIVE" || sale.Product.Stock != 97 {
			t.Fatalf("created %+v", sale)
		}
		later := servertest.CreateSale(t, m, oil, "1", 1, 1, now.Add(time.Hour), now.Add(2*time.Hour))
		buyers := m.BulkVerified(3)
		unverified := m.Register("未认证")
		buy := func(token, sale string, q int) *servertest.Response {
			return m.Do(token, servertest.BuyQ, map[string]any{"i": map[string]any{"flashSaleID": sale, "quantity": q}})
		}
		var first struct {
			BuyFlashSale struct {
				ID, Status, Total, Subtotal string
				FlashSale                   struct{ ID string }
				Items                       []struct {
					Quantity  int
					UnitPrice string
				}
			}
		}
		r := buy(buyers[0].Token, sale.ID, 2)
		if len(r.Errors) > 0 {
			t.Fatalf("%+v", r.Errors)
		}
		r.Decode(t, &first)
		o := first.BuyFlashSale
		if o.Status != "PENDING_PAYMENT" || o.Total != "2.00" || o.FlashSale.ID != sale.ID || len(o.Items) != 1 ||
			o.Items[0].Quantity != 2 || o.Items[0].UnitPrice != "1.00" {
			t.Fatalf("order %+v", o)
		}
		for _, tt := range []struct {
			name, token, sale string
			q                 int
			code              string
		}{
			{"anonymous", "", sale.ID, 1, "UNAUTHENTICATED"},
			{"unverified", unverified.Token, sale.ID, 1, "NOT_VERIFIED"},
			{"unverified beats not started", unverified.Token, later.ID, 1, "NOT_VERIFIED"},
			{"not started", buyers[1].Token, later.ID, 1, "NOT_STARTED"},
			{"above the limit", buyers[0].Token, sale.ID, 1, "LIMIT_EXCEEDED"},
			{"more than remains, refused whole", buyers[1].Token, sale.ID, 2, "SOLD_OUT"},
			{"unknown sale", buyers[1].Token, "fls_01JD0000000000000000000000", 1, "NOT_FOUND"},
		} {
			t.Run(tt.name, func(t *testing.T) { servertest.WantCode(t, buy(tt.token, tt.sale, tt.q), tt.code) })
		}
		servertest.MustDo(t, m, buyers[1].Token, servertest.BuyQ, map[string]any{"i": map[string]any{"flashSaleID": sale.ID}}, nil)
		// Sold out beats the limit.
		servertest.WantCode(t, buy(buyers[0].Token, sale.ID, 1), "SOLD_OUT")
		servertest.WantCode(t, buy(buyers[2].Token, sale.ID, 1), "SOLD_OUT")
		var s struct{ FlashSale servertest.Sale }
		servertest.MustDo(t, m, "", saleQ, map[string]any{"id": sale.ID}, &s)
		if s.FlashSale.Sold != 3 || s.FlashSale.Remaining != 0 || s.FlashSale.Status != "SOLD_OUT" {
			t.Fatalf("after selling out %+v", s.FlashSale)
		}
		// A cancelled order gives its units back, and buying works again.
		servertest.MustDo(t, m, buyers[0].Token, `mutation($id: ID!) { cancelOrder(id: $id) { status } }`, map[string]any{"id": o.ID}, nil)
		servertest.MustDo(t, m, "", saleQ, map[string]any{"id": sale.ID}, &s)
		if s.FlashSale.Sold != 1 || s.FlashSale.Status != "ACTIVE" {
			t.Fatalf("after a cancellation %+v", s.FlashSale)
		}
		servertest.MustDo(t, m, buyers[2].Token, servertest.BuyQ, map[string]any{"i": map[string]any{"flashSaleID": sale.ID}}, nil)
		// Ending the sale sends the unsold unit back to the product.
		var ended struct{ EndFlashSale servertest.Sale }
		servertest.MustDo(t, m, m.Admin, `mutation($id: ID!) { endFlashSale(id: $id) { status sold remaining product { stock } } }`,
			map[string]any{"id": sale.ID}, &ended)
		if ended.EndFlashSale.Status != "ENDED" || ended.EndFlashSale.Sold != 2 || ended.EndFlashSale.Product.Stock != 97+1-1 {
			// 100 − 3 (sale) − 1 (later) + 1 unsold = 97
			t.Fatalf("ended %+v", ended.EndFlashSale)
		}
		servertest.WantCode(t, buy(buyers[2].Token, sale.ID, 1), "ENDED")
		checkFlashInvariants(t, d, sale.ID)
	})
}

// checkFlashInvariants: sold ≤ quantity; sold = the units of the sale's
// live orders; no member holds more than the limit; holdings = live units.
func checkFlashInvariants(t testing.TB, d *testdb.DB, saleID string) {
	t.Helper()
	sold := d.Int(t, "SELECT sold FROM flash_sales WHERE id = ?", saleID)
	qty := d.Int(t, "SELECT quantity FROM flash_sales WHERE id = ?", saleID)
	live := d.Int(t, `SELECT COALESCE(SUM(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id
		WHERE o.flash_sale_id = ? AND o.status IN ('PENDING_PAYMENT', 'PAID', 'SHIPPED', 'COMPLETED')`, saleID)
	if sold > qty || sold != live {
		t.Fatalf("sold %d, quantity %d, units of live orders %d", sold, qty, live)
	}
	over := d.Int(t, `SELECT COUNT(*) FROM flash_sale_holdings h JOIN flash_sales s ON s.id = h.flash_sale_id
		WHERE h.flash_sale_id = ? AND h.units > s.per_member_limit`, saleID)
	held := d.Int(t, "SELECT COALESCE(SUM(units), 0) FROM flash_sale_holdings WHERE flash_sale_id = ?", saleID)
	if over != 0 || held != live {
		t.Fatalf("%d members above the limit; holdings %d, live units %d", over, held, live)
	}
	perMember := d.Int(t, `SELECT COUNT(*) FROM (SELECT o.buyer_id FROM orders o JOIN order_items i ON i.order_id = o.id
		WHERE o.flash_sale_id = ? AND o.status IN ('PENDING_PAYMENT', 'PAID', 'SHIPPED', 'COMPLETED')
		GROUP BY o.buyer_id HAVING SUM(i.quantity) > (SELECT per_member_limit FROM flash_sales WHERE id = ?)) x`, saleID, saleID)
	if perMember != 0 {
		t.Fatalf("%d members hold more than the limit in live orders", perMember)
	}
}

// A storm of buyers through the GraphQL endpoint: never oversold, nobody
// above the limit, sold = units of live orders, every request answered.
func TestFlashSaleStorm(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		buyersN, quantity := 2000, 700
		if d.Name == "sqlite" {
			buyersN, quantity = 400, 150
		}
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		oil := servertest.OilProduct(t, m, 10000)
		now := time.Now().UTC()
		sale := servertest.CreateSale(t, m, oil, "1", quantity, 1, now.Add(-time.Second), now.Add(time.Hour))
		buyers := m.BulkVerified(buyersN)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
		var (
			mu    sync.Mutex
			codes = map[string]int{}
			wg    sync.WaitGroup
			start = make(chan struct{})
		)
		for i, b := range buyers {
			// Some buyers try twice (the limit is one).
			tries := 1 + i%4/3
			for range tries {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					r, err := servertest.Post(client, m.HTTP.URL, b.Token, `mutation($i: BuyFlashSaleInput!) { buyFlashSale(input: $i) { id } }`,
						map[string]any{"i": map[string]any{"flashSaleID": sale.ID}})
					code := "transport error"
					if err == nil {
						code = r.Code()
					}
					mu.Lock()
					codes[code]++
					mu.Unlock()
				}()
			}
		}
		close(start)
		wg.Wait()
		if codes[""] != quantity {
			t.Fatalf("answers %v: want exactly %d purchases", codes, quantity)
		}
		for code := range codes {
			if code != "" && code != "SOLD_OUT" && code != "LIMIT_EXCEEDED" {
				t.Fatalf("answers %v: unexpected %q", codes, code)
			}
		}
		checkFlashInvariants(t, d, sale.ID)
		if n := d.Int(t, "SELECT COUNT(*) FROM orders WHERE flash_sale_id = ?", sale.ID); n != quantity {
			t.Fatalf("%d orders for %d units", n, quantity)
		}
	})
}

package orders_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// raceOrders sends n placeOrder requests at once (released together) and
// returns their responses in order; a transport error fails the test, so
// every request gets an answer.
func raceOrders(t *testing.T, m *servertest.Mall, n int, req func(i int) (token string, vars map[string]any)) []*servertest.Response {
	t.Helper()
	return race(t, m, n, func(i int) (string, string, map[string]any) {
		token, vars := req(i)
		return token, servertest.PlaceOrderQ, vars
	})
}

// race is raceOrders for any operation.
func race(t *testing.T, m *servertest.Mall, n int, req func(i int) (token, query string, vars map[string]any)) []*servertest.Response {
	t.Helper()
	out := make([]*servertest.Response, n)
	errs := make([]error, n)
	client := m.HTTP.Client()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		token, query, vars := req(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i], errs[i] = servertest.Post(client, m.HTTP.URL, token, query, vars)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	return out
}

// watchStockNeverNegative samples the products' stock until stop is called and
// fails if it is ever negative.
func watchStockNeverNegative(t *testing.T, d *testdb.DB) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	var negative atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			var n int64
			if err := d.Pool.QueryRow(`SELECT COUNT(*) FROM products WHERE stock < 0`).Scan(&n); err == nil && n > 0 {
				negative.Add(n)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		if negative.Load() > 0 {
			t.Fatal("stock was seen below zero")
		}
	}
}

// Concurrent buyers never take stock below zero or past what there is,
// one coupon is held by one order, and duplicates of an idempotency key
// make one order, on both databases.
func TestPlaceOrderRaces(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		s := servertest.NewShop(t, m)
		const buyers = 30
		members := make([]servertest.Member, buyers)
		for i := range members {
			members[i] = m.Verified("买家")
		}

		t.Run("stock", func(t *testing.T) {
			const stock = 10
			p := s.Product(t, "Last Ten Jars of Honey", "58.00", "", stock)
			stop := watchStockNeverNegative(t, d)
			rs := raceOrders(t, m, buyers, func(i int) (string, map[string]any) {
				return members[i].Token, servertest.OrderInput([]servertest.Line{{ID: p, Qty: 1}}, nil)
			})
			stop()
			if c := servertest.Codes(rs); c[""] != stock || c["OUT_OF_STOCK"] != buyers-stock || len(c) != 2 {
				t.Fatalf("outcomes %v, want %d orders and %d OUT_OF_STOCK", c, stock, buyers-stock)
			}
			if got := servertest.StockOf(t, d, p); got != 0 {
				t.Fatalf("stock %d", got)
			}
			if n := d.Int(t, `SELECT COUNT(*) FROM orders WHERE id IN (SELECT order_id FROM order_items WHERE product_id = ?)`, p); n != stock {
				t.Fatalf("%d orders", n)
			}
			if n := d.Int(t, `SELECT COALESCE(SUM(quantity), 0) FROM order_items WHERE product_id = ?`, p); n != stock {
				t.Fatalf("%d units ordered", n)
			}
			if n := d.Int(t, `SELECT COUNT(DISTINCT buyer_id) FROM orders`); n != stock {
				t.Fatalf("%d buyers with an order", n)
			}
		})

		t.Run("stock of two lines", func(t *testing.T) {
			// Every order takes one of each, the lines in either order; the
			// second product runs out first, and a refused order takes none
			// of the first.
			a := s.Product(t, "Tea Bricks", "30.00", "", 10)
			b := s.Product(t, "Tea Cups", "12.00", "", 7)
			orders := servertest.Rows(t, d, "orders")
			stop := watchStockNeverNegative(t, d)
			rs := raceOrders(t, m, buyers, func(i int) (string, map[string]any) {
				lines := []servertest.Line{{ID: a, Qty: 1}, {ID: b, Qty: 1}}
				if rand.IntN(2) == 0 {
					lines[0], lines[1] = lines[1], lines[0]
				}
				return members[i].Token, servertest.OrderInput(lines, nil)
			})
			stop()
			if c := servertest.Codes(rs); c[""] != 7 || c["OUT_OF_STOCK"] != buyers-7 || len(c) != 2 {
				t.Fatalf("outcomes %v", c)
			}
			if ga, gb := servertest.StockOf(t, d, a), servertest.StockOf(t, d, b); ga != 3 || gb != 0 {
				t.Fatalf("stock %d and %d, want 3 and 0", ga, gb)
			}
			if n := servertest.Rows(t, d, "orders") - orders; n != 7 {
				t.Fatalf("%d orders", n)
			}
			if n := d.Int(t, `SELECT COUNT(*) FROM order_items WHERE product_id IN (?, ?)`, a, b); n != 14 {
				t.Fatalf("%d lines", n)
			}
		})

		t.Run("one coupon", func(t *testing.T) {
			const tries = 10
			buyer := members[0]
			c := servertest.ClaimPack(t, m, buyer.Token, servertest.NewCampaign(t, m, time.Now().Add(time.Hour)))["20.00"]
			p := s.Product(t, "Walnuts", "20.00", "", 100)
			rs := raceOrders(t, m, tries, func(int) (string, map[string]any) {
				return buyer.Token, servertest.OrderInput([]servertest.Line{{ID: p, Qty: 1}}, map[string]any{"couponID": c})
			})
			if got := servertest.Codes(rs); got[""] != 1 || got["COUPON_UNAVAILABLE"] != tries-1 || len(got) != 2 {
				t.Fatalf("outcomes %v, want one order and %d COUPON_UNAVAILABLE", got, tries-1)
			}
			var winner string
			for _, r := range rs {
				if r.Code() == "" {
					var out struct{ PlaceOrder servertest.Order }
					r.Decode(t, &out)
					winner = out.PlaceOrder.ID
					if out.PlaceOrder.Total != "10.00" || out.PlaceOrder.Coupon == nil || out.PlaceOrder.Coupon.Status != "RESERVED" {
						t.Fatalf("winner %+v", out.PlaceOrder)
					}
				}
			}
			if st, held := servertest.CouponRow(t, d, c); st != "RESERVED" || held != winner {
				t.Fatalf("coupon %s held by %q, want RESERVED by %s", st, held, winner)
			}
			if n := d.Int(t, `SELECT COUNT(*) FROM orders WHERE coupon_id = ?`, c); n != 1 {
				t.Fatalf("%d orders carry the coupon", n)
			}
			if got := servertest.StockOf(t, d, p); got != 99 {
				t.Fatalf("stock %d, want 99", got)
			}
		})

		// idem sends the key from the buyer `tries` times at once and wants
		// one order back from all of them.
		idem := func(t *testing.T, tries int, buyer servertest.Member, vars map[string]any) string {
			t.Helper()
			rs := raceOrders(t, m, tries, func(int) (string, map[string]any) { return buyer.Token, vars })
			ids := map[string]int{}
			for _, r := range rs {
				if r.Code() != "" {
					t.Fatalf("a duplicate was refused: %+v (outcomes %v)", r.Errors, servertest.Codes(rs))
				}
				var out struct{ PlaceOrder servertest.Order }
				r.Decode(t, &out)
				ids[out.PlaceOrder.ID]++
			}
			if len(ids) != 1 {
				t.Fatalf("%d different orders: %v", len(ids), ids)
			}
			for id := range ids {
				return id
			}
			return ""
		}

		t.Run("idempotency key", func(t *testing.T) {
			const tries = 10
			p := s.Product(t, "Chestnuts", "15.00", "", 100)
			buyer, other := members[1], members[2]
			vars := servertest.OrderInput([]servertest.Line{{ID: p, Qty: 2}}, map[string]any{"idempotencyKey": "checkout-42"})
			id := idem(t, tries, buyer, vars)
			if n := d.Int(t, `SELECT COUNT(*) FROM orders WHERE buyer_id = ? AND idempotency_key = 'checkout-42'`, buyer.ID); n != 1 {
				t.Fatalf("%d orders with the key", n)
			}
			if got := servertest.StockOf(t, d, p); got != 98 {
				t.Fatalf("stock %d, want 98", got)
			}
			// Later: the first order. A key names one request: with other
			// lines it is refused, and nothing changes.
			if o := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: p, Qty: 2}}, map[string]any{"idempotencyKey": "checkout-42"}); o.ID != id || o.Total != "30.00" {
				t.Fatalf("later duplicate gave %+v, want %s", o, id)
			}
			servertest.Refused(t, m, d, buyer.Token, servertest.PlaceOrderQ, servertest.OrderInput([]servertest.Line{{ID: p, Qty: 5}}, map[string]any{"idempotencyKey": "checkout-42"}), "BAD_USER_INPUT")
			if got := servertest.StockOf(t, d, p); got != 98 {
				t.Fatalf("stock %d after a later duplicate", got)
			}
			// Another member's key is theirs.
			o := servertest.PlaceOrder(t, m, other.Token, []servertest.Line{{ID: p, Qty: 2}}, map[string]any{"idempotencyKey": "checkout-42"})
			if o.ID == id || o.Buyer.ID != other.ID {
				t.Fatalf("other member's order %+v", o)
			}
			if got := servertest.StockOf(t, d, p); got != 96 {
				t.Fatalf("stock %d, want 96", got)
			}
			if n := d.Int(t, `SELECT COUNT(*) FROM orders WHERE idempotency_key = 'checkout-42'`); n != 2 {
				t.Fatalf("%d orders with the key", n)
			}
		})

		t.Run("idempotency key, last units and a coupon", func(t *testing.T) {
			// The duplicates must find the first order, not the stock and
			// the coupon it took.
			const tries = 10
			buyer := m.Verified("最后一罐")
			c := servertest.ClaimPack(t, m, buyer.Token, servertest.NewCampaign(t, m, time.Now().Add(time.Hour)))["40.00"]
			p := s.Product(t, "Last Jar of Honey", "45.00", "", 1)
			id := idem(t, tries, buyer, servertest.OrderInput([]servertest.Line{{ID: p, Qty: 1}}, map[string]any{"idempotencyKey": "last-jar", "couponID": c}))
			if got := servertest.StockOf(t, d, p); got != 0 {
				t.Fatalf("stock %d", got)
			}
			if st, held := servertest.CouponRow(t, d, c); st != "RESERVED" || held != id {
				t.Fatalf("coupon %s held by %q, want %s", st, held, id)
			}
			if n := d.Int(t, `SELECT COUNT(*) FROM orders WHERE buyer_id = ?`, buyer.ID); n != 1 {
				t.Fatalf("%d orders", n)
			}
		})

		t.Run("confirmPayment repeated at once", func(t *testing.T) {
			const tries = 10
			buyer := members[4]
			p := s.Product(t, "Dried Persimmons", "16.00", "", 50)
			o := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: p, Qty: 3}}, nil)
			// The provider's retries, all at once: one payment.
			rs := race(t, m, tries, func(int) (string, string, map[string]any) {
				return m.Admin, servertest.ConfirmPaymentQ, map[string]any{"i": map[string]any{"orderID": o.ID, "paymentReference": "WX-RETRY", "amount": o.Total}}
			})
			for _, r := range rs {
				var out struct{ ConfirmPayment servertest.Order }
				if r.Code() != "" {
					t.Fatalf("a retry was refused: %+v", r.Errors)
				}
				r.Decode(t, &out)
				if out.ConfirmPayment.ID != o.ID || out.ConfirmPayment.Status != "PAID" {
					t.Fatalf("retry gave %+v", out.ConfirmPayment)
				}
			}
			if sold, stock := servertest.SoldOf(t, d, p), servertest.StockOf(t, d, p); sold != 3 || stock != 47 {
				t.Fatalf("sold %d stock %d, want 3 and 47", sold, stock)
			}
			// Different payments of one order at once: one wins.
			o2 := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: p, Qty: 2}}, nil)
			rs = race(t, m, tries, func(i int) (string, string, map[string]any) {
				return m.Admin, servertest.ConfirmPaymentQ, map[string]any{"i": map[string]any{"orderID": o2.ID, "paymentReference": fmt.Sprintf("WX-%d", i), "amount": o2.Total}}
			})
			if c := servertest.Codes(rs); c[""] != 1 || c["INVALID_STATE"] != tries-1 || len(c) != 2 {
				t.Fatalf("outcomes %v, want one payment and %d INVALID_STATE", c, tries-1)
			}
			if sold := servertest.SoldOf(t, d, p); sold != 5 {
				t.Fatalf("sold %d, want 5", sold)
			}
		})

		t.Run("payment and cancellation at once", func(t *testing.T) {
			// Each order is paid and cancelled at the same moment: one of
			// the two wins, and stock, sold count and coupon agree with it.
			const n = 8
			p := s.Product(t, "Kiwi Fruit", "40.00", "", 100)
			type pair struct {
				o      servertest.Order
				coupon string
				buyer  servertest.Member
			}
			pairs := make([]pair, n)
			camp := servertest.NewCampaign(t, m, time.Now().Add(time.Hour))
			for i := range pairs {
				buyer := members[10+i]
				c := servertest.ClaimPack(t, m, buyer.Token, camp)["20.00"]
				pairs[i] = pair{servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: p, Qty: 1 + i%3}}, map[string]any{"couponID": c}), c, buyer}
			}
			rs := race(t, m, 2*n, func(i int) (string, string, map[string]any) {
				pr := pairs[i/2]
				if i%2 == 0 {
					return m.Admin, servertest.ConfirmPaymentQ, map[string]any{"i": map[string]any{"orderID": pr.o.ID, "paymentReference": "WX-PC-" + pr.o.ID, "amount": pr.o.Total}}
				}
				return pr.buyer.Token, servertest.CancelOrderQ, map[string]any{"id": pr.o.ID}
			})
			held := 0
			for i, pr := range pairs {
				pay, cancel := rs[2*i].Code(), rs[2*i+1].Code()
				st := servertest.OrderStatus(t, d, pr.o.ID)
				cs, by := servertest.CouponRow(t, d, pr.coupon)
				switch {
				case pay == "" && cancel == "INVALID_STATE":
					if st != "PAID" || cs != "USED" || by != pr.o.ID {
						t.Fatalf("order %d paid: %s, coupon %s %q", i, st, cs, by)
					}
					held += 1 + i%3
				case cancel == "" && pay == "INVALID_STATE":
					if st != "CANCELLED" || cs != "AVAILABLE" || by != "" {
						t.Fatalf("order %d cancelled: %s, coupon %s %q", i, st, cs, by)
					}
				default:
					t.Fatalf("order %d: pay %q, cancel %q", i, pay, cancel)
				}
			}
			if stock, sold := servertest.StockOf(t, d, p), servertest.SoldOf(t, d, p); stock != 100-held || sold != held {
				t.Fatalf("stock %d sold %d, want %d and %d", stock, sold, 100-held, held)
			}
		})
	})
}

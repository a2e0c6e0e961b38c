package orders_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"unionmall/internal/db"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// An order not paid by payBy expires on its own, without a request, within
// five seconds: its stock and coupon come back and it can no longer be paid.
// Paid and cancelled orders are left alone.
func TestOrderExpiry(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		// Safe in parallel: each database has servers of its own, and the
		// two runs share only the goroutine-safe phone and ID sequences.
		t.Parallel()
		const window = 2 * time.Second
		m := servertest.Start(t, d, servertest.Options{PaymentWindow: window})
		s := servertest.NewShop(t, m)
		tea := s.Product(t, "紫阳富硒茶", "30.00", "", 20)
		alice := m.Verified("爱丽丝")
		coupons := servertest.ClaimPack(t, m, alice.Token, servertest.NewCampaign(t, m, time.Now().Add(time.Hour)))

		o := servertest.PlaceOrder(t, m, alice.Token, []servertest.Line{{ID: tea, Qty: 3}}, map[string]any{"couponID": coupons["40.00"]})
		paid := servertest.PlaceOrder(t, m, alice.Token, []servertest.Line{{ID: tea, Qty: 2}}, map[string]any{"couponID": coupons["20.00"]})
		servertest.Pay(t, m, paid, "WX-EXP-1")
		cancelled := servertest.PlaceOrder(t, m, alice.Token, []servertest.Line{{ID: tea, Qty: 1}}, nil)
		servertest.MustOrder(t, m, alice.Token, servertest.CancelOrderQ, map[string]any{"id": cancelled.ID})
		if o.Total != "70.00" || servertest.StockOf(t, d, tea) != 15 {
			t.Fatalf("fixture: total %s stock %d", o.Total, servertest.StockOf(t, d, tea))
		}
		payBy := servertest.ParseTime(t, *o.PayBy)

		var expiredAt time.Time
		for deadline := payBy.Add(5 * time.Second); ; {
			st := servertest.OrderStatus(t, d, o.ID)
			now := time.Now()
			if st == "EXPIRED" {
				expiredAt = now
				break
			}
			if st != "PENDING_PAYMENT" {
				t.Fatalf("order became %s", st)
			}
			if now.After(deadline) {
				t.Fatalf("still pending %s after payBy", now.Sub(payBy))
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("expired %s after payBy", expiredAt.Sub(payBy).Round(time.Millisecond))

		// Not before its time.
		var closed servertest.Order
		servertest.MustDo(t, m, alice.Token, servertest.OrderNodeQ, map[string]any{"id": o.ID}, &struct{ Node *servertest.Order }{&closed})
		if closed.Status != "EXPIRED" || closed.ClosedAt == nil || servertest.ParseTime(t, *closed.ClosedAt).Before(payBy) {
			t.Fatalf("expired order %+v, payBy %s", closed, payBy)
		}
		if got := servertest.StockOf(t, d, tea); got != 18 {
			t.Fatalf("stock %d, want 18", got)
		}
		if st, held := servertest.CouponRow(t, d, coupons["40.00"]); st != "AVAILABLE" || held != "" {
			t.Fatalf("coupon %s held by %q", st, held)
		}
		if got := servertest.MyCoupons(t, m, alice.Token, "AVAILABLE")[coupons["40.00"]]; got.Status != "AVAILABLE" || got.Order != nil {
			t.Fatalf("myCoupons(AVAILABLE): %+v", got)
		}
		// The paid and cancelled orders were left alone.
		if servertest.OrderStatus(t, d, paid.ID) != "PAID" || servertest.OrderStatus(t, d, cancelled.ID) != "CANCELLED" {
			t.Fatal("the worker touched a paid or cancelled order")
		}
		if st, _ := servertest.CouponRow(t, d, coupons["20.00"]); st != "USED" {
			t.Fatalf("coupon of the paid order: %s", st)
		}
		// Too late to pay.
		servertest.Refused(t, m, d, m.Admin, servertest.ConfirmPaymentQ, map[string]any{"i": map[string]any{
			"orderID": o.ID, "paymentReference": "WX-LATE", "amount": o.Total}}, "INVALID_STATE")
		servertest.Refused(t, m, d, alice.Token, servertest.CancelOrderQ, map[string]any{"id": o.ID}, "INVALID_STATE")
		// The coupon works again.
		again := servertest.PlaceOrder(t, m, alice.Token, []servertest.Line{{ID: tea, Qty: 2}}, map[string]any{"couponID": coupons["40.00"]})
		if again.Coupon == nil || again.Coupon.Status != "RESERVED" || again.Total != "40.00" {
			t.Fatalf("coupon reused: %+v", again)
		}
	})
}

// Two instances on one database, both running the expiry worker: each
// order expires exactly once, so nothing is given back twice.
func TestOrderExpiryTwoInstances(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		t.Parallel() // as in TestOrderExpiry
		const window = time.Second
		a := servertest.Start(t, d, servertest.Options{PaymentWindow: window})
		// The second instance has a connection pool of its own, as another
		// process would.
		target, err := db.Parse(d.URL)
		if err != nil {
			t.Fatal(err)
		}
		other, err := db.Open(context.Background(), target)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { other.Close() })
		b := servertest.Start(t, d, servertest.Options{PaymentWindow: window, DB: other})

		s := servertest.NewShop(t, a)
		const startStock = 200
		tea := s.Product(t, "紫阳富硒茶", "250.00", "", startStock)
		camp := servertest.NewCampaign(t, a, time.Now().Add(time.Hour))
		// Five members with four coupons each: twenty orders, each with a
		// coupon of its own, placed through both instances in turn.
		type placed struct {
			order  servertest.Order
			coupon string
		}
		var orders []placed
		var buyers []servertest.Member
		pack := map[string][]string{}
		for i := 0; i < 5; i++ {
			mem := a.Verified(fmt.Sprintf("买家%d", i))
			buyers = append(buyers, mem)
			for _, id := range servertest.ClaimPack(t, a, mem.Token, camp) {
				pack[mem.ID] = append(pack[mem.ID], id)
			}
		}
		units := 0
		for i := 0; i < 20; i++ {
			mem := buyers[i%5]
			inst := a
			if i%2 == 1 {
				inst = b
			}
			c := pack[mem.ID][i/5]
			q := 1 + i%3
			o := servertest.PlaceOrder(t, inst, mem.Token, []servertest.Line{{ID: tea, Qty: q}}, map[string]any{"couponID": c})
			if o.Coupon == nil || o.Coupon.Status != "RESERVED" {
				t.Fatalf("order %d: %+v", i, o)
			}
			units += q
			orders = append(orders, placed{o, c})
		}
		// Early orders may have expired already.
		if got := servertest.StockOf(t, d, tea); got < startStock-units || got > startStock {
			t.Fatalf("stock %d after taking %d of %d", got, units, startStock)
		}
		last := servertest.ParseTime(t, *orders[len(orders)-1].order.PayBy)

		deadline := last.Add(5 * time.Second)
		for {
			n := d.Int(t, `SELECT COUNT(*) FROM orders WHERE status = 'PENDING_PAYMENT'`)
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d orders still pending %s after the last payBy", n, time.Since(last))
			}
			time.Sleep(100 * time.Millisecond)
		}
		// Let both workers run once more over the expired orders.
		time.Sleep(1100 * time.Millisecond)

		if n := d.Int(t, `SELECT COUNT(*) FROM orders WHERE status = 'EXPIRED' AND closed_at IS NOT NULL`); n != len(orders) {
			t.Fatalf("%d of %d orders expired", n, len(orders))
		}
		if got := servertest.StockOf(t, d, tea); got != startStock {
			t.Fatalf("stock %d, want exactly %d", got, startStock)
		}
		if got := servertest.SoldOf(t, d, tea); got != 0 {
			t.Fatalf("sold %d", got)
		}
		for i, p := range orders {
			st, held := servertest.CouponRow(t, d, p.coupon)
			if st != "AVAILABLE" || held != "" {
				t.Fatalf("order %d's coupon %s held by %q", i, st, held)
			}
		}
		if n := d.Int(t, `SELECT COUNT(*) FROM coupons WHERE status = 'AVAILABLE' AND order_id IS NULL`); n != 20 {
			t.Fatalf("%d coupons available", n)
		}
		for _, mem := range buyers {
			if got := servertest.MyCoupons(t, a, mem.Token, "AVAILABLE"); len(got) != 4 {
				t.Fatalf("%s has %d coupons available", mem.ID, len(got))
			}
		}
	})
}

package orders_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"unionmall/internal/payments"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
	"unionmall/internal/wechatpay/wechatpaytest"
)

// twoInstances is a mall with a fake WeChat Pay and a second instance on
// the same database (a pool of its own) taking the same WeChat Pay.
func twoInstances(t *testing.T, d *testdb.DB, o servertest.Options) (*payMall, *servertest.Mall) {
	t.Helper()
	a := newPayMall(t, d, o)
	o.WeChatPay = a.wp.Pay
	return a, servertest.StartOwnPool(t, d, o)
}

// The same notification sent to two instances at once, many copies each,
// in rounds: every copy is answered 204 and each payment is applied once.
func TestTwoInstancesReceiveTheSameNotification(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		a, b := twoInstances(t, d, servertest.Options{NoWorkers: true})
		tea := a.NewProduct("12.00", 100)
		buyer := a.Verified("买家")
		const orders, copies, rounds = 4, 6, 3
		type note struct {
			o    servertest.Order
			tx   string
			h    http.Header
			body []byte
		}
		var notes []note
		for i := range orders {
			o := a.started(t, buyer.Token, tea, i+1)
			a.fake.SetNotifyFault(o.Number, wechatpaytest.NotifyFault{Drop: true})
			tx, err := a.fake.Pay(o.Number)
			if err != nil {
				t.Fatal(err)
			}
			h, body := a.notification(t, tx)
			notes = append(notes, note{o, tx.TransactionID, h, body})
		}
		client := &http.Client{Timeout: 30 * time.Second}
		answered := map[int]int{}
		var mu sync.Mutex
		for range rounds {
			var wg sync.WaitGroup
			start := make(chan struct{})
			for _, n := range notes {
				for _, url := range []string{a.HTTP.URL, b.HTTP.URL} {
					for range copies {
						wg.Add(1)
						go func() {
							defer wg.Done()
							<-start
							code, err := send(client, url+payments.NotifyPath, n.h, n.body)
							if err != nil {
								code = -1
							}
							mu.Lock()
							answered[code]++
							mu.Unlock()
						}()
					}
				}
			}
			close(start)
			wg.Wait()
		}
		total := orders * 2 * copies * rounds
		if answered[http.StatusNoContent] != total {
			t.Fatalf("answers %v, want %d × 204", answered, total)
		}
		units := 0
		for i, n := range notes {
			units += i + 1
			p := a.paymentOf(t, n.o.ID)
			if st := servertest.OrderStatus(t, d, n.o.ID); st != "PAID" || p.Status != "PAID" || reference(t, d, n.o.ID) != n.tx {
				t.Fatalf("order %s, payment %+v", st, p)
			}
		}
		if got := servertest.SoldOf(t, d, tea); got != units {
			t.Fatalf("sold %d, want %d: a payment applied twice", got, units)
		}
		if got := servertest.StockOf(t, d, tea); got != 100-units {
			t.Fatalf("stock %d", got)
		}
		sum := func(f func(*servertest.Mall) float64) float64 { return f(a.Mall) + f(b) }
		if got := sum(func(m *servertest.Mall) float64 { return event(t, m, "paid") }); got != orders {
			t.Fatalf("%v paid events over both instances, want %d", got, orders)
		}
		if got := sum(func(m *servertest.Mall) float64 { return notified(t, m, "payment", "accepted") }); got != orders {
			t.Fatalf("%v accepted, want %d", got, orders)
		}
		if got := sum(func(m *servertest.Mall) float64 { return notified(t, m, "payment", "duplicate") }); got != float64(total-orders) {
			t.Fatalf("%v duplicates, want %d", got, total-orders)
		}
	})
}

// Both instances' payment workers meet the same due payments at once:
// each provider order is queried once and, unpaid, closed once; each
// order is paid or expired once, its stock given back once.
func TestTwoInstancesCheckPaymentsAtOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		a, b := twoInstances(t, d, servertest.Options{NoWorkers: true, PaymentWindow: 3 * time.Second})
		tea := a.NewProduct("12.00", 100)
		buyer := a.Verified("买家")
		const n = 6
		var all []servertest.Order
		for i := range n {
			o := a.started(t, buyer.Token, tea, 1)
			if i%2 == 0 {
				a.fake.SetNotifyFault(o.Number, wechatpaytest.NotifyFault{Drop: true})
				if _, err := a.fake.Pay(o.Number); err != nil {
					t.Fatal(err)
				}
			}
			all = append(all, o)
		}
		waitPast(t, servertest.ParseTime(t, *all[n-1].PayBy))
		looked := map[string]int{}
		var mu sync.Mutex
		for round := range 3 {
			var wg sync.WaitGroup
			start := make(chan struct{})
			for name, m := range map[string]*servertest.Mall{"a": a.Mall, "b": b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					k, err := m.Server.Orders.CheckPayments(t.Context(), 100)
					if err != nil {
						t.Errorf("round %d, instance %s: %v", round, name, err)
					}
					mu.Lock()
					looked[fmt.Sprint(round)] += k
					mu.Unlock()
				}()
			}
			close(start)
			wg.Wait()
		}
		if looked["1"] != 0 || looked["2"] != 0 {
			t.Fatalf("payments looked at by round: %v", looked)
		}
		for i, o := range all {
			q, c := calls(a.fake, http.MethodGet, queryPath(o.Number), -1), calls(a.fake, http.MethodPost, closePath(o.Number), -1)
			st, p := servertest.OrderStatus(t, d, o.ID), a.paymentOf(t, o.ID)
			if i%2 == 0 {
				if st != "PAID" || p.Status != "PAID" || q != 1 || c != 0 {
					t.Fatalf("paid order %d: %s, payment %s, %d queries, %d closes", i, st, p.Status, q, c)
				}
			} else if st != "EXPIRED" || p.Status != "CLOSED" || q != 1 || c != 1 {
				t.Fatalf("unpaid order %d: %s, payment %s, %d queries, %d closes", i, st, p.Status, q, c)
			}
		}
		if got := servertest.StockOf(t, d, tea); got != 100-n/2 {
			t.Fatalf("stock %d, want %d", got, 100-n/2)
		}
		if got := servertest.SoldOf(t, d, tea); got != n/2 {
			t.Fatalf("sold %d", got)
		}
		if got := event(t, a.Mall, "closed") + event(t, b, "closed"); got != n/2 {
			t.Fatalf("%v closed events", got)
		}
		if got := event(t, a.Mall, "paid") + event(t, b, "paid"); got != n/2 {
			t.Fatalf("%v paid events", got)
		}
	})
}

// payOrder tapped many times at once, on both instances: one payment row,
// every answer the same provider order.
func TestPayOrderAtOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		a, b := twoInstances(t, d, servertest.Options{NoWorkers: true})
		tea := a.NewProduct("12.00", 100)
		buyer := a.Verified("买家")
		o := servertest.PlaceOrder(t, a.Mall, buyer.Token, []servertest.Line{{ID: tea, Qty: 1}}, nil)
		const taps = 8
		got := make(chan *servertest.Response, taps)
		var wg sync.WaitGroup
		for i := range taps {
			m := a.Mall
			if i%2 == 1 {
				m = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := servertest.Post(m.HTTP.Client(), m.HTTP.URL, buyer.Token, servertest.PayOrderQ, payVars(o.ID, "WECHAT_APP", ""))
				if err != nil {
					t.Error(err)
					return
				}
				got <- r
			}()
		}
		wg.Wait()
		close(got)
		prepays := map[string]int{}
		for r := range got {
			if len(r.Errors) > 0 {
				t.Fatalf("payOrder: %+v", r.Errors)
			}
			var out struct{ PayOrder payRequest }
			r.Decode(t, &out)
			prepays[out.PayOrder.App.Prepayid]++
		}
		if n := d.Int(t, `SELECT COUNT(*) FROM payments WHERE order_id = ?`, o.ID); n != 1 {
			t.Fatalf("%d payments rows", n)
		}
		p := a.paymentOf(t, o.ID)
		if len(prepays) != 1 || p.PrepayID == nil || prepays[*p.PrepayID] != taps {
			t.Fatalf("prepay ids answered %v, stored %v", prepays, p.PrepayID)
		}
	})
}

// Flash-sale buyers cancel just as their payment's notification comes, on
// two instances: each unit ends either sold to a PAID order or back in the
// sale with its payment refunding, never both, and every notification is
// answered 204.
func TestCancelRacesThePayment(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		a, b := twoInstances(t, d, servertest.Options{NoWorkers: true})
		oil := a.NewProduct("79.90", 100)
		const n = 8
		sale := a.NewFlashSale(oil, "1.00", n, 1)
		buyers := a.BulkVerified(n)
		type race struct {
			o    servertest.Order
			h    http.Header
			body []byte
		}
		var races []race
		for _, mem := range buyers {
			o := buyFlash(t, a.Mall, mem.Token, sale, 1)
			a.payOrder(t, mem.Token, o.ID, "WECHAT_APP", "")
			a.fake.SetNotifyFault(o.Number, wechatpaytest.NotifyFault{Drop: true})
			tx, err := a.fake.Pay(o.Number)
			if err != nil {
				t.Fatal(err)
			}
			h, body := a.notification(t, tx)
			races = append(races, race{o, h, body})
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, r := range races {
			notify, cancel := a.Mall, b
			if i%2 == 1 {
				notify, cancel = b, a.Mall
			}
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-start
				if code, err := send(http.DefaultClient, notify.HTTP.URL+payments.NotifyPath, r.h, r.body); err != nil || code != http.StatusNoContent {
					t.Errorf("notification answered %d (%v)", code, err)
				}
			}()
			go func() {
				defer wg.Done()
				<-start
				resp, err := servertest.Post(cancel.HTTP.Client(), cancel.HTTP.URL, buyers[i].Token, servertest.CancelOrderQ, map[string]any{"id": r.o.ID})
				if err != nil || (len(resp.Errors) > 0 && resp.Code() != "INVALID_STATE") {
					t.Errorf("cancel: %v %+v", err, resp)
				}
			}()
		}
		close(start)
		wg.Wait()
		paid := 0
		for _, r := range races {
			st, p := servertest.OrderStatus(t, d, r.o.ID), a.paymentOf(t, r.o.ID)
			switch {
			case st == "PAID" && p.Status == "PAID" && !p.Late:
				paid++
			case st == "CANCELLED" && p.Status == "REFUNDING" && p.Late:
			default:
				t.Fatalf("order %s with payment %s (late %v)", st, p.Status, p.Late)
			}
		}
		if got := d.Int(t, `SELECT sold FROM flash_sales WHERE id = ?`, sale); got != paid {
			t.Fatalf("the sale has sold %d, %d orders are paid", got, paid)
		}
		if got := servertest.SoldOf(t, d, oil); got != paid {
			t.Fatalf("product sold %d, %d orders are paid", got, paid)
		}
		if got := d.Int(t, `SELECT COALESCE(SUM(units), 0) FROM flash_sale_holdings WHERE flash_sale_id = ?`, sale); got != paid {
			t.Fatalf("holdings %d, %d orders are paid", got, paid)
		}
		t.Logf("%d of %d paid before their cancellation", paid, n)
	})
}

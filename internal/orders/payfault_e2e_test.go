package orders_test

import (
	"net/http"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
	"unionmall/internal/wechatpay/wechatpaytest"
)

// fault is a way WeChat Pay's API fails, and its undoing.
type fault struct {
	name      string
	set, undo func(*wechatpaytest.Server)
}

var (
	unavailable = fault{"unavailable (503)",
		func(f *wechatpaytest.Server) { f.SetOutage(wechatpaytest.Unavailable) }, func(f *wechatpaytest.Server) { f.SetOutage(wechatpaytest.Up) }}
	hangup = fault{"hanging up",
		func(f *wechatpaytest.Server) { f.SetOutage(wechatpaytest.Hangup) }, func(f *wechatpaytest.Server) { f.SetOutage(wechatpaytest.Up) }}
	systemError = fault{"SYSTEM_ERROR", func(f *wechatpaytest.Server) { f.FailNext(100) }, func(f *wechatpaytest.Server) { f.FailNext(0) }}
	rateLimited = fault{"FREQUENCY_LIMITED", func(f *wechatpaytest.Server) { f.FailNextWith(100, http.StatusTooManyRequests, "FREQUENCY_LIMITED") },
		func(f *wechatpaytest.Server) { f.FailNext(0) }}
	slow = fault{"slower than the client's timeout",
		func(f *wechatpaytest.Server) { f.SetLatency(2500 * time.Millisecond) }, func(f *wechatpaytest.Server) { f.SetLatency(0) }}
)

// payOrder while WeChat Pay fails is INTERNAL_SERVER_ERROR saying so; the
// order still awaits payment with a PENDING payment and no provider
// order, and payOrder once WeChat Pay is back starts it: one payment row,
// one prepay accepted, counted once as started. Slow within the timeout
// is only slow.
func TestPayOrderWhileWeChatPayFails(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		pm := newPayMall(t, d, servertest.Options{NoWorkers: true})
		m := pm.Mall
		tea := m.NewProduct("12.00", 100)
		buyer := m.Verified("买家")
		for _, f := range []fault{unavailable, hangup, systemError, rateLimited, slow} {
			t.Run(f.name, func(t *testing.T) {
				o := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 1}}, nil)
				openID := "o-payer-" + o.Number
				errs := metric(t, m, "mall_payment_provider_errors_total", map[string]string{"op": "start"})
				f.set(pm.fake)
				r := m.Do(buyer.Token, servertest.PayOrderQ, payVars(o.ID, "WECHAT_JSAPI", openID))
				f.undo(pm.fake)
				servertest.WantCode(t, r, "INTERNAL_SERVER_ERROR")
				if msg := r.Errors[0].Message; msg != "支付渠道没有响应，请重试" { // Chinese by default
					t.Fatalf("message %q", msg)
				}
				if st := servertest.OrderStatus(t, d, o.ID); st != "PENDING_PAYMENT" {
					t.Fatalf("order %s", st)
				}
				p := pm.paymentOf(t, o.ID)
				if p.Status != "PENDING" || p.PrepayID != nil || p.ProviderTransactionID != nil {
					t.Fatalf("after a failed start: payment %+v", p)
				}
				if metric(t, m, "mall_payment_provider_errors_total", map[string]string{"op": "start"}) != errs+1 {
					t.Fatal("the failed start was not counted as a provider error")
				}

				again := pm.payOrder(t, buyer.Token, o.ID, "WECHAT_JSAPI", openID)
				prepayID := checkParams(t, pm, "WECHAT_JSAPI", again)
				if p := pm.paymentOf(t, o.ID); p.PrepayID == nil || *p.PrepayID != prepayID || d.Int(t, `SELECT COUNT(*) FROM payments WHERE order_id = ?`, o.ID) != 1 {
					t.Fatalf("payment %+v", p)
				}
				if _, bodies := pm.sent.prepays(t, o.Number); len(bodies) != 4 {
					t.Fatalf("%d prepays sent, want the failed one with its two retries, and the payOrder again", len(bodies))
				}
				if _, err := pm.fake.Pay(o.Number); err != nil {
					t.Fatal(err)
				}
				pm.fake.Wait()
				if st := servertest.OrderStatus(t, d, o.ID); st != "PAID" {
					t.Fatalf("order %s", st)
				}
			})
		}
		t.Run("slow within the timeout", func(t *testing.T) {
			o := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 1}}, nil)
			pm.fake.SetLatency(300 * time.Millisecond)
			defer pm.fake.SetLatency(0)
			checkParams(t, pm, "WECHAT_APP", pm.payOrder(t, buyer.Token, o.ID, "WECHAT_APP", ""))
		})
	})
}

// A payment whose first start failed at WeChat Pay and whose retry
// succeeded was started once: mall_payments_total{event="started"} counts
// it (and its audit line "payment started" is written) once.
func TestStartedCountedAfterAFailedStart(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		pm := newPayMall(t, d, servertest.Options{NoWorkers: true})
		m := pm.Mall
		tea := m.NewProduct("12.00", 100)
		buyer := m.Verified("买家")
		o := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 1}}, nil)
		pm.fake.FailNext(3) // the call and its two retries
		servertest.WantCode(t, m.Do(buyer.Token, servertest.PayOrderQ, payVars(o.ID, "WECHAT_APP", "")), "INTERNAL_SERVER_ERROR")
		pm.payOrder(t, buyer.Token, o.ID, "WECHAT_APP", "")
		pm.payOrder(t, buyer.Token, o.ID, "WECHAT_APP", "")
		if got := event(t, m, "started"); got != 1 {
			t.Fatalf("mall_payments_total{event=\"started\"} = %v for one payment started (after a failed first try), want 1", got)
		}
	})
}

// The worker meets WeChat Pay failing at payBy: nothing is paid or
// expired, each payment waits longer after each failure (next_check_at),
// and once WeChat Pay is back the next check completes: the paid order
// (notification lost) PAID, the unpaid one closed and EXPIRED, and the
// one whose start never reached WeChat Pay EXPIRED too.
func TestCheckPaymentsWhileWeChatPayFails(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		pm := newPayMall(t, d, servertest.Options{NoWorkers: true, PaymentWindow: 3 * time.Second})
		m := pm.Mall
		tea := m.NewProduct("12.00", 100)
		buyer := m.Verified("买家")
		paid, unpaid := pm.started(t, buyer.Token, tea, 1), pm.started(t, buyer.Token, tea, 2)
		never := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 3}}, nil)
		pm.fake.SetOutage(wechatpaytest.Unavailable)
		servertest.WantCode(t, m.Do(buyer.Token, servertest.PayOrderQ, payVars(never.ID, "WECHAT_APP", "")), "INTERNAL_SERVER_ERROR")
		pm.fake.SetOutage(wechatpaytest.Up)
		pm.fake.SetNotifyFault(paid.Number, wechatpaytest.NotifyFault{Drop: true})
		tx, err := pm.fake.Pay(paid.Number)
		if err != nil {
			t.Fatal(err)
		}
		all := []servertest.Order{paid, unpaid, never}
		waitPast(t, servertest.ParseTime(t, *never.PayBy))
		stock := servertest.StockOf(t, d, tea)

		for i, f := range []fault{unavailable, hangup, systemError, rateLimited} {
			attempts := i + 1
			f.set(pm.fake)
			before := time.Now()
			n, err := m.Server.Orders.CheckPayments(t.Context(), 100)
			after := time.Now()
			if err == nil || n != len(all) {
				t.Fatalf("%s: CheckPayments looked at %d, err %v", f.name, n, err)
			}
			// Not again before the backoff is over.
			if n, err := m.Server.Orders.CheckPayments(t.Context(), 100); n != 0 || err != nil {
				t.Fatalf("%s: right after a failure CheckPayments looked at %d (%v)", f.name, n, err)
			}
			f.undo(pm.fake)
			wait := 2 * time.Second << (attempts - 1)
			for _, o := range all {
				p := pm.paymentOf(t, o.ID)
				if st := servertest.OrderStatus(t, d, o.ID); st != "PENDING_PAYMENT" || p.Status != "PENDING" {
					t.Fatalf("%s: order %s, payment %s", f.name, st, p.Status)
				}
				if p.Attempts != attempts || p.NextCheckAt == nil ||
					p.NextCheckAt.Before(before.Add(wait-time.Millisecond)) || p.NextCheckAt.After(after.Add(wait+time.Millisecond)) {
					t.Fatalf("%s: attempt %d, next check at %v, want %s after %s", f.name, p.Attempts, p.NextCheckAt, wait, before)
				}
				pm.makeDue(t, o.ID)
			}
		}
		if servertest.StockOf(t, d, tea) != stock || reference(t, d, paid.ID) != "" {
			t.Fatal("a failed check moved stock or paid")
		}

		if n, err := m.Server.Orders.CheckPayments(t.Context(), 100); err != nil || n != len(all) {
			t.Fatalf("back up: CheckPayments looked at %d (%v)", n, err)
		}
		if st := servertest.OrderStatus(t, d, paid.ID); st != "PAID" || reference(t, d, paid.ID) != tx.TransactionID {
			t.Fatalf("paid order %s", st)
		}
		for _, o := range []servertest.Order{unpaid, never} {
			if st, p := servertest.OrderStatus(t, d, o.ID), pm.paymentOf(t, o.ID); st != "EXPIRED" || p.Status != "CLOSED" {
				t.Fatalf("unpaid order %s, payment %s", st, p.Status)
			}
		}
		if calls(pm.fake, http.MethodPost, closePath(unpaid.Number), http.StatusNoContent) != 1 || calls(pm.fake, http.MethodPost, closePath(paid.Number), -1) != 0 {
			t.Fatal("closes")
		}
		if got := servertest.StockOf(t, d, tea); got != stock+2+3 {
			t.Fatalf("stock %d, want %d", got, stock+5)
		}
	})
}

// A refund asked while WeChat Pay fails is asked again by the worker,
// after each backoff, with the same out_refund_no until WeChat Pay
// accepts it; then it is only queried: one refund, confirmed once.
func TestRefundWhileWeChatPayFails(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		pm := newPayMall(t, d, servertest.Options{NoWorkers: true})
		m := pm.Mall
		tea := m.NewProduct("12.00", 100)
		buyer := m.Verified("买家")
		o := pm.paid(t, buyer.Token, tea, 1)
		outRefundNo := o.Number + "R"
		unavailable.set(pm.fake)
		if got := servertest.MustOrder(t, m, m.Admin, servertest.RefundOrderQ, refundVars(o.ID, "缺货")); got.Status != "PAID" {
			t.Fatalf("refundOrder: %s", got.Status)
		}
		unavailable.undo(pm.fake)
		if p := pm.paymentOf(t, o.ID); p.Status != "REFUNDING" || p.RefundID != nil || p.NextCheckAt == nil || !p.NextCheckAt.After(time.Now()) {
			t.Fatalf("payment %+v", p)
		}
		if n, err := m.Server.Orders.CheckPayments(t.Context(), 100); n != 0 || err != nil {
			t.Fatalf("during the backoff CheckPayments looked at %d (%v)", n, err)
		}
		for _, f := range []fault{hangup, systemError, rateLimited} {
			f.set(pm.fake)
			pm.makeDue(t, o.ID)
			if _, err := m.Server.Orders.CheckPayments(t.Context(), 100); err == nil {
				t.Fatalf("%s: no error", f.name)
			}
			f.undo(pm.fake)
			if st, p := servertest.OrderStatus(t, d, o.ID), pm.paymentOf(t, o.ID); st != "PAID" || p.Status != "REFUNDING" || p.RefundID != nil {
				t.Fatalf("%s: order %s, payment %+v", f.name, st, p)
			}
		}
		pm.makeDue(t, o.ID)
		if _, err := m.Server.Orders.CheckPayments(t.Context(), 100); err != nil {
			t.Fatal(err)
		}
		if p := pm.paymentOf(t, o.ID); p.Status != "REFUNDING" || p.RefundID == nil {
			t.Fatalf("accepted: payment %+v", p)
		}
		pm.makeDue(t, o.ID)
		if _, err := m.Server.Orders.CheckPayments(t.Context(), 100); err != nil {
			t.Fatal(err)
		}
		if asked, accepted := calls(pm.fake, http.MethodPost, refundsPath, -1), calls(pm.fake, http.MethodPost, refundsPath, http.StatusOK); asked != 13 || accepted != 1 {
			t.Fatalf("refund asked %d times, accepted %d; want 13 (four failed asks, each retried twice, then one) and 1", asked, accepted)
		}
		if q := calls(pm.fake, http.MethodGet, refundsPath+"/"+outRefundNo, http.StatusOK); q != 1 {
			t.Fatalf("%d refund queries", q)
		}
		for _, b := range pm.sent.refundBodies(t, outRefundNo) {
			if b["out_trade_no"] != o.Number {
				t.Fatalf("refund request %v", b)
			}
		}
		if err := pm.fake.CompleteRefund(outRefundNo); err != nil {
			t.Fatal(err)
		}
		pm.fake.Wait()
		if st := servertest.OrderStatus(t, d, o.ID); st != "REFUNDED" || servertest.StockOf(t, d, tea) != 100 || servertest.SoldOf(t, d, tea) != 0 {
			t.Fatalf("order %s", st)
		}
		if got := event(t, m, "refund_asked"); got != 1 {
			t.Fatalf("%v refund_asked events", got)
		}
	})
}

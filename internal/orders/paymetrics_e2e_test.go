package orders_test

import (
	"net/http"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
	"unionmall/internal/wechatpay"
	"unionmall/internal/wechatpay/wechatpaytest"
)

// /metrics counts what payments did: notifications by kind and outcome
// (accepted, duplicate, late, and each refusal by its reason), payment
// events, and the provider's calls with their errors.
func TestPaymentMetrics(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		pm := newPayMall(t, d, servertest.Options{NoWorkers: true, PaymentWindow: 3 * time.Second})
		m := pm.Mall
		tea := m.NewProduct("12.00", 100)
		buyer := m.Verified("买家")

		// Paid, its notification repeated once; then refunded.
		paid := pm.started(t, buyer.Token, tea, 1)
		pm.fake.SetNotifyFault(paid.Number, wechatpaytest.NotifyFault{Repeat: 2})
		tx, err := pm.fake.Pay(paid.Number)
		if err != nil {
			t.Fatal(err)
		}
		pm.fake.Wait()
		servertest.MustOrder(t, m, m.Admin, servertest.RefundOrderQ, refundVars(paid.ID, "缺货"))
		if err := pm.fake.CompleteRefund(paid.Number + "R"); err != nil {
			t.Fatal(err)
		}
		pm.fake.Wait()
		// Refused: stale, another amount, an unknown order.
		h, body := pm.notification(t, tx)
		stale, err := pm.fake.NotificationAt(pm.wp.Pay.NotifyURL, []byte(servertest.APIV3Key), tx, time.Now().Add(-6*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := http.DefaultClient.Do(stale); err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("stale: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
		h.Set(wechatpay.HeaderSignature, "WECHATPAY/SIGNTEST/AAAA")
		if code, err := send(http.DefaultClient, pm.wp.Pay.NotifyURL, h, body); err != nil || code != http.StatusUnauthorized {
			t.Fatalf("probe: %d %v", code, err)
		}
		more := *tx
		more.Amount.Total++
		if code := pm.wp.Notify(t, &more); code != http.StatusBadRequest {
			t.Fatalf("another amount: %d", code)
		}
		if code := pm.wp.Notify(t, transaction("209901010000000000000001", 1200, "4200000000000000000000055555")); code != http.StatusBadRequest {
			t.Fatalf("an unknown order: %d", code)
		}
		// Late: cancelled, then paid.
		late := pm.started(t, buyer.Token, tea, 1)
		servertest.MustOrder(t, m, buyer.Token, servertest.CancelOrderQ, map[string]any{"id": late.ID})
		if _, err := pm.fake.Pay(late.Number); err != nil {
			t.Fatal(err)
		}
		pm.fake.Wait()
		// Closed at payBy, after a failed query.
		unpaid := pm.started(t, buyer.Token, tea, 1)
		waitPast(t, servertest.ParseTime(t, *unpaid.PayBy))
		pm.fake.FailNext(3) // the call and its two retries
		if _, err := m.Server.Orders.CheckPayments(t.Context(), 100); err == nil {
			t.Fatal("the failed query was not reported")
		}
		pm.makeDue(t, unpaid.ID)
		if _, err := m.Server.Orders.CheckPayments(t.Context(), 100); err != nil {
			t.Fatal(err)
		}
		if st := servertest.OrderStatus(t, d, unpaid.ID); st != "EXPIRED" {
			t.Fatalf("order %s", st)
		}

		for _, c := range []struct {
			kind, outcome string
			want          float64
		}{
			{"payment", "accepted", 1}, {"payment", "duplicate", 1}, {"payment", "late", 1},
			{"payment", "stale", 1}, {"payment", "probe", 1}, {"payment", "amount", 1}, {"payment", "unknown_order", 1},
			{"refund", "accepted", 1},
		} {
			if got := notified(t, m, c.kind, c.outcome); got != c.want {
				t.Errorf("mall_payment_notifications_total{kind=%q,outcome=%q} = %v, want %v", c.kind, c.outcome, got, c.want)
			}
		}
		for ev, want := range map[string]float64{"started": 3, "paid": 1, "late": 1, "closed": 1, "refund_asked": 2, "refunded": 1} {
			if got := event(t, m, ev); got != want {
				t.Errorf("mall_payments_total{event=%q} = %v, want %v", ev, got, want)
			}
		}
		for op, want := range map[string]float64{"start": 3, "query": 2, "close": 1, "refund": 2} {
			if got := metric(t, m, "mall_payment_provider_seconds_count", map[string]string{"op": op}); got != want {
				t.Errorf("provider calls %s: %v, want %v", op, got, want)
			}
		}
		if got := metric(t, m, "mall_payment_provider_errors_total", map[string]string{"op": "query"}); got != 1 {
			t.Errorf("query errors %v", got)
		}
	})
}

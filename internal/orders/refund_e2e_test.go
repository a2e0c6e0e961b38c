package orders_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"unionmall/internal/payments"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
	"unionmall/internal/wechatpay/wechatpaytest"
)

// paid starts and pays an order of qty units through the fake, its
// notification delivered.
func (pm *payMall) paid(t testing.TB, token, product string, qty int) servertest.Order {
	t.Helper()
	o := pm.started(t, token, product, qty)
	if _, err := pm.fake.Pay(o.Number); err != nil {
		t.Fatal(err)
	}
	pm.fake.Wait()
	if st := servertest.OrderStatus(pm.T, pm.d, o.ID); st != "PAID" {
		t.Fatalf("order %s after paying", st)
	}
	return o
}

func refundVars(id, reason string) map[string]any {
	return map[string]any{"i": map[string]any{"orderID": id, "reason": reason}}
}

// refundBodies are the refund requests the mall sent for an out_refund_no.
func (r *recorder) refundBodies(t testing.TB, outRefundNo string) []map[string]any {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]any
	for _, q := range r.reqs {
		if q.Method != http.MethodPost || q.Path != refundsPath {
			continue
		}
		var b map[string]any
		if err := json.Unmarshal(q.Body, &b); err != nil {
			t.Fatal(err)
		}
		if b["out_refund_no"] == outRefundNo {
			out = append(out, b)
		}
	}
	return out
}

// refundOrder of an order paid by WeChat Pay asks WeChat Pay once for the
// whole total under out_refund_no = number+"R": the payment is REFUNDING
// and the order stays PAID (its units sold) until the refund's
// notification, repeated, confirms it once; then the order is REFUNDED
// and its units come back. Asking again asks nothing more.
func TestRefundOrderThroughWeChatPay(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		pm := newPayMall(t, d, servertest.Options{NoWorkers: true})
		m := pm.Mall
		tea := m.NewProduct("12.00", 100)
		buyer := m.Verified("买家")
		o := pm.paid(t, buyer.Token, tea, 2)
		stock, sold := servertest.StockOf(t, d, tea), servertest.SoldOf(t, d, tea)
		outRefundNo := o.Number + "R"
		if payments.OutRefundNo(o.Number) != outRefundNo {
			t.Fatalf("out_refund_no %s", payments.OutRefundNo(o.Number))
		}
		pm.fake.SetNotifyFault(outRefundNo, wechatpaytest.NotifyFault{Repeat: 3})

		for i := range 2 {
			got := servertest.MustOrder(t, m, m.Admin, servertest.RefundOrderQ, refundVars(o.ID, "质量问题"))
			if got.Status != "PAID" {
				t.Fatalf("refundOrder #%d: order %s before the provider confirmed", i+1, got.Status)
			}
		}
		p := pm.paymentOf(t, o.ID)
		if p.Status != "REFUNDING" || p.Late || p.OutRefundNo == nil || *p.OutRefundNo != outRefundNo || p.RefundID == nil ||
			p.RefundReason == nil || *p.RefundReason != "质量问题" || p.RefundRequestedAt == nil {
			t.Fatalf("payment %+v", p)
		}
		if status, ap := apiOrderPayment(t, m, buyer.Token, o.ID); status != "PAID" || ap.Status != "REFUNDING" || ap.RefundedAt != nil {
			t.Fatalf("API order %s payment %+v", status, ap)
		}
		bodies := pm.sent.refundBodies(t, outRefundNo)
		if len(bodies) != 1 || calls(pm.fake, http.MethodPost, refundsPath, -1) != 1 {
			t.Fatalf("%d refund requests (%d calls)", len(bodies), calls(pm.fake, http.MethodPost, refundsPath, -1))
		}
		total := float64(servertest.Fen(t, o.Total))
		if b := bodies[0]; b["out_trade_no"] != o.Number || b["reason"] != "质量问题" || b["notify_url"] != m.HTTP.URL+payments.RefundNotifyPath ||
			b["amount"].(map[string]any)["refund"] != total || b["amount"].(map[string]any)["total"] != total {
			t.Fatalf("refund request %v", b)
		}
		if servertest.StockOf(t, d, tea) != stock || servertest.SoldOf(t, d, tea) != sold {
			t.Fatal("units moved before the refund was confirmed")
		}

		if err := pm.fake.CompleteRefund(outRefundNo); err != nil {
			t.Fatal(err)
		}
		pm.fake.Wait()
		wantStatuses(t, pm.fake, outRefundNo, http.StatusNoContent, http.StatusNoContent, http.StatusNoContent)
		p = pm.paymentOf(t, o.ID)
		status, ap := apiOrderPayment(t, m, buyer.Token, o.ID)
		if status != "REFUNDED" || p.Status != "REFUNDED" || p.RefundedAt == nil || ap.Status != "REFUNDED" || ap.RefundedAt == nil {
			t.Fatalf("order %s, payment %+v, API %+v", status, p, ap)
		}
		if got, want := servertest.StockOf(t, d, tea), stock+2; got != want {
			t.Fatalf("stock %d, want %d", got, want)
		}
		if got, want := servertest.SoldOf(t, d, tea), sold-2; got != want {
			t.Fatalf("sold %d, want %d", got, want)
		}
		for _, c := range []struct {
			outcome string
			want    float64
		}{{"accepted", 1}, {"duplicate", 2}} {
			if got := notified(t, m, "refund", c.outcome); got != c.want {
				t.Errorf("refund notifications %s: %v, want %v", c.outcome, got, c.want)
			}
		}
		if got := event(t, m, "refunded"); got != 1 {
			t.Errorf("%v refunded events", got)
		}
		servertest.Refused(t, m, d, m.Admin, servertest.RefundOrderQ, refundVars(o.ID, "再退一次"), "INVALID_STATE")
		if n := calls(pm.fake, http.MethodPost, refundsPath, -1); n != 1 {
			t.Fatalf("%d refund requests", n)
		}
	})
}

// A refund whose notification is lost is confirmed by the worker's query
// (after RefundPoll); one that goes abnormal is reported and stays
// REFUNDING, its order PAID, until WeChat Pay completes it.
func TestRefundWithoutItsNotification(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		pm := newPayMall(t, d, servertest.Options{NoWorkers: true, RefundPoll: 100 * time.Millisecond})
		m := pm.Mall
		tea := m.NewProduct("12.00", 100)
		buyer := m.Verified("买家")

		t.Run("lost", func(t *testing.T) {
			o := pm.paid(t, buyer.Token, tea, 1)
			outRefundNo := payments.OutRefundNo(o.Number)
			pm.fake.SetNotifyFault(outRefundNo, wechatpaytest.NotifyFault{Drop: true})
			servertest.MustOrder(t, m, m.Admin, servertest.RefundOrderQ, refundVars(o.ID, "缺货"))
			if err := pm.fake.CompleteRefund(outRefundNo); err != nil {
				t.Fatal(err)
			}
			eventually(t, "refunded by the query", func() bool {
				if _, err := m.Server.Orders.CheckPayments(t.Context(), 100); err != nil {
					t.Fatal(err)
				}
				return servertest.OrderStatus(t, d, o.ID) == "REFUNDED"
			})
			if p := pm.paymentOf(t, o.ID); p.Status != "REFUNDED" || p.RefundedAt == nil || p.RefundID == nil {
				t.Fatalf("payment %+v", p)
			}
			if dl := pm.fake.DeliveriesOf(outRefundNo); len(dl) != 1 || dl[0].State != wechatpaytest.Dropped {
				t.Fatalf("deliveries %+v", dl)
			}
			if n, q := calls(pm.fake, http.MethodPost, refundsPath, -1), calls(pm.fake, http.MethodGet, refundsPath+"/"+outRefundNo, http.StatusOK); n != 1 || q < 1 {
				t.Fatalf("%d refund requests, %d queries", n, q)
			}
		})

		t.Run("abnormal", func(t *testing.T) {
			o := pm.paid(t, buyer.Token, tea, 1)
			outRefundNo := payments.OutRefundNo(o.Number)
			servertest.MustOrder(t, m, m.Admin, servertest.RefundOrderQ, refundVars(o.ID, "缺货"))
			failed := event(t, m, "refund_failed")
			if err := pm.fake.AbnormalRefund(outRefundNo); err != nil {
				t.Fatal(err)
			}
			pm.fake.Wait()
			wantStatuses(t, pm.fake, outRefundNo, http.StatusNoContent)
			if got := event(t, m, "refund_failed") - failed; got != 1 {
				t.Fatalf("%v refund_failed events", got)
			}
			// The worker's query says abnormal too: reported, not refunded.
			pm.makeDue(t, o.ID)
			if _, err := m.Server.Orders.CheckPayments(t.Context(), 100); err != nil {
				t.Fatal(err)
			}
			p := pm.paymentOf(t, o.ID)
			if st := servertest.OrderStatus(t, d, o.ID); st != "PAID" || p.Status != "REFUNDING" || p.RefundedAt != nil {
				t.Fatalf("after an abnormal refund: order %s, payment %+v", st, p)
			}
			if p.NextCheckAt == nil || time.Until(*p.NextCheckAt) < time.Hour {
				t.Fatalf("an abnormal refund is asked about again at %v", p.NextCheckAt)
			}
			if err := pm.fake.CompleteRefund(outRefundNo); err != nil {
				t.Fatal(err)
			}
			pm.fake.Wait()
			if st := servertest.OrderStatus(t, d, o.ID); st != "REFUNDED" || pm.paymentOf(t, o.ID).Status != "REFUNDED" {
				t.Fatalf("order %s after the refund completed", st)
			}
			if n := len(pm.sent.refundBodies(t, outRefundNo)); n != 1 {
				t.Fatalf("%d refund requests", n)
			}
		})
	})
}

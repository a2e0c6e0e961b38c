package orders_test

import (
	"net/http"
	"slices"
	"testing"

	"unionmall/internal/payments"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
	"unionmall/internal/wechatpay/wechatpaytest"
)

// WeChat Pay sends a notification again and again, one after another or
// at once: the payment is applied once (units sold once, one paid event),
// every copy is answered 204, and a copy sent afterwards changes nothing.
func TestNotificationRepeated(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		pm := newPayMall(t, d, servertest.Options{NoWorkers: true})
		m := pm.Mall
		tea := m.NewProduct("12.00", 100)
		oil := m.NewProduct("79.90", 20)
		sale := m.NewFlashSale(oil, "1.00", 10, 3)
		buyer := m.Verified("买家")
		for _, tc := range []struct {
			name  string
			fault wechatpaytest.NotifyFault
			flash bool
		}{
			{"three in a row", wechatpaytest.NotifyFault{Repeat: 3}, false},
			{"eight at once", wechatpaytest.NotifyFault{Repeat: 8, Parallel: true}, false},
			{"a flash-sale order's, six at once", wechatpaytest.NotifyFault{Repeat: 6, Parallel: true}, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				product, units := tea, 2
				var o servertest.Order
				if tc.flash {
					product, units = oil, 3
					o = buyFlash(t, m, buyer.Token, sale, units)
					pm.payOrder(t, buyer.Token, o.ID, "WECHAT_APP", "")
				} else {
					o = pm.started(t, buyer.Token, tea, units)
				}
				sold, flashSold := servertest.SoldOf(t, d, product), d.Int(t, `SELECT sold FROM flash_sales WHERE id = ?`, sale)
				paid, dup := event(t, m, "paid"), notified(t, m, "payment", "duplicate")
				pm.fake.SetNotifyFault(o.Number, tc.fault)
				tx, err := pm.fake.Pay(o.Number)
				if err != nil {
					t.Fatal(err)
				}
				pm.fake.Wait()
				want := slices.Repeat([]int{http.StatusNoContent}, tc.fault.Repeat)
				wantStatuses(t, pm.fake, o.Number, want...)
				if got := servertest.OrderStatus(t, d, o.ID); got != "PAID" {
					t.Fatalf("order %s", got)
				}
				if got := servertest.SoldOf(t, d, product); got != sold+units {
					t.Fatalf("sold %d, was %d: applied more than once", got, sold)
				}
				if got := d.Int(t, `SELECT sold FROM flash_sales WHERE id = ?`, sale); got != flashSold {
					t.Fatalf("flash sale sold %d, was %d", got, flashSold)
				}
				if p := pm.paymentOf(t, o.ID); p.Status != "PAID" || *p.ProviderTransactionID != tx.TransactionID {
					t.Fatalf("payment %+v", p)
				}
				if got := event(t, m, "paid") - paid; got != 1 {
					t.Fatalf("%v paid events", got)
				}
				if got := notified(t, m, "payment", "duplicate") - dup; got != float64(tc.fault.Repeat-1) {
					t.Fatalf("%v duplicates counted, want %d", got, tc.fault.Repeat-1)
				}
				before := state(t, d)
				if code := pm.wp.Notify(t, tx); code != http.StatusNoContent {
					t.Fatalf("a later copy answered %d", code)
				}
				unchanged(t, d, before)
			})
		}
	})
}

// Notifications come in any order: two orders' released in the reverse
// order of payment are each applied to their own order; a payment's
// notification that arrives only after its late refund was confirmed
// (by its own refund notification) answers 204 and changes nothing.
func TestNotificationsOutOfOrder(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		pm := newPayMall(t, d, servertest.Options{NoWorkers: true})
		m := pm.Mall
		tea := m.NewProduct("12.00", 100)
		buyer := m.Verified("买家")

		t.Run("two orders, released in reverse", func(t *testing.T) {
			a, b := pm.started(t, buyer.Token, tea, 1), pm.started(t, buyer.Token, tea, 2)
			pm.fake.SetNotifyFault(a.Number, wechatpaytest.NotifyFault{Hold: true})
			pm.fake.SetNotifyFault(b.Number, wechatpaytest.NotifyFault{Hold: true})
			txA, err := pm.fake.Pay(a.Number)
			if err != nil {
				t.Fatal(err)
			}
			txB, err := pm.fake.Pay(b.Number)
			if err != nil {
				t.Fatal(err)
			}
			if held := pm.fake.Held(); !slices.Equal(held, []string{a.Number, b.Number}) {
				t.Fatalf("held %v", held)
			}
			if servertest.OrderStatus(t, d, a.ID) != "PENDING_PAYMENT" || servertest.OrderStatus(t, d, b.ID) != "PENDING_PAYMENT" {
				t.Fatal("paid before any notification came")
			}
			if err := pm.fake.Release(b.Number); err != nil {
				t.Fatal(err)
			}
			if servertest.OrderStatus(t, d, b.ID) != "PAID" || servertest.OrderStatus(t, d, a.ID) != "PENDING_PAYMENT" {
				t.Fatal("b's notification did not pay b alone")
			}
			if err := pm.fake.Release(a.Number); err != nil {
				t.Fatal(err)
			}
			pm.fake.Wait()
			wantStatuses(t, pm.fake, a.Number, http.StatusNoContent)
			wantStatuses(t, pm.fake, b.Number, http.StatusNoContent)
			if reference(t, d, a.ID) != txA.TransactionID || reference(t, d, b.ID) != txB.TransactionID {
				t.Fatalf("references %q %q, transactions %s %s", reference(t, d, a.ID), reference(t, d, b.ID), txA.TransactionID, txB.TransactionID)
			}
		})

		t.Run("the payment's after its refund's", func(t *testing.T) {
			o := pm.started(t, buyer.Token, tea, 1)
			stock := servertest.StockOf(t, d, tea)
			pm.fake.SetNotifyFault(o.Number, wechatpaytest.NotifyFault{Hold: true})
			if _, err := pm.fake.Pay(o.Number); err != nil {
				t.Fatal(err)
			}
			// The buyer cancels before the notification comes; the worker
			// learns of the payment by asking, and refunds it.
			servertest.MustOrder(t, m, buyer.Token, servertest.CancelOrderQ, map[string]any{"id": o.ID})
			if _, err := m.Server.Orders.CheckPayments(t.Context(), 100); err != nil {
				t.Fatal(err)
			}
			p := pm.paymentOf(t, o.ID)
			if p.Status != "REFUNDING" || !p.Late || p.OutRefundNo == nil || *p.OutRefundNo != payments.OutRefundNo(o.Number) {
				t.Fatalf("payment %+v", p)
			}
			if err := pm.fake.CompleteRefund(*p.OutRefundNo); err != nil {
				t.Fatal(err)
			}
			pm.fake.Wait()
			wantStatuses(t, pm.fake, *p.OutRefundNo, http.StatusNoContent)
			if p := pm.paymentOf(t, o.ID); p.Status != "REFUNDED" || p.RefundedAt == nil {
				t.Fatalf("payment %+v", p)
			}
			before := state(t, d)
			if err := pm.fake.Release(o.Number); err != nil {
				t.Fatal(err)
			}
			pm.fake.Wait()
			wantStatuses(t, pm.fake, o.Number, http.StatusNoContent)
			unchanged(t, d, before)
			if servertest.OrderStatus(t, d, o.ID) != "CANCELLED" || servertest.StockOf(t, d, tea) != stock+1 {
				t.Fatalf("order %s, stock %d (was %d before the cancellation)", servertest.OrderStatus(t, d, o.ID), servertest.StockOf(t, d, tea), stock)
			}
		})
	})
}

package orders_test

import (
	"net/http"
	"testing"
	"time"

	"unionmall/internal/payments"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
	"unionmall/internal/wechatpay/wechatpaytest"
)

// At payBy the provider is asked before an order with a started payment
// expires: a payment whose notification was lost (or is still held) makes
// the order PAID, not EXPIRED; an unpaid one has its provider order closed
// and then expires, giving back its stock, flash-sale units and coupon.
// ExpireDue leaves them all to CheckPayments. A notification that comes
// afterwards for an expired order's closed payment is answered 204 and
// the payment is refunded, the order staying EXPIRED.
func TestPaymentsAtExpiry(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		pm := newPayMall(t, d, servertest.Options{NoWorkers: true, PaymentWindow: 3 * time.Second})
		m := pm.Mall
		tea := m.NewProduct("12.00", 100)
		oil := m.NewProduct("79.90", 20)
		sale := m.NewFlashSale(oil, "1.00", 10, 2)
		buyer := m.Verified("买家")
		coupons := servertest.ClaimPack(t, m, buyer.Token, servertest.NewCampaign(t, m, time.Now().Add(time.Hour)))

		lost, held := pm.started(t, buyer.Token, tea, 1), pm.started(t, buyer.Token, tea, 2)
		unpaid := pm.started(t, buyer.Token, tea, 3)
		flash := buyFlash(t, m, buyer.Token, sale, 2)
		pm.payOrder(t, buyer.Token, flash.ID, "WECHAT_APP", "")
		withCoupon := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 4}}, map[string]any{"couponID": coupons["40.00"]})
		pm.payOrder(t, buyer.Token, withCoupon.ID, "WECHAT_APP", "")
		pm.fake.SetNotifyFault(lost.Number, wechatpaytest.NotifyFault{Drop: true})
		pm.fake.SetNotifyFault(held.Number, wechatpaytest.NotifyFault{Hold: true})
		txLost, err := pm.fake.Pay(lost.Number)
		if err != nil {
			t.Fatal(err)
		}
		txHeld, err := pm.fake.Pay(held.Number)
		if err != nil {
			t.Fatal(err)
		}
		if dl := pm.fake.DeliveriesOf(lost.Number); len(dl) != 1 || dl[0].State != wechatpaytest.Dropped {
			t.Fatalf("deliveries %+v", dl)
		}
		if n, err := m.Server.Orders.CheckPayments(t.Context(), 100); err != nil || n != 0 {
			t.Fatalf("before payBy CheckPayments looked at %d (%v)", n, err)
		}
		stock, flashSold := servertest.StockOf(t, d, tea), d.Int(t, `SELECT sold FROM flash_sales WHERE id = ?`, sale)
		if stock != 100-1-2-3-4 || flashSold != 2 {
			t.Fatalf("fixture: stock %d, flash sold %d", stock, flashSold)
		}
		waitPast(t, servertest.ParseTime(t, *withCoupon.PayBy))

		// ExpireDue alone expires none of them: each has a started payment.
		if n, err := m.Server.Orders.ExpireDue(t.Context(), 100); err != nil || n != 0 {
			t.Fatalf("ExpireDue expired %d (%v)", n, err)
		}
		all := []servertest.Order{lost, held, unpaid, flash, withCoupon}
		for _, o := range all {
			if got := servertest.OrderStatus(t, d, o.ID); got != "PENDING_PAYMENT" {
				t.Fatalf("order %s after ExpireDue", got)
			}
		}
		if n, err := m.Server.Orders.CheckPayments(t.Context(), 100); err != nil || n != len(all) {
			t.Fatalf("CheckPayments looked at %d of %d (%v)", n, len(all), err)
		}
		for _, c := range []struct {
			o  servertest.Order
			tx string
		}{{lost, txLost.TransactionID}, {held, txHeld.TransactionID}} {
			p := pm.paymentOf(t, c.o.ID)
			if st := servertest.OrderStatus(t, d, c.o.ID); st != "PAID" || p.Status != "PAID" || reference(t, d, c.o.ID) != c.tx || p.Late {
				t.Fatalf("paid before payBy, then: order %s, payment %+v", st, p)
			}
			if n := calls(pm.fake, http.MethodPost, closePath(c.o.Number), -1); n != 0 {
				t.Fatalf("a paid order's provider order was closed %d times", n)
			}
		}
		for _, o := range []servertest.Order{unpaid, flash, withCoupon} {
			p := pm.paymentOf(t, o.ID)
			if st := servertest.OrderStatus(t, d, o.ID); st != "EXPIRED" || p.Status != "CLOSED" || p.ClosedAt == nil {
				t.Fatalf("unpaid at payBy: order %s, payment %+v", st, p)
			}
			if n := calls(pm.fake, http.MethodPost, closePath(o.Number), http.StatusNoContent); n != 1 {
				t.Fatalf("provider order closed %d times", n)
			}
			tr, err := pm.wp.Pay.Client.Query(t.Context(), o.Number)
			if err != nil || tr.TradeState != "CLOSED" {
				t.Fatalf("the provider's order %+v (%v)", tr, err)
			}
			if _, err := pm.fake.Pay(o.Number); err == nil {
				t.Fatal("the payer could still pay an expired order")
			}
		}
		if got := servertest.StockOf(t, d, tea); got != stock+3+4 {
			t.Fatalf("stock %d, want %d", got, stock+3+4)
		}
		if got := d.Int(t, `SELECT sold FROM flash_sales WHERE id = ?`, sale); got != 0 {
			t.Fatalf("flash sale sold %d after its order expired", got)
		}
		if st, holder := servertest.CouponRow(t, d, coupons["40.00"]); st != "AVAILABLE" || holder != "" {
			t.Fatalf("coupon %s held by %q", st, holder)
		}
		if got := servertest.SoldOf(t, d, tea); got != 1+2 {
			t.Fatalf("sold %d", got)
		}
		if n, err := m.Server.Orders.CheckPayments(t.Context(), 100); err != nil || n != 0 {
			t.Fatalf("CheckPayments again looked at %d (%v)", n, err)
		}

		// The held notification, at last: nothing more happens.
		before := state(t, d)
		if err := pm.fake.Release(held.Number); err != nil {
			t.Fatal(err)
		}
		pm.fake.Wait()
		wantStatuses(t, pm.fake, held.Number, http.StatusNoContent)
		unchanged(t, d, before)

		// A payment reported for the expired order: refunded, the order stays EXPIRED.
		late := transaction(unpaid.Number, servertest.Fen(t, unpaid.Total), "4200000000000000000000099999")
		if code := pm.wp.Notify(t, late); code != http.StatusNoContent {
			t.Fatalf("a late payment's notification answered %d", code)
		}
		p := pm.paymentOf(t, unpaid.ID)
		if p.Status != "REFUNDING" || !p.Late || p.ProviderTransactionID == nil || *p.ProviderTransactionID != late.TransactionID ||
			p.OutRefundNo == nil || *p.OutRefundNo != payments.OutRefundNo(unpaid.Number) || p.RefundReason == nil {
			t.Fatalf("late payment %+v", p)
		}
		if n := calls(pm.fake, http.MethodPost, refundsPath, -1); n != 1 {
			t.Fatalf("%d refund requests for the late payment", n)
		}
		if st := servertest.OrderStatus(t, d, unpaid.ID); st != "EXPIRED" || servertest.StockOf(t, d, tea) != stock+3+4 || reference(t, d, unpaid.ID) != "" {
			t.Fatalf("the late payment moved its order: %s", st)
		}
		if got := event(t, m, "late"); got != 1 {
			t.Fatalf("%v late events", got)
		}
	})
}

// A payment that comes after its order was cancelled is answered 204 and
// refunded: the payment is REFUNDING, then REFUNDED with the refund's
// notification; the order stays CANCELLED, and its flash-sale units,
// given back at the cancellation, are never sold again by it.
func TestPaymentAfterCancelRefunded(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		pm := newPayMall(t, d, servertest.Options{NoWorkers: true})
		m := pm.Mall
		oil := m.NewProduct("79.90", 20)
		sale := m.NewFlashSale(oil, "1.00", 10, 2)
		buyer := m.Verified("买家")
		o := buyFlash(t, m, buyer.Token, sale, 2)
		pm.payOrder(t, buyer.Token, o.ID, "WECHAT_APP", "")
		servertest.MustOrder(t, m, buyer.Token, servertest.CancelOrderQ, map[string]any{"id": o.ID})
		flashUnits := func() (sold, held int) {
			return d.Int(t, `SELECT sold FROM flash_sales WHERE id = ?`, sale),
				d.Int(t, `SELECT COALESCE(SUM(units), 0) FROM flash_sale_holdings WHERE flash_sale_id = ?`, sale)
		}
		if sold, held := flashUnits(); sold != 0 || held != 0 {
			t.Fatalf("after the cancellation the sale has sold %d, held %d", sold, held)
		}
		closedAt := d.Int(t, `SELECT COUNT(*) FROM orders WHERE id = ? AND closed_at IS NOT NULL`, o.ID)

		tx, err := pm.fake.Pay(o.Number)
		if err != nil {
			t.Fatal(err)
		}
		pm.fake.Wait()
		wantStatuses(t, pm.fake, o.Number, http.StatusNoContent)
		p := pm.paymentOf(t, o.ID)
		if p.Status != "REFUNDING" || !p.Late || *p.ProviderTransactionID != tx.TransactionID || p.RefundID == nil ||
			p.OutRefundNo == nil || *p.OutRefundNo != payments.OutRefundNo(o.Number) {
			t.Fatalf("late payment %+v", p)
		}
		if n := calls(pm.fake, http.MethodPost, refundsPath, http.StatusOK); n != 1 {
			t.Fatalf("%d refunds accepted", n)
		}
		r, err := pm.wp.Pay.Client.QueryRefund(t.Context(), *p.OutRefundNo)
		if err != nil || r.OutTradeNo != o.Number || r.Amount.Refund != servertest.Fen(t, o.Total) || r.Status != "PROCESSING" {
			t.Fatalf("the provider's refund %+v (%v)", r, err)
		}
		check := func(when string) {
			t.Helper()
			if st := servertest.OrderStatus(t, d, o.ID); st != "CANCELLED" || reference(t, d, o.ID) != "" {
				t.Fatalf("%s: order %s, reference %q", when, st, reference(t, d, o.ID))
			}
			if sold, held := flashUnits(); sold != 0 || held != 0 || servertest.SoldOf(t, d, oil) != 0 {
				t.Fatalf("%s: the sale has sold %d, held %d; product sold %d", when, sold, held, servertest.SoldOf(t, d, oil))
			}
			if n := d.Int(t, `SELECT COUNT(*) FROM orders WHERE id = ? AND closed_at IS NOT NULL`, o.ID); n != closedAt {
				t.Fatalf("%s: closed_at changed", when)
			}
		}
		check("refunding")
		if err := pm.fake.CompleteRefund(*p.OutRefundNo); err != nil {
			t.Fatal(err)
		}
		pm.fake.Wait()
		wantStatuses(t, pm.fake, *p.OutRefundNo, http.StatusNoContent)
		status, ap := apiOrderPayment(t, m, buyer.Token, o.ID)
		if p := pm.paymentOf(t, o.ID); p.Status != "REFUNDED" || p.RefundedAt == nil || !p.Late || status != "CANCELLED" ||
			ap == nil || ap.Status != "REFUNDED" || ap.RefundedAt == nil {
			t.Fatalf("payment %+v; API %s %+v", p, status, ap)
		}
		check("refunded")
		if n := calls(pm.fake, http.MethodPost, refundsPath, -1); n != 1 {
			t.Fatalf("%d refund requests", n)
		}
		for ev, want := range map[string]float64{"late": 1, "refund_asked": 1, "refunded": 1, "paid": 0} {
			if got := event(t, m, ev); got != want {
				t.Errorf("%s events %v, want %v", ev, got, want)
			}
		}
		if got := notified(t, m, "payment", "late"); got != 1 {
			t.Errorf("late notifications %v", got)
		}
		// The worker has nothing left to do.
		pm.makeDue(t, o.ID)
		if n, err := m.Server.Orders.CheckPayments(t.Context(), 100); err != nil || n != 0 {
			t.Fatalf("CheckPayments looked at %d (%v)", n, err)
		}
	})
}

// An order paid by hand (confirmPayment, a bank transfer) while its
// WeChat payment was started: the worker closes the provider order and
// the payment, the order staying PAID; and if the payer pays by WeChat as
// well, that second payment is refunded, the order staying PAID (not
// REFUNDED) once the refund is confirmed.
func TestPaidByHandWhileStarted(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		pm := newPayMall(t, d, servertest.Options{NoWorkers: true})
		m := pm.Mall
		tea := m.NewProduct("12.00", 100)
		buyer := m.Verified("买家")

		t.Run("not paid by WeChat", func(t *testing.T) {
			o := pm.started(t, buyer.Token, tea, 1)
			servertest.Pay(t, m, o, "BANK-"+o.Number)
			if _, err := m.Server.Orders.CheckPayments(t.Context(), 100); err != nil {
				t.Fatal(err)
			}
			if st, p := servertest.OrderStatus(t, d, o.ID), pm.paymentOf(t, o.ID); st != "PAID" || p.Status != "CLOSED" || reference(t, d, o.ID) != "BANK-"+o.Number {
				t.Fatalf("order %s, payment %s", st, p.Status)
			}
			if n := calls(pm.fake, http.MethodPost, closePath(o.Number), http.StatusNoContent); n != 1 {
				t.Fatalf("%d closes", n)
			}
			// Its refund is by hand too: at once, nothing asked of WeChat Pay.
			if got := servertest.MustOrder(t, m, m.Admin, servertest.RefundOrderQ, refundVars(o.ID, "退货")); got.Status != "REFUNDED" {
				t.Fatalf("refundOrder: %s", got.Status)
			}
			if n := len(pm.sent.refundBodies(t, payments.OutRefundNo(o.Number))); n != 0 {
				t.Fatalf("%d refunds asked of WeChat Pay", n)
			}
		})

		t.Run("paid by WeChat too", func(t *testing.T) {
			o := pm.started(t, buyer.Token, tea, 1)
			servertest.Pay(t, m, o, "BANK-"+o.Number)
			sold := servertest.SoldOf(t, d, tea)
			if _, err := pm.fake.Pay(o.Number); err != nil {
				t.Fatal(err)
			}
			pm.fake.Wait()
			wantStatuses(t, pm.fake, o.Number, http.StatusNoContent)
			p := pm.paymentOf(t, o.ID)
			if st := servertest.OrderStatus(t, d, o.ID); st != "PAID" || p.Status != "REFUNDING" || !p.Late || reference(t, d, o.ID) != "BANK-"+o.Number {
				t.Fatalf("order %s, payment %+v", st, p)
			}
			if err := pm.fake.CompleteRefund(*p.OutRefundNo); err != nil {
				t.Fatal(err)
			}
			pm.fake.Wait()
			if st, p := servertest.OrderStatus(t, d, o.ID), pm.paymentOf(t, o.ID); st != "PAID" || p.Status != "REFUNDED" || servertest.SoldOf(t, d, tea) != sold {
				t.Fatalf("after the double payment's refund: order %s, payment %s, sold %d (was %d)", st, p.Status, servertest.SoldOf(t, d, tea), sold)
			}
		})
	})
}

// WeChat Pay says it has no such order (it answers so for a moment after
// a payment), so the worker closes it, and the close says it is paid: the
// worker asks again and applies the payment, here a late one (the order
// was cancelled), so it is refunded.
func TestCloseFindsItPaid(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		pm := newPayMall(t, d, servertest.Options{NoWorkers: true})
		m := pm.Mall
		tea := m.NewProduct("12.00", 100)
		buyer := m.Verified("买家")
		o := pm.started(t, buyer.Token, tea, 1)
		pm.fake.SetNotifyFault(o.Number, wechatpaytest.NotifyFault{Drop: true})
		tx, err := pm.fake.Pay(o.Number)
		if err != nil {
			t.Fatal(err)
		}
		servertest.MustOrder(t, m, buyer.Token, servertest.CancelOrderQ, map[string]any{"id": o.ID})
		pm.fake.FailNextWith(1, http.StatusNotFound, "ORDER_NOT_EXIST")
		if _, err := m.Server.Orders.CheckPayments(t.Context(), 100); err != nil {
			t.Fatal(err)
		}
		if n := calls(pm.fake, http.MethodPost, closePath(o.Number), http.StatusBadRequest); n != 1 {
			t.Fatalf("%d closes refused as paid", n)
		}
		p := pm.paymentOf(t, o.ID)
		if p.Status != "REFUNDING" || !p.Late || *p.ProviderTransactionID != tx.TransactionID || p.RefundID == nil {
			t.Fatalf("payment %+v", p)
		}
		if st := servertest.OrderStatus(t, d, o.ID); st != "CANCELLED" {
			t.Fatalf("order %s", st)
		}
	})
}

// An admin confirms by hand (confirmPayment) an order whose WeChat
// notification was lost, with the payer's WeChat transaction id as the
// reference: that is the order's one payment, so the worker's query must
// record it as PAID, not refund it as a second payment of a paid order.
func TestConfirmedByHandWithTheTransactionID(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		pm := newPayMall(t, d, servertest.Options{NoWorkers: true})
		m := pm.Mall
		tea := m.NewProduct("12.00", 100)
		buyer := m.Verified("买家")
		// The notification is lost; an admin, shown the payer's WeChat
		// receipt, confirms the order with its transaction id. That is
		// the one payment, not a second one to refund.
		o := pm.started(t, buyer.Token, tea, 1)
		pm.fake.SetNotifyFault(o.Number, wechatpaytest.NotifyFault{Drop: true})
		tx, err := pm.fake.Pay(o.Number)
		if err != nil {
			t.Fatal(err)
		}
		servertest.Pay(t, m, o, tx.TransactionID)
		if _, err := m.Server.Orders.CheckPayments(t.Context(), 100); err != nil {
			t.Fatal(err)
		}
		p := pm.paymentOf(t, o.ID)
		if st := servertest.OrderStatus(t, d, o.ID); st != "PAID" || p.Status != "PAID" || p.Late {
			t.Errorf("order %s kept, its only payment %s (late %v): the payer's money is being returned for a paid order", st, p.Status, p.Late)
		}
		if n := len(pm.sent.refundBodies(t, payments.OutRefundNo(o.Number))); n != 0 {
			t.Errorf("%d refunds asked of WeChat Pay for the order's only payment", n)
		}
	})
}

// An order paid by hand and then by WeChat as well: the WeChat payment is
// being refunded (late) when an admin refunds the order. The order's own
// payment (by hand) must be refunded: refundOrder makes it REFUNDED, at
// once or once the late refund is confirmed, never leaves it PAID.
func TestRefundOrderWhileALatePaymentRefunds(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		pm := newPayMall(t, d, servertest.Options{NoWorkers: true})
		m := pm.Mall
		tea := m.NewProduct("12.00", 100)
		buyer := m.Verified("买家")
		o := pm.started(t, buyer.Token, tea, 1)
		servertest.Pay(t, m, o, "BANK-"+o.Number)
		if _, err := pm.fake.Pay(o.Number); err != nil {
			t.Fatal(err)
		}
		pm.fake.Wait()
		if p := pm.paymentOf(t, o.ID); p.Status != "REFUNDING" || !p.Late {
			t.Fatalf("fixture: payment %+v", p)
		}
		r := m.Do(m.Admin, servertest.RefundOrderQ, refundVars(o.ID, "退货"))
		var answered struct{ RefundOrder *struct{ Status string } }
		r.Decode(t, &answered)
		if err := pm.fake.CompleteRefund(payments.OutRefundNo(o.Number)); err != nil {
			t.Fatal(err)
		}
		pm.fake.Wait()
		if st := servertest.OrderStatus(t, d, o.ID); st != "REFUNDED" {
			t.Fatalf("refundOrder answered %+v (errors %+v); after the late refund was confirmed the order is %s: the admin's refund was dropped", answered.RefundOrder, r.Errors, st)
		}
	})
}

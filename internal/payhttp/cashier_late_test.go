package payhttp_test

// A click on the sandbox cashier for an order that is no longer payable:
// "a payment arriving for an order that is no longer payable is refunded
// automatically and recorded" (orders.Settle, outcome Late).

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// waitOverdue waits until the order's payBy has passed by the local clock
// and, on PostgreSQL, by the database's (the one Settle reads).
func waitOverdue(t *testing.T, d *testdb.DB, o servertest.Order) {
	t.Helper()
	payBy := servertest.ParseTime(t, *o.PayBy)
	time.Sleep(time.Until(payBy) + 10*time.Millisecond)
	if d.Name != "postgres" {
		return
	}
	for d.Int(t, `SELECT COUNT(*) FROM orders WHERE id = ? AND pay_by <= clock_timestamp()`, o.ID) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
}

// metric reads one counter of the server's /metrics (0 when absent).
func metric(t *testing.T, m *servertest.Mall, series string) int {
	t.Helper()
	p := fetch(t, http.MethodGet, m.HTTP.URL+"/metrics")
	if p.Status != http.StatusOK {
		t.Fatalf("/metrics: %d", p.Status)
	}
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\d+)$`)
	if v := re.FindStringSubmatch(p.Body); v != nil {
		n, _ := strconv.Atoi(v[1])
		return n
	}
	return 0
}

const (
	lateSeries   = `mall_payments_total{event="late"}`
	closedText   = "订单已关闭，款项已退回 Closed; the payment was refunded"
	overdueText  = "已超过支付期限 The payment window has closed"
	paidElseText = "订单已通过其他方式支付，本次付款已退回 Paid otherwise; this payment was refunded"
)

func TestCashierLate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		// Two malls on one database: one whose orders are due in a second,
		// one whose orders stay payable for the test.
		late := newShop(t, d, servertest.Options{PaymentWindow: time.Second})
		sh := &shop{m: servertest.Start(t, d, servertest.Options{PaymentSandbox: true, NoWorkers: true}), d: d, buyer: late.buyer,
			tea: late.tea, honey: late.honey, coupons: late.coupons}
		t.Run("the refunded order expires", func(t *testing.T) {
			stock := servertest.StockOf(t, d, late.tea)
			o := late.order(t, "40.00")
			u := startPay(t, late.m, late.buyer.Token, o.ID, "SANDBOX")
			waitOverdue(t, d, o)
			pay(t, u)
			if got := servertest.OrderStatus(t, d, o.ID); got != "PENDING_PAYMENT" {
				t.Fatalf("order %s right after the late click, want PENDING_PAYMENT", got)
			}
			if n, err := late.m.Server.Orders.ExpireDue(ctx, 100); err != nil || n != 1 {
				t.Fatalf("ExpireDue: %d, %v; want this order, the only one due", n, err)
			}
			if got := servertest.OrderStatus(t, d, o.ID); got != "EXPIRED" {
				t.Fatalf("order %s, want EXPIRED", got)
			}
			if st, holder := servertest.CouponRow(t, d, late.coupons["40.00"]); st != "AVAILABLE" || holder != "" {
				t.Errorf("coupon %s held by %q, want AVAILABLE again", st, holder)
			}
			if got := servertest.StockOf(t, d, late.tea); got != stock {
				t.Errorf("stock %d, want %d (the units back)", got, stock)
			}
			if p := paymentOf(t, d, o.ID); p.Status != "REFUNDED" || !p.Late {
				t.Errorf("payment %+v", p)
			}
		})
		// A provider takes nothing for a closed provider order; nor does
		// the sandbox.
		t.Run("expired, the provider order closed", func(t *testing.T) {
			o := late.order(t, "")
			u := startPay(t, late.m, late.buyer.Token, o.ID, "SANDBOX")
			waitOverdue(t, d, o)
			if _, err := late.m.Server.Orders.CheckPayments(ctx, 100); err != nil {
				t.Fatal(err)
			}
			if p := paymentOf(t, d, o.ID); p.Status != "CLOSED" || servertest.OrderStatus(t, d, o.ID) != "EXPIRED" {
				t.Fatalf("payment %s, order %s after CheckPayments; want CLOSED, EXPIRED", p.Status, servertest.OrderStatus(t, d, o.ID))
			}
			if v := fetch(t, http.MethodGet, u).view(t); v.Button || v.Text != "订单已关闭 Closed (EXPIRED)" {
				t.Errorf("page %+v, want closed and no button", v)
			}
			before := servertest.OrderState(t, d)
			if got := fetch(t, http.MethodPost, u); got.Status != http.StatusConflict {
				t.Fatalf("POST to a closed payment: %d, want 409", got.Status)
			}
			servertest.Unchanged(t, d, before)
			if p := paymentOf(t, d, o.ID); p.Status != "CLOSED" || p.Paid {
				t.Errorf("payment %+v after the refused click, want CLOSED, unpaid", p)
			}
		})
		for _, c := range []struct {
			name string
			on   *shop
			// close makes the order unpayable after payOrder.
			close      func(t *testing.T, o servertest.Order)
			status     string // the order's, before and after the click
			pageBefore string // the status line before the click
			pageAfter  string
		}{
			{"after payBy, not yet expired", late, func(t *testing.T, o servertest.Order) { waitOverdue(t, d, o) },
				"PENDING_PAYMENT", overdueText, closedText},
			{"cancelled by the buyer", sh, func(t *testing.T, o servertest.Order) {
				servertest.MustOrder(t, sh.m, sh.buyer.Token, servertest.CancelOrderQ, map[string]any{"id": o.ID})
			}, "CANCELLED", "订单已关闭 Closed (CANCELLED)", closedText},
			{"paid by hand", sh, func(t *testing.T, o servertest.Order) { servertest.Pay(t, sh.m, o, "BANK-"+o.Number) },
				"PAID", "支付成功 Paid", paidElseText},
		} {
			t.Run(c.name, func(t *testing.T) {
				o := c.on.order(t, "")
				u := startPay(t, c.on.m, c.on.buyer.Token, o.ID, "SANDBOX")
				c.close(t, o)
				if got := servertest.OrderStatus(t, d, o.ID); got != c.status {
					t.Fatalf("order %s before the click, want %s", got, c.status)
				}
				if v := fetch(t, http.MethodGet, u).view(t); v.Button || v.Text != c.pageBefore {
					t.Errorf("page before the click %+v, want %q and no button", v, c.pageBefore)
				}
				lateBefore := metric(t, c.on.m, lateSeries)
				before := servertest.OrderState(t, d)

				pay(t, u) // a page opened while the order was payable

				// The order, its lines, coupon and counts: untouched.
				servertest.Unchanged(t, d, before)
				p := paymentOf(t, d, o.ID)
				if p.Status != "REFUNDED" || !p.Late || p.Transaction != "SANDBOX"+o.Number || !p.Paid || !p.Refunded ||
					p.OutRefundNo != o.Number+"R" || p.RefundID != "SANDBOX-"+o.Number+"R" || p.RefundReason == "" {
					t.Errorf("payment %+v, want REFUNDED, late, with its transaction, refund and reason", p)
				}
				if n := metric(t, c.on.m, lateSeries); n != lateBefore+1 {
					t.Errorf("%s went from %d to %d, want one more", lateSeries, lateBefore, n)
				}
				if v := fetch(t, http.MethodGet, u).view(t); v.Button || v.Text != c.pageAfter {
					t.Errorf("page after the click %+v, want %q and no button", v, c.pageAfter)
				}
				all := state(t, d)
				pay(t, u)
				servertest.SameRows(t, "a second late click changed rows", all, state(t, d))
			})
		}

	})
}

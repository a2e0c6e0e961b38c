package reconcile_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"unionmall/ent/order"
	"unionmall/ent/payment"
	"unionmall/internal/money"
	"unionmall/internal/reconcile"
	"unionmall/internal/wechatpay"
)

var day = time.Date(2026, 3, 14, 0, 0, 0, 0, wechatpay.China)

func paidRow(no string, total money.Fen) wechatpay.BillRow {
	return wechatpay.BillRow{Time: day.Add(9 * time.Hour), MchID: "1900000001", TransactionID: "TX-" + no, OutTradeNo: no,
		TradeType: "JSAPI", TradeState: "SUCCESS", Currency: "CNY", Settlement: total, Total: total}
}

func refundRow(no string, refund money.Fen) wechatpay.BillRow {
	return wechatpay.BillRow{Time: day.Add(15 * time.Hour), MchID: "1900000001", TransactionID: "TX-" + no, OutTradeNo: no,
		TradeType: "JSAPI", TradeState: "REFUND", Currency: "CNY", RefundID: "RID-" + no, OutRefundNo: "R" + no,
		Refund: refund, RefundAsked: refund, RefundType: "ORIGINAL", RefundStatus: "SUCCESS"}
}

// paid is a payment of the day.
func paid(no string, amount money.Fen) reconcile.Record {
	return reconcile.Record{OutTradeNo: no, OrderStatus: order.StatusPAID, OrderTotal: amount, Channel: payment.ChannelWECHAT_JSAPI,
		Status: payment.StatusPAID, Amount: amount, TransactionID: "TX-" + no, PaidAt: day.Add(9 * time.Hour), PaidInDay: true}
}

// refunded is a payment of the day before, refunded on the day.
func refunded(no string, amount money.Fen) reconcile.Record {
	r := paid(no, amount)
	r.PaidAt, r.PaidInDay = day.Add(-time.Hour), false
	r.Status, r.OrderStatus = payment.StatusREFUNDED, order.StatusREFUNDED
	r.OutRefundNo, r.RefundID, r.RefundedAt, r.RefundedInDay = "R"+no, "RID-"+no, day.Add(15*time.Hour), true
	return r
}

func with[T any](v T, edit func(*T)) T { edit(&v); return v }

// One bill and one day's records holding every kind of difference, beside
// rows and records that agree.
func TestCompare(t *testing.T) {
	rows := []wechatpay.BillRow{
		paidRow("A", 100), // agrees
		paidRow("B", 100), // no payment here
		paidRow("X", 100), // the mall closed it
		paidRow("D", 101),
		with(paidRow("E", 100), func(r *wechatpay.BillRow) { r.TransactionID = "TX-OTHER" }),
		paidRow("A", 100),   // A's row again
		refundRow("F", 100), // agrees: paid the day before, refunded this day
		refundRow("G", 100), // no refund here
		refundRow("I", 50),
		with(refundRow("J", 100), func(r *wechatpay.BillRow) { r.RefundID = "RID-OTHER" }),
		with(refundRow("K", 100), func(r *wechatpay.BillRow) { r.RefundStatus = "PROCESSING" }),
		with(paidRow("L", 100), func(r *wechatpay.BillRow) { r.TradeState = "REVOKED" }),
		with(refundRow("M", 100), func(r *wechatpay.BillRow) { r.OutTradeNo = "A" }), // RM is M's refund, not A's
	}
	recs := []reconcile.Record{
		paid("A", 100),
		with(paid("X", 100), func(r *reconcile.Record) { r.Status, r.PaidInDay = payment.StatusCLOSED, false }),
		paid("C", 100), // no row there
		paid("D", 100),
		paid("E", 100),
		refunded("F", 100),
		refunded("H", 100), // no row there
		refunded("I", 100),
		refunded("J", 100),
		refunded("K", 100),
		refunded("M", 100),
	}
	bill := &wechatpay.Bill{Rows: rows, Summary: wechatpay.Summarize(rows)}
	rep := reconcile.Compare(bill, recs)
	for _, want := range []struct {
		kind                    reconcile.Kind
		outTradeNo, outRefundNo string
		wechat, mall            string
	}{
		{reconcile.PaidThereNotHere, "B", "", "1.00 TX-B", "-"},
		{reconcile.PaidThereNotHere, "X", "", "1.00 TX-X", "CLOSED 1.00 TX-X (order PAID)"},
		{reconcile.PaidHereNotThere, "C", "", "-", "PAID 1.00 TX-C (order PAID)"},
		{reconcile.AmountDiffers, "D", "", "1.01", "1.00"},
		{reconcile.TransactionDiffers, "E", "", "TX-OTHER", "TX-E"},
		{reconcile.RefundThereNotHere, "G", "RG", "1.00 RID-G SUCCESS", "-"},
		{reconcile.RefundHereNotThere, "H", "RH", "-", "REFUNDED 1.00 RID-H, refunded 2026-03-14 15:00:00"},
		{reconcile.RefundAmountDiffers, "I", "RI", "0.50", "1.00"},
		{reconcile.RefundIDDiffers, "A", "RM", "RID-M of A", "RID-M of M"},
		{reconcile.RefundIDDiffers, "J", "RJ", "RID-OTHER of J", "RID-J of J"},
		{reconcile.RefundStatusDiffers, "K", "RK", "PROCESSING", "REFUNDED"},
		{reconcile.RepeatedThere, "A", "", "1.00 TX-A", "-"},
		{reconcile.UnknownThere, "L", "", "REVOKED 1.00 TX-L", "-"},
	} {
		t.Run(fmt.Sprintf("%s %s%s", want.kind, want.outTradeNo, want.outRefundNo), func(t *testing.T) {
			for _, d := range rep.Differences {
				if d.Kind == want.kind && d.OutTradeNo == want.outTradeNo && d.OutRefundNo == want.outRefundNo {
					if d.WeChat != want.wechat || d.Mall != want.mall {
						t.Errorf("WeChat %q, mall %q; want %q, %q", d.WeChat, d.Mall, want.wechat, want.mall)
					}
					return
				}
			}
			t.Errorf("not reported:\n%s", rep)
		})
	}
	if len(rep.Differences) != 13 || rep.OK() {
		t.Errorf("%d differences, want 13:\n%s", len(rep.Differences), rep)
	}
	if rep.Payments != 6 || rep.Refunds != 6 || rep.Others != 1 || rep.Records != len(recs) {
		t.Errorf("counts %+v", rep)
	}
	text := rep.String()
	t.Log("\n" + text)
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 2+13 || !strings.HasPrefix(lines[1], "KIND") || !strings.Contains(lines[2], "paid there, not here") {
		t.Errorf("the table:\n%s", text)
	}
	// The columns line up.
	at := strings.Index(lines[1], "OUT_REFUND_NO")
	for _, l := range lines[2:] {
		if l[at-2:at] != "  " {
			t.Errorf("misaligned: %q", l)
		}
	}
}

func TestCompareAgreeing(t *testing.T) {
	for _, tc := range []struct {
		name string
		rows []wechatpay.BillRow
		recs []reconcile.Record
	}{
		{"nothing", nil, nil},
		{"a payment", []wechatpay.BillRow{paidRow("A", 100)}, []reconcile.Record{paid("A", 100)}},
		{"a payment refunded the same day", []wechatpay.BillRow{paidRow("A", 100), refundRow("A", 100)},
			[]reconcile.Record{with(refunded("A", 100), func(r *reconcile.Record) { r.PaidInDay = true })}},
		{"a refund of the day before's payment", []wechatpay.BillRow{refundRow("A", 100)}, []reconcile.Record{refunded("A", 100)}},
		{"a refund asked, not yet done", []wechatpay.BillRow{paidRow("A", 100)},
			[]reconcile.Record{with(paid("A", 100), func(r *reconcile.Record) { r.Status, r.OutRefundNo = payment.StatusREFUNDING, "RA" })}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := reconcile.Compare(&wechatpay.Bill{Rows: tc.rows}, tc.recs)
			if !rep.OK() {
				t.Fatalf("differences:\n%s", rep)
			}
			if !strings.HasSuffix(rep.String(), "; 0 differences\n") {
				t.Errorf("report %q", rep)
			}
		})
	}
}

package chaos

import (
	"context"
	"slices"
	"strings"
	"testing"

	"unionmall/internal/testdb"
	"unionmall/internal/wechatpay"
)

// handMadeBill is WeChat Pay's side of handMadeRows' payments: T2, T5
// and T6 collected, T5 (late) and T6 refunded.
func handMadeBill() []wechatpay.BillRow {
	pay := func(tx, no string) wechatpay.BillRow {
		return wechatpay.BillRow{TransactionID: tx, OutTradeNo: no, TradeState: "SUCCESS", Total: 100}
	}
	refund := func(tx, no, refundNo string) wechatpay.BillRow {
		return wechatpay.BillRow{TransactionID: tx, OutTradeNo: no, TradeState: "REFUND", OutRefundNo: refundNo, Refund: 100}
	}
	return []wechatpay.BillRow{pay("T2", "N2"), pay("T5", "N5"), pay("T6", "N6"), refund("T5", "N5", "N5R"), refund("T6", "N6", "N6R")}
}

// Each case changes the bill (or the rows) once; exactly the provider
// checks named must fail, each naming the row.
func TestAuditProviderFindsEachDifference(t *testing.T) {
	const paidCheck, refundCheck = "provider: every payment", "provider: every REFUNDED"
	cases := []struct {
		name   string
		bill   func([]wechatpay.BillRow) []wechatpay.BillRow
		breaks []string
		want   map[string]string
	}{
		{name: "consistent"},
		{name: "collected, no mall payment", bill: func(r []wechatpay.BillRow) []wechatpay.BillRow {
			return append(r, wechatpay.BillRow{TransactionID: "T9", OutTradeNo: "N1", TradeState: "SUCCESS", Total: 100})
		}, want: map[string]string{paidCheck: "transaction T9 (out_trade_no N1, 1.00 collected): 0 mall payments hold it (its out_trade_no's is payment=pay1"}},
		{name: "collected another amount", bill: func(r []wechatpay.BillRow) []wechatpay.BillRow {
			r[0].Total = 200
			return r
		}, want: map[string]string{paidCheck: "transaction T2 (out_trade_no N2, 2.00 collected): held by payment=pay2"}},
		{name: "paid in the mall, never collected", bill: func(r []wechatpay.BillRow) []wechatpay.BillRow { return r[1:] },
			want: map[string]string{paidCheck: "WeChat Pay never collected what payment=pay2"}},
		{name: "refunded in the mall, not by WeChat Pay", bill: func(r []wechatpay.BillRow) []wechatpay.BillRow { return r[:4] },
			want: map[string]string{refundCheck: "payment=pay6 order_id=o6 out_trade_no=N6 status=REFUNDED"}},
		{name: "refunded by WeChat Pay, the mall's payment PAID", bill: func(r []wechatpay.BillRow) []wechatpay.BillRow {
			return append(r, wechatpay.BillRow{TransactionID: "T2", OutTradeNo: "N2", TradeState: "REFUND", OutRefundNo: "N2R", Refund: 100})
		}, want: map[string]string{refundCheck: "WeChat Pay refunded out_refund_no N2R"}},
		{name: "a collected payment's order expired", breaks: []string{`UPDATE orders SET status = 'EXPIRED' WHERE id = 'o2'`},
			want: map[string]string{paidCheck: "transaction T2 (out_trade_no N2, 1.00 collected): payment=pay2 order_id=o2 out_trade_no=N2 status=PAID late=false"}},
	}
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					d := testdb.OpenEmpty(t, kind)
					handMade(t, d)
					for _, stmt := range c.breaks {
						if _, err := d.Pool.Exec(stmt); err != nil {
							t.Fatalf("%s: %v", stmt, err)
						}
					}
					rows := handMadeBill()
					if c.bill != nil {
						rows = c.bill(rows)
					}
					checks := AuditProvider(context.Background(), d.Pool, []*wechatpay.Bill{{Rows: rows}})
					for _, ch := range checks {
						word, want := "", false
						for prefix, w := range c.want {
							if strings.HasPrefix(ch.Name, prefix) {
								word, want = w, true
							}
						}
						switch {
						case want && !slices.ContainsFunc(ch.Violations, func(v string) bool { return strings.Contains(v, word) }):
							t.Errorf("%s: violations %q, want one with %q", ch.Name, ch.Violations, word)
						case !want && !ch.OK():
							t.Errorf("%s: unexpected violations %q", ch.Name, ch.Violations)
						}
					}
				})
			}
		})
	}
}

package chaos

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"time"

	"unionmall/internal/money"
	"unionmall/internal/wechatpay"
	"unionmall/internal/wechatpay/wechatpaytest"
)

// mallPayment is a payments row with its order.
type mallPayment struct {
	id, order, outTradeNo, status, tx, refundNo, orderStatus, reference string
	amount                                                              money.Fen
	late                                                                bool
}

func (m mallPayment) String() string {
	return fmt.Sprintf("payment=%s order_id=%s out_trade_no=%s status=%s late=%t amount=%s transaction=%s order_status=%s payment_reference=%s",
		m.id, m.order, m.outTradeNo, m.status, m.late, m.amount, m.tx, m.orderStatus, m.reference)
}

func loadPayments(ctx context.Context, db *sql.DB) ([]mallPayment, error) {
	var out []mallPayment
	err := scan(ctx, db, `SELECT p.id, p.order_id, p.out_trade_no, p.status, p.provider_transaction_id, p.out_refund_no,
			o.status, o.payment_reference, p.amount, CASE WHEN p.late THEN 1 ELSE 0 END
		FROM payments p JOIN orders o ON o.id = p.order_id ORDER BY p.order_id`,
		func(_ []string, v []sql.NullString) {
			amount, _ := strconv.ParseInt(v[8].String, 10, 64)
			out = append(out, mallPayment{id: v[0].String, order: v[1].String, outTradeNo: v[2].String, status: v[3].String,
				tx: v[4].String, refundNo: v[5].String, orderStatus: v[6].String, reference: v[7].String,
				amount: money.Fen(amount), late: v[9].String == "1"})
		})
	return out, err
}

// agrees reports whether a payment WeChat Pay collected stands as its
// order says: kept with the order paid by it, refunded with the order
// refunded, or (late) refunded with the order closed or paid otherwise.
func (m mallPayment) agrees() bool {
	paid := m.orderStatus == "PAID" || m.orderStatus == "SHIPPED" || m.orderStatus == "COMPLETED"
	switch {
	case m.late:
		return (m.status == "REFUNDING" || m.status == "REFUNDED") &&
			(m.orderStatus == "EXPIRED" || m.orderStatus == "CANCELLED" || (m.reference != "" && m.reference != m.tx))
	case m.status == "PAID", m.status == "REFUNDING":
		return paid && m.reference == m.tx
	case m.status == "REFUNDED":
		return m.orderStatus == "REFUNDED" && m.reference == m.tx
	}
	return false
}

// Bills are the fake's trade bills of the China days from since to now.
func Bills(fake *wechatpaytest.Server, since time.Time) []*wechatpay.Bill {
	day := func(t time.Time) string { return t.In(wechatpay.China).Format(time.DateOnly) }
	var out []*wechatpay.Bill
	for d, last := since, day(time.Now()); ; d = d.Add(24 * time.Hour) {
		out = append(out, fake.Bill(d))
		if day(d) >= last {
			return out
		}
	}
}

// AuditProvider compares the mall's payments with what WeChat Pay
// collected and refunded, as its trade bills say: a SUCCESS row for each
// payment (refunded since or not), a REFUND row for each refund done.
func AuditProvider(ctx context.Context, db *sql.DB, bills []*wechatpay.Bill) []Check {
	paid := Check{Name: "provider: every payment WeChat Pay collected is one mall payment of its amount, kept or refunded as its order says, and back"}
	refunded := Check{Name: "provider: every REFUNDED payment is one WeChat Pay refund of its amount, and back"}
	pms, err := loadPayments(ctx, db)
	if err != nil {
		paid.Violations = []string{"cannot check: " + err.Error()}
		refunded.Violations = paid.Violations
		return []Check{paid, refunded}
	}
	byTx, byNo, byRefund := map[string][]mallPayment{}, map[string]mallPayment{}, map[string]mallPayment{}
	for _, m := range pms {
		byNo[m.outTradeNo] = m
		if m.tx != "" {
			byTx[m.tx] = append(byTx[m.tx], m)
		}
		if m.refundNo != "" {
			byRefund[m.refundNo] = m
		}
	}
	collected, refunds := map[string]wechatpay.BillRow{}, map[string][]wechatpay.BillRow{}
	refundsOf := map[string]int{} // by out_trade_no
	for _, b := range bills {
		for _, r := range b.Rows {
			switch r.TradeState {
			case "SUCCESS":
				if _, twice := collected[r.TransactionID]; twice {
					paid.Violations = append(paid.Violations, fmt.Sprintf("WeChat Pay's bills have transaction %s twice", r.TransactionID))
				}
				collected[r.TransactionID] = r
			case "REFUND":
				refunds[r.OutRefundNo] = append(refunds[r.OutRefundNo], r)
				refundsOf[r.OutTradeNo]++
			}
		}
	}
	txs := sortedKeys(collected)
	for _, tx := range txs {
		r := collected[tx]
		row := fmt.Sprintf("transaction %s (out_trade_no %s, %s collected)", tx, r.OutTradeNo, r.Total)
		ms := byTx[tx]
		switch {
		case len(ms) != 1:
			mall := "none"
			if m, ok := byNo[r.OutTradeNo]; ok {
				mall = "its out_trade_no's is " + m.String()
			}
			paid.Violations = append(paid.Violations, fmt.Sprintf("%s: %d mall payments hold it (%s)", row, len(ms), mall))
		case ms[0].outTradeNo != r.OutTradeNo || ms[0].amount != r.Total:
			paid.Violations = append(paid.Violations, fmt.Sprintf("%s: held by %s", row, ms[0]))
		case !ms[0].agrees():
			paid.Violations = append(paid.Violations, fmt.Sprintf("%s: %s", row, ms[0]))
		}
	}
	held := 0
	for _, m := range pms {
		if m.tx == "" {
			continue
		}
		held++
		if _, ok := collected[m.tx]; !ok {
			paid.Violations = append(paid.Violations, fmt.Sprintf("WeChat Pay never collected what %s holds", m))
		}
	}
	paid.Figures = fmt.Sprintf("%d payments collected by WeChat Pay; %d mall payments hold a transaction", len(collected), held)

	done := 0
	for _, m := range pms {
		if m.status != "REFUNDED" {
			continue
		}
		done++
		rs := refunds[m.refundNo]
		if len(rs) != 1 || rs[0].Refund != m.amount || rs[0].OutTradeNo != m.outTradeNo || rs[0].TransactionID != m.tx {
			refunded.Violations = append(refunded.Violations, fmt.Sprintf("%s out_refund_no=%s: WeChat Pay's refunds of it %s",
				m, m.refundNo, refundRows(rs)))
		}
	}
	for _, no := range sortedKeys(refunds) {
		if m, ok := byRefund[no]; !ok || m.status != "REFUNDED" {
			mall := "none"
			if ok {
				mall = m.String()
			}
			refunded.Violations = append(refunded.Violations, fmt.Sprintf("WeChat Pay refunded out_refund_no %s (%s); the mall's payment: %s",
				no, refundRows(refunds[no]), mall))
		}
	}
	for _, no := range sortedKeys(refundsOf) {
		if refundsOf[no] > 1 {
			refunded.Violations = append(refunded.Violations, fmt.Sprintf("WeChat Pay refunded out_trade_no %s %d times", no, refundsOf[no]))
		}
	}
	refunded.Figures = fmt.Sprintf("%d refunds made by WeChat Pay; %d payments REFUNDED", len(refunds), done)
	return []Check{paid, refunded}
}

func refundRows(rs []wechatpay.BillRow) string {
	if len(rs) == 0 {
		return "none"
	}
	out := ""
	for i, r := range rs {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("[%s of out_trade_no %s, transaction %s]", r.Refund, r.OutTradeNo, r.TransactionID)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Package reconcile compares a day's WeChat Pay trade bill (对账单,
// wechatpay.ParseTradeBill) with what the mall recorded that day, and
// reports every difference: payments or refunds on one side only, and
// amounts, transaction ids, refund ids or refund states that differ.
//
// "There" is the bill, "here" the mall. A payment is compared by its
// out_trade_no (the order's number) and its 订单金额, the amount the mall
// asked for; a refund by its out_refund_no and its 申请退款金额. The mall
// refunds a payment whole, so a refund's amount here is the payment's.
package reconcile

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"unionmall/ent"
	"unionmall/ent/order"
	"unionmall/ent/payment"
	"unionmall/internal/money"
	"unionmall/internal/wechatpay"
)

// Record is one of the mall's payments through WeChat Pay, as Load reads
// it for a day.
type Record struct {
	OutTradeNo    string // the order's number
	OrderStatus   order.Status
	OrderTotal    money.Fen
	Channel       payment.Channel
	Status        payment.Status
	Amount        money.Fen
	TransactionID string    // "" until paid
	PaidAt        time.Time // zero until paid
	OutRefundNo   string    // "" until a refund is asked
	RefundID      string
	RefundedAt    time.Time // zero until refunded

	// The day's bill should have its payment's row: paid that day, and
	// PAID, REFUNDING or REFUNDED.
	PaidInDay bool
	// The day's bill should have its refund's row: REFUNDED that day.
	RefundedInDay bool
}

// Load reads the payments of the WeChat channels (WECHAT_JSAPI,
// WECHAT_APP; not SANDBOX) paid or refunded on the day that day falls in,
// in loc (nil: China time, the bill's day), with their orders.
func Load(ctx context.Context, client *ent.Client, day time.Time, loc *time.Location) ([]Record, error) {
	if loc == nil {
		loc = wechatpay.China
	}
	y, m, d := day.In(loc).Date()
	start, end := time.Date(y, m, d, 0, 0, 0, 0, loc), time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	in := func(t *time.Time) bool { return t != nil && !t.Before(start) && t.Before(end) }
	ps, err := client.Payment.Query().
		Where(payment.ChannelIn(payment.ChannelWECHAT_JSAPI, payment.ChannelWECHAT_APP),
			payment.Or(
				payment.And(payment.PaidAtGTE(start.UTC()), payment.PaidAtLT(end.UTC())),
				payment.And(payment.RefundedAtGTE(start.UTC()), payment.RefundedAtLT(end.UTC())))).
		WithOrder().
		Order(payment.ByOutTradeNo()).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("reconcile: the payments of %s: %w", start.Format(time.DateOnly), err)
	}
	recs := make([]Record, 0, len(ps))
	for _, p := range ps {
		o := p.Edges.Order
		if o == nil {
			return nil, fmt.Errorf("reconcile: payment %s has no order", p.ID)
		}
		r := Record{OutTradeNo: p.OutTradeNo, OrderStatus: o.Status, OrderTotal: o.Total, Channel: p.Channel,
			Status: p.Status, Amount: p.Amount, TransactionID: deref(p.ProviderTransactionID),
			OutRefundNo: deref(p.OutRefundNo), RefundID: deref(p.RefundID),
			PaidInDay:     in(p.PaidAt) && p.Status != payment.StatusPENDING && p.Status != payment.StatusCLOSED,
			RefundedInDay: in(p.RefundedAt) && p.Status == payment.StatusREFUNDED}
		if p.PaidAt != nil {
			r.PaidAt = *p.PaidAt
		}
		if p.RefundedAt != nil {
			r.RefundedAt = *p.RefundedAt
		}
		recs = append(recs, r)
	}
	return recs, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Kind is a kind of difference.
type Kind int

// The kinds of difference, in the order a Report lists them.
const (
	PaidThereNotHere    Kind = iota + 1 // a SUCCESS row the mall has no payment that day for
	PaidHereNotThere                    // a payment of the day the bill has no SUCCESS row for
	AmountDiffers                       // the row's 订单金额 is not the payment's amount
	TransactionDiffers                  // the row's 微信订单号 is not the payment's transaction id
	RefundThereNotHere                  // a REFUND row the mall has no refund that day for
	RefundHereNotThere                  // a refund of the day the bill has no REFUND row for
	RefundAmountDiffers                 // the row's 申请退款金额 is not what the mall refunded
	RefundIDDiffers                     // the row's 微信退款单号 or order is not the refund's
	RefundStatusDiffers                 // the row's 退款状态 is not SUCCESS, yet the mall's is REFUNDED
	RepeatedThere                       // a second row of the same payment or refund
	UnknownThere                        // a row that is neither payment nor refund (REVOKED)
)

func (k Kind) String() string {
	names := [...]string{"?", "paid there, not here", "paid here, not there", "amounts differ", "transaction ids differ",
		"refund there, not here", "refund here, not there", "refund amounts differ", "refund ids differ",
		"refund states differ", "repeated there", "unknown there"}
	if k < 0 || int(k) >= len(names) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return names[k]
}

// Difference is one difference: what the bill (WeChat) and the mall say.
type Difference struct {
	Kind        Kind
	OutTradeNo  string
	OutRefundNo string // refunds only
	WeChat      string // "-": nothing
	Mall        string
}

// Report is what Compare found.
type Report struct {
	Payments, Refunds, Others int // the bill's rows
	Records                   int
	Differences               []Difference
}

// OK reports whether the bill and the records agree.
func (r Report) OK() bool { return len(r.Differences) == 0 }

// String is the report as a plain text table.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "trade bill: %d payments, %d refunds, %d other rows; mall: %d records; %d differences\n",
		r.Payments, r.Refunds, r.Others, r.Records, len(r.Differences))
	if r.OK() {
		return b.String()
	}
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "KIND\tOUT_TRADE_NO\tOUT_REFUND_NO\tWECHAT\tMALL")
	for _, d := range r.Differences {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", d.Kind, d.OutTradeNo, cmp.Or(d.OutRefundNo, "-"), d.WeChat, d.Mall)
	}
	_ = w.Flush()
	return b.String()
}

// Compare compares a day's bill with the mall's records of that day.
func Compare(bill *wechatpay.Bill, recs []Record) Report {
	rep := Report{Records: len(recs)}
	byTrade, byRefund := map[string]*Record{}, map[string]*Record{}
	for i := range recs {
		byTrade[recs[i].OutTradeNo] = &recs[i]
		if recs[i].OutRefundNo != "" {
			byRefund[recs[i].OutRefundNo] = &recs[i]
		}
	}
	add := func(k Kind, outTradeNo, outRefundNo, wechat, mall string) {
		rep.Differences = append(rep.Differences, Difference{k, outTradeNo, outRefundNo, wechat, mall})
	}
	paid, refunded := map[string]bool{}, map[string]bool{}
	for i := range bill.Rows {
		row := &bill.Rows[i]
		switch row.TradeState {
		case "SUCCESS":
			rep.Payments++
			rec := byTrade[row.OutTradeNo]
			switch {
			case paid[row.OutTradeNo]:
				add(RepeatedThere, row.OutTradeNo, "", paymentRow(row), "-")
			case rec == nil || !rec.PaidInDay:
				add(PaidThereNotHere, row.OutTradeNo, "", paymentRow(row), herePayment(rec))
			default:
				if row.Total != rec.Amount {
					add(AmountDiffers, row.OutTradeNo, "", row.Total.String(), rec.Amount.String())
				}
				if row.TransactionID != rec.TransactionID {
					add(TransactionDiffers, row.OutTradeNo, "", row.TransactionID, rec.TransactionID)
				}
			}
			paid[row.OutTradeNo] = true
		case "REFUND":
			rep.Refunds++
			rec := byRefund[row.OutRefundNo]
			switch {
			case refunded[row.OutRefundNo]:
				add(RepeatedThere, row.OutTradeNo, row.OutRefundNo, refundRow(row), "-")
			case rec == nil || !rec.RefundedInDay:
				add(RefundThereNotHere, row.OutTradeNo, row.OutRefundNo, refundRow(row), hereRefund(rec))
			default:
				if row.RefundAsked != rec.Amount {
					add(RefundAmountDiffers, row.OutTradeNo, row.OutRefundNo, row.RefundAsked.String(), rec.Amount.String())
				}
				if row.RefundID != rec.RefundID || row.OutTradeNo != rec.OutTradeNo {
					add(RefundIDDiffers, row.OutTradeNo, row.OutRefundNo, row.RefundID+" of "+row.OutTradeNo,
						cmp.Or(rec.RefundID, "(none)")+" of "+rec.OutTradeNo)
				}
				if row.RefundStatus != "SUCCESS" {
					add(RefundStatusDiffers, row.OutTradeNo, row.OutRefundNo, row.RefundStatus, string(rec.Status))
				}
			}
			refunded[row.OutRefundNo] = true
		default:
			rep.Others++
			add(UnknownThere, row.OutTradeNo, row.OutRefundNo, row.TradeState+" "+paymentRow(row), herePayment(byTrade[row.OutTradeNo]))
		}
	}
	for i := range recs {
		rec := &recs[i]
		if rec.PaidInDay && !paid[rec.OutTradeNo] {
			add(PaidHereNotThere, rec.OutTradeNo, "", "-", herePayment(rec))
		}
		if rec.RefundedInDay && !refunded[rec.OutRefundNo] {
			add(RefundHereNotThere, rec.OutTradeNo, rec.OutRefundNo, "-", hereRefund(rec))
		}
	}
	slices.SortStableFunc(rep.Differences, func(a, b Difference) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.OutTradeNo, b.OutTradeNo), cmp.Compare(a.OutRefundNo, b.OutRefundNo))
	})
	return rep
}

func paymentRow(r *wechatpay.BillRow) string { return r.Total.String() + " " + r.TransactionID }

func refundRow(r *wechatpay.BillRow) string {
	return r.RefundAsked.String() + " " + r.RefundID + " " + r.RefundStatus
}

// herePayment describes a record's payment ("-": none).
func herePayment(r *Record) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%s %s %s (order %s)", r.Status, r.Amount, cmp.Or(r.TransactionID, "(no transaction)"), r.OrderStatus)
}

// hereRefund describes a record's refund ("-": none).
func hereRefund(r *Record) string {
	if r == nil {
		return "-"
	}
	at := "not refunded"
	if !r.RefundedAt.IsZero() {
		at = "refunded " + r.RefundedAt.In(wechatpay.China).Format(time.DateTime)
	}
	return fmt.Sprintf("%s %s %s, %s", r.Status, r.Amount, cmp.Or(r.RefundID, "(no refund id)"), at)
}

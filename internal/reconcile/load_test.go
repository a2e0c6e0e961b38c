package reconcile_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"unionmall/ent"
	"unionmall/ent/order"
	"unionmall/ent/payment"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/reconcile"
	"unionmall/internal/role"
	"unionmall/internal/testdb"
)

// seed writes orders and their payments with ent directly.
type seed struct {
	t     *testing.T
	c     *ent.Client
	buyer gid.ID
}

func newSeed(t *testing.T, c *ent.Client) *seed {
	t.Helper()
	m, err := c.Member.Create().SetPhone("13900000001").SetPasswordHash("-").SetDisplayName("买家").
		SetRoles(role.Set{role.Member}).Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &seed{t: t, c: c, buyer: m.ID}
}

// pay is a payment and what it says.
type pay struct {
	ch         payment.Channel
	st         payment.Status
	amount     money.Fen
	tx         string
	paidAt     time.Time // zero: unset
	refundNo   string
	refundID   string
	refundedAt time.Time
}

// add writes the order number (status and total to match st and amount)
// and its payment.
func (s *seed) add(number string, p pay) {
	s.t.Helper()
	ctx := context.Background()
	ost := map[payment.Status]order.Status{payment.StatusPENDING: order.StatusPENDING_PAYMENT, payment.StatusCLOSED: order.StatusEXPIRED,
		payment.StatusPAID: order.StatusPAID, payment.StatusREFUNDING: order.StatusPAID, payment.StatusREFUNDED: order.StatusREFUNDED}[p.st]
	o, err := s.c.Order.Create().SetNumber(number).SetBuyerID(s.buyer).SetSubtotal(p.amount).SetDiscount(0).SetTotal(p.amount).
		SetStatus(ost).Save(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	c := s.c.Payment.Create().SetOrderID(o.ID).SetChannel(p.ch).SetStatus(p.st).SetAmount(p.amount).SetOutTradeNo(number)
	if p.tx != "" {
		c.SetProviderTransactionID(p.tx)
	}
	if !p.paidAt.IsZero() {
		c.SetPaidAt(p.paidAt.UTC())
	}
	if p.refundNo != "" {
		c.SetOutRefundNo(p.refundNo).SetRefundRequestedAt(p.paidAt.UTC())
	}
	if p.refundID != "" {
		c.SetRefundID(p.refundID)
	}
	if !p.refundedAt.IsZero() {
		c.SetRefundedAt(p.refundedAt.UTC())
	}
	if _, err := c.Save(ctx); err != nil {
		s.t.Fatalf("payment of %s: %v", number, err)
	}
}

// Load selects the WeChat payments paid or refunded on the China day,
// bounds included at midnight and excluded at the next, on SQLite and
// PostgreSQL.
func TestLoad(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		s := newSeed(t, d.Client)
		jsapi, app, sandbox := payment.ChannelWECHAT_JSAPI, payment.ChannelWECHAT_APP, payment.ChannelSANDBOX
		n := 0
		paidAt := func(no string, at time.Time, ch payment.Channel) {
			n++
			s.add(no, pay{ch: ch, st: payment.StatusPAID, amount: 100, tx: fmt.Sprintf("TX%d", n), paidAt: at})
		}
		refund := func(no string, st payment.Status, paid, refunded time.Time) {
			n++
			p := pay{ch: jsapi, st: st, amount: 250, tx: fmt.Sprintf("TX%d", n), paidAt: paid, refundNo: "R" + no, refundedAt: refunded}
			if !refunded.IsZero() {
				p.refundID = "RID" + no
			}
			s.add(no, p)
		}
		next := day.AddDate(0, 0, 1)
		paidAt("START", day, jsapi)
		paidAt("LAST", next.Add(-time.Millisecond), app)
		paidAt("NEXT", next, jsapi)
		paidAt("BEFORE", day.Add(-time.Second), jsapi)
		paidAt("SANDBOX", day.Add(time.Hour), sandbox)
		paidAt("UTC-LATE", time.Date(2026, 3, 14, 17, 0, 0, 0, time.UTC), jsapi) // the 15th in China
		s.add("PENDING", pay{ch: jsapi, st: payment.StatusPENDING, amount: 100})
		refund("YESTERDAY", payment.StatusREFUNDED, day.Add(-time.Hour), day.Add(10*time.Hour))
		refund("REFUNDING", payment.StatusREFUNDING, day.Add(time.Hour), time.Time{})
		refund("SAME-DAY", payment.StatusREFUNDED, day.Add(time.Hour), day.Add(2*time.Hour))
		refund("TOMORROW", payment.StatusREFUNDED, day.Add(time.Hour), next.Add(time.Hour))

		recs, err := reconcile.Load(ctx, d.Client, day.Add(13*time.Hour), nil)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][2]bool{ // paid, refunded in the day
			"LAST": {true, false}, "REFUNDING": {true, false}, "SAME-DAY": {true, true},
			"START": {true, false}, "TOMORROW": {true, false}, "YESTERDAY": {false, true},
		}
		var got []string
		for _, r := range recs {
			got = append(got, r.OutTradeNo)
			if w, ok := want[r.OutTradeNo]; !ok || w != [2]bool{r.PaidInDay, r.RefundedInDay} {
				t.Errorf("%s: paid in the day %v, refunded %v; want %v (listed: %v)", r.OutTradeNo, r.PaidInDay, r.RefundedInDay, w, ok)
			}
		}
		if len(recs) != len(want) {
			t.Fatalf("loaded %v, want %v", got, want)
		}
		for i := 1; i < len(recs); i++ {
			if recs[i-1].OutTradeNo >= recs[i].OutTradeNo {
				t.Errorf("not in out_trade_no order: %v", got)
			}
		}
		var y reconcile.Record
		for _, r := range recs {
			if r.OutTradeNo == "YESTERDAY" {
				y = r
			}
		}
		if y.Amount != 250 || y.OrderTotal != 250 || y.OrderStatus != order.StatusREFUNDED || y.Status != payment.StatusREFUNDED ||
			y.Channel != jsapi || y.TransactionID == "" || y.OutRefundNo != "RYESTERDAY" || y.RefundID != "RIDYESTERDAY" ||
			!y.PaidAt.Equal(day.Add(-time.Hour)) || !y.RefundedAt.Equal(day.Add(10*time.Hour)) {
			t.Errorf("record %+v", y)
		}

		// The day is loc's: in UTC, the 14th holds UTC-LATE and no longer
		// START (the 13th, 16:00 UTC).
		utc, err := reconcile.Load(ctx, d.Client, time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC), time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		in := map[string]bool{}
		for _, r := range utc {
			in[r.OutTradeNo] = true
		}
		if !in["UTC-LATE"] || in["START"] {
			t.Errorf("the UTC day: %v", in)
		}
	})
}

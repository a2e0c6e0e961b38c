package reconcile_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"slices"
	"sync"
	"testing"
	"time"

	"unionmall/ent/payment"
	"unionmall/internal/money"
	"unionmall/internal/reconcile"
	"unionmall/internal/testdb"
	"unionmall/internal/wechatpay"
	"unionmall/internal/wechatpay/wechatpaytest"
)

// The whole way: orders paid and refunded through the fake provider and
// recorded in the database, the fake's bill of the day downloaded through
// the client, parsed, and compared with the records Load reads. First they
// agree; then the fake's hooks make each kind of difference, and exactly
// those are reported.
func TestBillFromTheFakeAgainstTheDatabase(t *testing.T) {
	merchantKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		var mu sync.Mutex
		clock := day.Add(9 * time.Hour)
		setClock := func(at time.Time) { mu.Lock(); clock = at; mu.Unlock() }
		fake := wechatpaytest.Start("1900000001", &merchantKey.PublicKey, wechatpaytest.WithClock(func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			clock = clock.Add(time.Minute)
			return clock
		}))
		t.Cleanup(fake.Close)
		c := &wechatpay.Client{BaseURL: fake.URL, AppID: "wxd678efh567hg6787", Verifier: fake.Verifier(),
			Merchant: wechatpay.Merchant{MchID: "1900000001", SerialNo: "S", Key: merchantKey}}
		s := newSeed(t, d.Client)

		// payHere pays no through the fake and records it as the mall would.
		payHere := func(no string, total money.Fen, ch payment.Channel) *wechatpay.Transaction {
			t.Helper()
			p := wechatpay.Prepay{Description: "镇安板栗", OutTradeNo: no, TimeExpire: day.Add(30 * time.Hour),
				NotifyURL: "http://127.0.0.1:1/notify", Total: int64(total), OpenID: "oPayer"}
			var err error
			if ch == payment.ChannelWECHAT_APP {
				_, err = c.PrepayAPP(ctx, p)
			} else {
				_, err = c.PrepayJSAPI(ctx, p)
			}
			if err != nil {
				t.Fatal(err)
			}
			tx, err := fake.Pay(no)
			if err != nil {
				t.Fatal(err)
			}
			at, err := time.Parse(time.RFC3339, tx.SuccessTime)
			if err != nil {
				t.Fatal(err)
			}
			s.add(no, pay{ch: ch, st: payment.StatusPAID, amount: total, tx: tx.TransactionID, paidAt: at})
			return tx
		}
		// refundHere refunds no whole through the fake, and records it.
		refundHere := func(no string) {
			t.Helper()
			rec, err := d.Client.Payment.Query().Where(payment.OutTradeNo(no)).Only(ctx)
			if err != nil {
				t.Fatal(err)
			}
			r, err := c.Refund(ctx, wechatpay.RefundRequest{OutTradeNo: no, OutRefundNo: "R" + no, Reason: "缺货",
				Refund: int64(rec.Amount), Total: int64(rec.Amount)})
			if err != nil {
				t.Fatal(err)
			}
			if err := fake.CompleteRefund("R" + no); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			at := clock
			mu.Unlock()
			rec.Update().SetStatus(payment.StatusREFUNDED).SetOutRefundNo("R" + no).SetRefundID(r.RefundID).
				SetRefundRequestedAt(at.UTC()).SetRefundedAt(at.UTC()).ExecX(ctx)
		}

		setClock(day.Add(-4 * time.Hour)) // the day before
		payHere("T-G", 880, payment.ChannelWECHAT_JSAPI)
		setClock(day.Add(9 * time.Hour))
		txA := payHere("T-A", 6000, payment.ChannelWECHAT_JSAPI)
		payHere("T-B", 12850, payment.ChannelWECHAT_APP)
		payHere("T-C", 4500, payment.ChannelWECHAT_JSAPI)
		payHere("T-D", 2990, payment.ChannelWECHAT_JSAPI)
		payHere("T-E", 1000, payment.ChannelWECHAT_JSAPI)
		payHere("T-F", 1999, payment.ChannelWECHAT_APP)
		refundHere("T-E")
		refundHere("T-F")
		refundHere("T-G") // paid the day before

		compare := func() reconcile.Report {
			t.Helper()
			text, err := c.TradeBill(ctx, day)
			if err != nil {
				t.Fatal(err)
			}
			bill, err := wechatpay.ParseTradeBill(text)
			if err != nil {
				t.Fatalf("%v\n%s", err, text)
			}
			recs, err := reconcile.Load(ctx, d.Client, day, nil)
			if err != nil {
				t.Fatal(err)
			}
			return reconcile.Compare(bill, recs)
		}
		rep := compare()
		if !rep.OK() || rep.Payments != 6 || rep.Refunds != 3 || rep.Records != 7 {
			t.Fatalf("before any change:\n%s", rep)
		}

		fake.AddBillRow(fake.PaymentRow("T-GHOST", "4200000000000000000000000777", 500, day.Add(11*time.Hour)))
		fake.RemoveBillRows("T-B")
		fake.AlterBillRows("T-C", func(r *wechatpay.BillRow) { r.Total++; r.Settlement++ })
		fake.AlterBillRows("T-D", func(r *wechatpay.BillRow) { r.TransactionID = "4200000000000000000000009999" })
		fake.AddBillRow(fake.RefundRow("T-A", txA.TransactionID, "RT-GHOST", "50300000000000000000000000777", 100, day.Add(12*time.Hour)))
		fake.RemoveBillRows("RT-E")
		fake.AlterBillRows("RT-F", func(r *wechatpay.BillRow) { r.Refund--; r.RefundAsked-- })

		rep = compare()
		t.Log("\n" + rep.String())
		type key struct {
			kind                    reconcile.Kind
			outTradeNo, outRefundNo string
		}
		var got []key
		for _, d := range rep.Differences {
			got = append(got, key{d.Kind, d.OutTradeNo, d.OutRefundNo})
		}
		want := []key{
			{reconcile.PaidThereNotHere, "T-GHOST", ""},
			{reconcile.PaidHereNotThere, "T-B", ""},
			{reconcile.AmountDiffers, "T-C", ""},
			{reconcile.TransactionDiffers, "T-D", ""},
			{reconcile.RefundThereNotHere, "T-A", "RT-GHOST"},
			{reconcile.RefundHereNotThere, "T-E", "RT-E"},
			{reconcile.RefundAmountDiffers, "T-F", "RT-F"},
		}
		if !slices.Equal(got, want) {
			t.Fatalf("differences %v, want %v", got, want)
		}
	})
}

package wechatpay_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"testing"
	"time"

	"unionmall/internal/wechatpay"
	"unionmall/internal/wechatpay/wechatpaytest"
)

func newClient(fake *wechatpaytest.Server) *wechatpay.Client {
	return &wechatpay.Client{
		BaseURL:  fake.URL,
		Merchant: wechatpay.Merchant{MchID: "1900000001", SerialNo: "MERCHANT-SERIAL", Key: merchantKey},
		AppID:    "wxd678efh567hg6787",
		Verifier: fake.Verifier(),
	}
}

// The client against the fake provider: a payment from prepay to paid and
// refunded, an unpaid one closed, and the refusals either side makes.
func TestClientAgainstTheFakeProvider(t *testing.T) {
	ctx := context.Background()
	fake := wechatpaytest.Start("1900000001", &merchantKey.PublicKey)
	t.Cleanup(fake.Close)
	c := newClient(fake)
	p := wechatpay.Prepay{Description: "汉中香小榨菜籽油 5L", OutTradeNo: "202612011030011234567890",
		TimeExpire: time.Now().Add(15 * time.Minute), NotifyURL: "https://mall.example/payments/wechat/notify", Total: 100, OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}

	id, err := c.PrepayJSAPI(ctx, p)
	if err != nil || id == "" {
		t.Fatalf("prepay: %q, %v", id, err)
	}
	again, err := c.PrepayJSAPI(ctx, p) // starting twice resumes the same provider order
	if err != nil || again == "" {
		t.Fatalf("prepay again: %q, %v", again, err)
	}
	tx, err := c.Query(ctx, p.OutTradeNo)
	if err != nil || tx.TradeState != "NOTPAY" || tx.Paid() {
		t.Fatalf("query before paying: %+v, %v", tx, err)
	}
	if _, err := fake.Pay(p.OutTradeNo); err != nil {
		t.Fatal(err)
	}
	tx, err = c.Query(ctx, p.OutTradeNo)
	if err != nil || !tx.Paid() || tx.TransactionID == "" || tx.Amount.Total != 100 {
		t.Fatalf("query after paying: %+v, %v", tx, err)
	}
	var api *wechatpay.APIError
	if err := c.Close(ctx, p.OutTradeNo); !errors.As(err, &api) || api.Code != "ORDERPAID" {
		t.Fatalf("closing a paid order: %v", err)
	}
	ref := wechatpay.RefundRequest{OutTradeNo: p.OutTradeNo, OutRefundNo: "R" + p.OutTradeNo, Reason: "过期后到账", Refund: 100, Total: 100}
	r1, err := c.Refund(ctx, ref)
	if err != nil || r1.Status != "PROCESSING" {
		t.Fatalf("refund: %+v, %v", r1, err)
	}
	r2, err := c.Refund(ctx, ref)
	if err != nil || r2.RefundID != r1.RefundID {
		t.Fatalf("the same out_refund_no refunded twice: %+v then %+v (%v)", r1, r2, err)
	}
	fake.CompleteRefund(ref.OutRefundNo)
	if r, err := c.QueryRefund(ctx, ref.OutRefundNo); err != nil || r.Status != "SUCCESS" {
		t.Fatalf("refund query: %+v, %v", r, err)
	}

	unpaid := p
	unpaid.OutTradeNo = "202612011030019999999999"
	if _, err := c.PrepayAPP(ctx, unpaid); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx, unpaid.OutTradeNo); err != nil {
		t.Fatalf("close: %v", err)
	}
	if tx, err := c.Query(ctx, unpaid.OutTradeNo); err != nil || tx.TradeState != "CLOSED" {
		t.Fatalf("after close: %+v, %v", tx, err)
	}
	if _, err := fake.Pay(unpaid.OutTradeNo); err == nil {
		t.Fatal("a closed provider order was paid")
	}
	if _, err := c.Query(ctx, "no-such-order"); !errors.As(err, &api) || api.Status != 404 {
		t.Fatalf("query of an unknown order: %v", err)
	}
}

func TestClientRefusals(t *testing.T) {
	ctx := context.Background()
	fake := wechatpaytest.Start("1900000001", &merchantKey.PublicKey)
	t.Cleanup(fake.Close)
	p := wechatpay.Prepay{OutTradeNo: "1", TimeExpire: time.Now().Add(time.Minute), Total: 1, OpenID: "o"}

	forger := newClient(fake)
	forger.Merchant.Key = otherKey // not the merchant's key: the provider refuses
	var api *wechatpay.APIError
	if _, err := forger.PrepayJSAPI(ctx, p); !errors.As(err, &api) || api.Status != 401 || api.Code != "SIGN_ERROR" {
		t.Fatalf("a request signed with another key: %v", err)
	}

	trusting := newClient(fake)
	trusting.Verifier = wechatpay.Verifier{Keys: map[string]*rsa.PublicKey{wechatpaytest.KeyID: &platformKey.PublicKey}}
	if _, err := trusting.PrepayJSAPI(ctx, p); !errors.Is(err, wechatpay.ErrSignature) {
		t.Fatalf("an answer signed by another key was believed: %v", err)
	}
	rotated := newClient(fake)
	rotated.Verifier = wechatpay.Verifier{Keys: map[string]*rsa.PublicKey{"PUB_KEY_ID_OTHER": &fake.Key.PublicKey}}
	if _, err := rotated.PrepayJSAPI(ctx, p); !errors.Is(err, wechatpay.ErrUnknownKey) {
		t.Fatalf("an answer named by an unknown key was believed: %v", err)
	}
	if _, err := newClient(fake).PrepayJSAPI(ctx, wechatpay.Prepay{OutTradeNo: "2", Total: 1}); err == nil {
		t.Fatal("a JSAPI payment without the payer's openid")
	}
	down := newClient(fake)
	down.BaseURL = "http://127.0.0.1:1"
	if _, err := down.Query(ctx, "1"); err == nil {
		t.Fatal("a provider that is down answered")
	}
}

package wechatpay_test

import (
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"unionmall/internal/wechatpay"
	"unionmall/internal/wechatpay/wechatpaytest"
)

func TestOpenNotification(t *testing.T) {
	fake := wechatpaytest.Start("1900000001", &merchantKey.PublicKey)
	t.Cleanup(fake.Close)
	key := []byte("0123456789abcdef0123456789abcdef")
	paid := &wechatpay.Transaction{AppID: "wxd678efh567hg6787", MchID: "1900000001", OutTradeNo: "202612011030011234567890",
		TransactionID: "4200000000000000000000000001", TradeState: "SUCCESS", Amount: wechatpay.Amount{Total: 100, PayerTotal: 100, Currency: "CNY"}}
	read := func(r *http.Request) (http.Header, []byte) {
		t.Helper()
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		return r.Header, b
	}

	req, err := fake.Notification("http://mall/payments/wechat/notify", key, paid)
	if err != nil {
		t.Fatal(err)
	}
	h, body := read(req)
	n, err := wechatpay.Open(fake.Verifier(), key, h, body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := n.Transaction()
	if err != nil || *got != *paid || n.EventType != "TRANSACTION.SUCCESS" {
		t.Fatalf("opened %+v (%v), want %+v", got, err, paid)
	}
	if _, err := n.Refund(); !errors.Is(err, wechatpay.ErrMalformed) {
		t.Errorf("a payment read as a refund: %v", err)
	}

	stale, err := fake.NotificationAt("http://mall/payments/wechat/notify", key, paid, time.Now().Add(-6*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	sh, sbody := read(stale)
	tampered := append([]byte{}, body...)
	tampered[len(tampered)-2] = ' '
	probe := h.Clone()
	probe.Set(wechatpay.HeaderSignature, "WECHATPAY/SIGNTEST/"+h.Get(wechatpay.HeaderSignature))
	garbage := []byte(`not json`)
	gh := http.Header{}
	fake.Sign(gh, garbage, time.Now())
	for _, tc := range []struct {
		name string
		h    http.Header
		body []byte
		key  []byte
		want error
	}{
		{"stale", sh, sbody, key, wechatpay.ErrStale},
		{"tampered", h, tampered, key, wechatpay.ErrSignature},
		{"a probe", probe, body, key, wechatpay.ErrProbe},
		{"another APIv3 key", h, body, []byte("fedcba9876543210fedcba9876543210"), wechatpay.ErrDecrypt},
		{"signed but not a notification", gh, garbage, key, wechatpay.ErrMalformed},
		{"unsigned", http.Header{}, body, key, wechatpay.ErrUnsigned},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := wechatpay.Open(fake.Verifier(), tc.key, tc.h, tc.body); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

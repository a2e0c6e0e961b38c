package servertest

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"sync"
	"testing"
	"time"

	"unionmall/internal/payments"
	"unionmall/internal/wechatpay"
	"unionmall/internal/wechatpay/wechatpaytest"
)

// Test merchant of WeChat Pay.
const (
	MchID    = "1900000109"
	AppID    = "wx8888888888888888"
	Serial   = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
	APIV3Key = "0123456789abcdef0123456789ABCDEF"
)

var (
	merchantOnce sync.Once
	merchantKey  *rsa.PrivateKey
)

// merchant is one RSA key for every test (2048-bit keys are slow to make).
func merchant() *rsa.PrivateKey {
	merchantOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		merchantKey = k
	})
	return merchantKey
}

// WeChatPay is a fake WeChat Pay and the mall's configuration for it.
type WeChatPay struct {
	Fake *wechatpaytest.Server
	// Pay is the provider to put in Options.WeChatPay; Start points its
	// notify URLs at the test server.
	Pay *payments.WeChat
}

// NewWeChatPay starts a fake WeChat Pay for the test merchant, which
// retries an unanswered notification after 20 ms, 50 ms and 200 ms
// (opts may say otherwise).
func NewWeChatPay(t testing.TB, opts ...wechatpaytest.Option) *WeChatPay {
	t.Helper()
	key := merchant()
	opts = append([]wechatpaytest.Option{wechatpaytest.WithAPIv3Key([]byte(APIV3Key)),
		wechatpaytest.WithRetries(20*time.Millisecond, 50*time.Millisecond, 200*time.Millisecond)}, opts...)
	fake := wechatpaytest.Start(MchID, &key.PublicKey, opts...)
	t.Cleanup(fake.Close)
	return &WeChatPay{Fake: fake, Pay: &payments.WeChat{
		Client: &wechatpay.Client{
			BaseURL:  fake.URL,
			Merchant: wechatpay.Merchant{MchID: MchID, SerialNo: Serial, Key: key},
			AppID:    AppID,
			Verifier: fake.Verifier(),
			HTTP:     &http.Client{Timeout: 2 * time.Second},
		},
		APIV3Key: []byte(APIV3Key),
	}}
}

// Notify sends WeChat Pay's notification of a transaction to the mall, as
// the fake would, and returns the HTTP status.
func (w *WeChatPay) Notify(t testing.TB, tx *wechatpay.Transaction) int {
	t.Helper()
	req, err := w.Fake.Notification(w.Pay.NotifyURL, []byte(APIV3Key), tx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

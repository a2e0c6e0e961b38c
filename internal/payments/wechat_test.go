package payments

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"unionmall/internal/apperr"
	"unionmall/internal/money"
	"unionmall/internal/wechatpay"
	"unionmall/internal/wechatpay/wechatpaytest"
)

const (
	testMchID = "1900000109"
	testAppID = "wx8888888888888888"
	testV3Key = "0123456789abcdef0123456789ABCDEF"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

// newWeChat is the adapter over a fake WeChat Pay of its own.
func newWeChat(t *testing.T) (*WeChat, *wechatpaytest.Server) {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		if testKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	fake := wechatpaytest.Start(testMchID, &testKey.PublicKey, wechatpaytest.WithAPIv3Key([]byte(testV3Key)))
	t.Cleanup(fake.Close)
	return &WeChat{
		Client: &wechatpay.Client{BaseURL: fake.URL, Merchant: wechatpay.Merchant{MchID: testMchID, SerialNo: "SERIAL", Key: testKey},
			AppID: testAppID, Verifier: fake.Verifier(), HTTP: &http.Client{Timeout: 2 * time.Second}},
		APIV3Key: []byte(testV3Key), NotifyURL: "http://127.0.0.1:1/notify", RefundNotifyURL: "http://127.0.0.1:1/refund-notify",
	}, fake
}

func TestTradeStates(t *testing.T) {
	paidAt := time.Date(2026, 12, 1, 10, 34, 56, 0, wechatpay.China)
	for _, tc := range []struct {
		state, id, success string
		want               TradeState
		wantAt             time.Time
		fails              bool
	}{
		{"SUCCESS", "42", "2026-12-01T10:34:56+08:00", TradePaid, paidAt, false},
		{"REFUND", "42", "2026-12-01T10:34:56+08:00", TradePaid, paidAt, false}, // paid, refunded since
		{"SUCCESS", "42", "", TradePaid, time.Time{}, false},
		{"SUCCESS", "", "2026-12-01T10:34:56+08:00", 0, time.Time{}, true},
		{"SUCCESS", "42", "yesterday", 0, time.Time{}, true},
		{"NOTPAY", "", "", TradeNotPaid, time.Time{}, false},
		{"USERPAYING", "", "", TradePaying, time.Time{}, false},
		{"ACCEPT", "", "", TradePaying, time.Time{}, false},
		{"CLOSED", "", "", TradeClosed, time.Time{}, false},
		{"REVOKED", "", "", TradeClosed, time.Time{}, false},
		{"PAYERROR", "", "", TradeClosed, time.Time{}, false},
		{"", "", "", 0, time.Time{}, true},
		{"PAID", "42", "", 0, time.Time{}, true},
	} {
		t.Run(tc.state+"/"+tc.id+"/"+tc.success, func(t *testing.T) {
			got, err := trade(&wechatpay.Transaction{TradeState: tc.state, TransactionID: tc.id, SuccessTime: tc.success, Amount: wechatpay.Amount{Total: 1234}})
			if tc.fails {
				if err == nil {
					t.Fatalf("got %+v, want an error", got)
				}
				return
			}
			if err != nil || got.State != tc.want || !got.PaidAt.Equal(tc.wantAt) || got.Amount != 1234 || got.TransactionID != tc.id {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
}

func TestRefundStates(t *testing.T) {
	for status, want := range map[string]RefundState{"SUCCESS": RefundDone, "CLOSED": RefundFailed, "ABNORMAL": RefundFailed,
		"PROCESSING": RefundPending, "": RefundPending} {
		if got := refundResult(status, "503"); got.State != want || got.RefundID != "503" {
			t.Errorf("%q: %+v, want %v", status, got, want)
		}
	}
}

// WeChat Pay's error codes as the worker needs them: an order it never
// opened is NotFound, closing it (or a closed one) is done, closing a paid
// one is ErrAlreadyPaid; anything else is an error to retry.
func TestAPICodes(t *testing.T) {
	w, fake := newWeChat(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name         string
		status       int
		code         string
		query, close func(TradeState, error) bool
	}{
		{"ORDER_NOT_EXIST", 404, "ORDER_NOT_EXIST", func(s TradeState, err error) bool { return err == nil && s == TradeNotFound },
			func(_ TradeState, err error) bool { return err == nil }},
		{"ORDERNOTEXIST", 404, "ORDERNOTEXIST", func(s TradeState, err error) bool { return err == nil && s == TradeNotFound },
			func(_ TradeState, err error) bool { return err == nil }},
		{"ORDERCLOSED", 400, "ORDERCLOSED", func(_ TradeState, err error) bool { return err != nil },
			func(_ TradeState, err error) bool { return err == nil }},
		{"ORDERPAID", 400, "ORDERPAID", func(_ TradeState, err error) bool { return err != nil },
			func(_ TradeState, err error) bool { return errors.Is(err, ErrAlreadyPaid) }},
		{"SYSTEM_ERROR", 500, "SYSTEM_ERROR", func(_ TradeState, err error) bool { return err != nil },
			func(_ TradeState, err error) bool { return err != nil && !errors.Is(err, ErrAlreadyPaid) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Three: a transient refusal is asked again twice (retry).
			fake.FailNextWith(3, tc.status, tc.code)
			tr, err := w.Query(ctx, "202612010000000000000001")
			if !tc.query(tr.State, err) {
				t.Errorf("query: %+v, %v", tr, err)
			}
			fake.FailNextWith(3, tc.status, tc.code)
			if err := w.Close(ctx, "202612010000000000000001"); !tc.close(0, err) {
				t.Errorf("close: %v", err)
			}
		})
	}
	// The fake's own answers: an order it never had.
	if tr, err := w.Query(ctx, "202612010000000000000002"); err != nil || tr.State != TradeNotFound {
		t.Fatalf("query of an unknown order: %+v, %v", tr, err)
	}
	if err := w.Close(ctx, "202612010000000000000002"); err != nil {
		t.Fatalf("close of an unknown order: %v", err)
	}
	fake.SetOutage(wechatpaytest.Unavailable)
	defer fake.SetOutage(wechatpaytest.Up)
	if _, err := w.Query(ctx, "202612010000000000000002"); err == nil {
		t.Fatal("an unsigned 503 was believed")
	}
}

// Start opens the provider order once: with an earlier prepay_id it only
// signs again.
func TestStart(t *testing.T) {
	w, fake := newWeChat(t)
	ctx := context.Background()
	c := Checkout{OutTradeNo: "202612010000000000000003", Description: "茶", Total: 1234, ExpiresAt: time.Now().Add(time.Minute), OpenID: "o-1"}
	first, err := w.Start(ctx, JSAPI, c)
	if err != nil || first.PrepayID == "" || first.JSAPI == nil || first.APP != nil || first.JSAPI.Package != "prepay_id="+first.PrepayID {
		t.Fatalf("%+v, %v", first, err)
	}
	calls := len(fake.Calls())
	c.PrepayID = first.PrepayID
	again, err := w.Start(ctx, JSAPI, c)
	if err != nil || again.PrepayID != first.PrepayID || len(fake.Calls()) != calls {
		t.Fatalf("resumed %+v, %v; %d calls, was %d", again, err, len(fake.Calls()), calls)
	}
	if _, err := w.Start(ctx, Sandbox, Checkout{OutTradeNo: "202612010000000000000004", Total: 1}); err == nil {
		t.Fatal("WeChat Pay started a sandbox payment")
	}
	if _, err := w.Start(ctx, JSAPI, Checkout{OutTradeNo: "202612010000000000000005", Total: 1, ExpiresAt: time.Now().Add(time.Minute)}); err == nil {
		t.Fatal("a JSAPI payment without an openid")
	}
}

// notification is a signed, sealed notification of plain.
func notification(t *testing.T, fake *wechatpaytest.Server, key, data, event string, plain any, at time.Time) (http.Header, []byte) {
	t.Helper()
	raw, _ := json.Marshal(plain)
	res, err := wechatpay.Encrypt([]byte(key), wechatpay.Nonce()[:12], data, raw)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(wechatpay.Notification{ID: "EV-1", CreateTime: at.Format(time.RFC3339), EventType: event, ResourceType: "encrypt-resource", Resource: res})
	h := http.Header{}
	fake.Sign(h, body, at)
	return h, body
}

func TestOpenPayment(t *testing.T) {
	w, fake := newWeChat(t)
	good := func() *wechatpay.Transaction {
		return &wechatpay.Transaction{AppID: testAppID, MchID: testMchID, OutTradeNo: "N1", TransactionID: "T1", TradeState: "SUCCESS",
			SuccessTime: "2026-12-01T10:34:56+08:00", Amount: wechatpay.Amount{Total: 500}}
	}
	h, body := notification(t, fake, testV3Key, "transaction", "TRANSACTION.SUCCESS", good(), time.Now())
	p, done, err := w.OpenPayment(h, body)
	if err != nil || !done || p != (Paid{OutTradeNo: "N1", TransactionID: "T1", Amount: money.Fen(500), PaidAt: p.PaidAt}) ||
		!p.PaidAt.Equal(time.Date(2026, 12, 1, 2, 34, 56, 0, time.UTC)) {
		t.Fatalf("%+v %v %v", p, done, err)
	}
	for _, tc := range []struct {
		name, reason string
		edit         func(*wechatpay.Transaction)
		key          string
		at           time.Time
		header       func(http.Header)
	}{
		{"stale", "stale", nil, testV3Key, time.Now().Add(-6 * time.Minute), nil},
		{"ahead", "stale", nil, testV3Key, time.Now().Add(6 * time.Minute), nil},
		{"probe", "probe", nil, testV3Key, time.Now(), func(h http.Header) { h.Set(wechatpay.HeaderSignature, "WECHATPAY/SIGNTEST/x") }},
		{"unsigned", "unsigned", nil, testV3Key, time.Now(), func(h http.Header) { h.Del(wechatpay.HeaderNonce) }},
		{"unknown key", "unknown_key", nil, testV3Key, time.Now(), func(h http.Header) { h.Set(wechatpay.HeaderSerial, "OTHER") }},
		{"signature", "signature", nil, testV3Key, time.Now(), func(h http.Header) { h.Set(wechatpay.HeaderNonce, "another") }},
		{"another APIv3 key", "decrypt", nil, "ffffffffffffffffffffffffffffffff", time.Now(), nil},
		{"merchant", "merchant", func(tx *wechatpay.Transaction) { tx.MchID = "1900000999" }, testV3Key, time.Now(), nil},
		{"app", "app", func(tx *wechatpay.Transaction) { tx.AppID = "wx0" }, testV3Key, time.Now(), nil},
		{"no out_trade_no", "malformed", func(tx *wechatpay.Transaction) { tx.OutTradeNo = "" }, testV3Key, time.Now(), nil},
		{"unknown state", "malformed", func(tx *wechatpay.Transaction) { tx.TradeState = "X" }, testV3Key, time.Now(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tx := good()
			if tc.edit != nil {
				tc.edit(tx)
			}
			h, body := notification(t, fake, tc.key, "transaction", "TRANSACTION.SUCCESS", tx, tc.at)
			if tc.header != nil {
				tc.header(h)
			}
			_, done, err := w.OpenPayment(h, body)
			var rej *Rejected
			if !errors.As(err, &rej) || rej.Reason != tc.reason || done {
				t.Fatalf("err %v (done %v), want rejected for %s", err, done, tc.reason)
			}
		})
	}
	notPaid := good()
	notPaid.TradeState, notPaid.TransactionID = "CLOSED", ""
	h, body = notification(t, fake, testV3Key, "transaction", "TRANSACTION.SUCCESS", notPaid, time.Now())
	if _, done, err := w.OpenPayment(h, body); err != nil || done {
		t.Fatalf("a closed transaction: done %v, %v", done, err)
	}
}

func TestOpenRefund(t *testing.T) {
	w, fake := newWeChat(t)
	for status, want := range map[string]RefundState{"SUCCESS": RefundDone, "ABNORMAL": RefundFailed, "CLOSED": RefundFailed} {
		h, body := notification(t, fake, testV3Key, "refund", "REFUND."+status, map[string]any{"mchid": testMchID, "out_refund_no": "N1R",
			"refund_id": "503", "refund_status": status, "amount": map[string]any{"total": 500, "refund": 500}}, time.Now())
		n, err := w.OpenRefund(h, body)
		if err != nil || n != (RefundNotice{OutRefundNo: "N1R", RefundID: "503", State: want, Amount: 500}) {
			t.Errorf("%s: %+v, %v", status, n, err)
		}
	}
	h, body := notification(t, fake, testV3Key, "refund", "REFUND.SUCCESS", map[string]any{"mchid": "1900000999", "out_refund_no": "N1R", "refund_status": "SUCCESS"}, time.Now())
	var rej *Rejected
	if _, err := w.OpenRefund(h, body); !errors.As(err, &rej) || rej.Reason != "merchant" {
		t.Fatalf("another merchant's refund: %v", err)
	}
}

type countingObserver struct {
	mu     sync.Mutex
	errors map[string]int
}

func (*countingObserver) Payment(string)              {}
func (*countingObserver) Notification(string, string) {}
func (o *countingObserver) ProviderCall(op string, _ time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		o.errors[op]++
	}
}

// Observed times every call; a close that finds the order paid is an
// answer, not a provider error.
func TestObserved(t *testing.T) {
	w, fake := newWeChat(t)
	obs := &countingObserver{errors: map[string]int{}}
	p := Observed(w, obs)
	fake.FailNextWith(1, 400, "ORDERPAID")
	if err := p.Close(context.Background(), "N"); !errors.Is(err, ErrAlreadyPaid) {
		t.Fatal(err)
	}
	fake.FailNext(3) // the call and its two retries
	if _, err := p.Query(context.Background(), "N"); err == nil {
		t.Fatal("no error")
	}
	if obs.errors["close"] != 0 || obs.errors["query"] != 1 {
		t.Fatalf("errors %v", obs.errors)
	}
	if Observed(nil, obs) != nil {
		t.Fatal("an absent provider observed")
	}
}

func TestProvidersFor(t *testing.T) {
	w, _ := newWeChat(t)
	p := Providers{WeChat: w}
	for _, ch := range []Channel{JSAPI, APP} {
		if got, err := p.For(ch); err != nil || got != w {
			t.Errorf("%s: %v %v", ch, got, err)
		}
	}
	if _, err := p.For(Sandbox); !apperr.Is(err, apperr.BadUserInput) {
		t.Errorf("sandbox not offered: %v", err)
	}
	if OutRefundNo("202612010000000000000001") != "202612010000000000000001R" {
		t.Error(OutRefundNo("202612010000000000000001"))
	}
}

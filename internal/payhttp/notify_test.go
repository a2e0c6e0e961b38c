package payhttp_test

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"unionmall/internal/payments"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
	"unionmall/internal/wechatpay"
)

// notifier makes notifications for one mall as WeChat Pay would, and
// tampers with them.
type notifier struct {
	t  *testing.T
	wp *servertest.WeChatPay
	m  *servertest.Mall
}

// envelope seals plain (associated data "transaction" or "refund") with
// key in a notification body of event.
func (n notifier) envelope(key []byte, event, data string, plain any) []byte {
	raw, ok := plain.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(plain); err != nil {
			n.t.Fatal(err)
		}
	}
	res, err := wechatpay.Encrypt(key, wechatpay.Nonce()[:12], data, raw)
	if err != nil {
		n.t.Fatal(err)
	}
	res.OriginalType = data
	body, err := json.Marshal(wechatpay.Notification{ID: "EV-" + wechatpay.Nonce(), EventType: event,
		CreateTime: time.Now().In(wechatpay.China).Format(time.RFC3339), ResourceType: "encrypt-resource", Resource: res})
	if err != nil {
		n.t.Fatal(err)
	}
	return body
}

// signed is a request of body to path signed by the fake at at.
func (n notifier) signed(path string, body []byte, at time.Time) *http.Request {
	req, err := http.NewRequest(http.MethodPost, n.m.HTTP.URL+path, bytes.NewReader(body))
	if err != nil {
		n.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	n.wp.Fake.Sign(req.Header, body, at)
	return req
}

func (n notifier) payment(tx *wechatpay.Transaction) *http.Request {
	return n.signed(payments.NotifyPath, n.envelope([]byte(servertest.APIV3Key), "TRANSACTION.SUCCESS", "transaction", tx), time.Now())
}

func (n notifier) refund(r map[string]any) *http.Request {
	return n.signed(payments.RefundNotifyPath, n.envelope([]byte(servertest.APIV3Key), "REFUND.SUCCESS", "refund", r), time.Now())
}

// do sends req and returns the status and the answer's body.
func do(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func transaction(number string, fen int64, id string) *wechatpay.Transaction {
	return &wechatpay.Transaction{AppID: servertest.AppID, MchID: servertest.MchID, OutTradeNo: number, TransactionID: id,
		TradeType: "APP", TradeState: "SUCCESS", SuccessTime: time.Now().In(wechatpay.China).Format(time.RFC3339),
		Amount: wechatpay.Amount{Total: fen, PayerTotal: fen, Currency: "CNY"}}
}

// notified is mall_payment_notifications_total of kind and outcome.
func notified(t *testing.T, m *servertest.Mall, kind, outcome string) float64 {
	t.Helper()
	resp, err := http.Get(m.HTTP.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	want := fmt.Sprintf(`mall_payment_notifications_total{kind=%q,outcome=%q} `, kind, outcome)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), want); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

type refusal struct {
	name    string
	req     func() *http.Request
	status  int
	outcome string
}

// check sends each request and wants its status, WeChat Pay's failure
// answer for a refusal, the outcome counted once, and nothing changed.
func check(t *testing.T, m *servertest.Mall, d *testdb.DB, kind string, cases []refusal) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, counted := state(t, d), notified(t, m, kind, tc.outcome)
			status, body := do(t, tc.req())
			if status != tc.status {
				t.Fatalf("answered %d %s, want %d", status, body, tc.status)
			}
			if status >= 400 {
				var a struct{ Code, Message string }
				if err := json.Unmarshal(body, &a); err != nil || a.Code != "FAIL" || a.Message == "" {
					t.Fatalf("answer %s is not WeChat Pay's {code, message} (%v)", body, err)
				}
			}
			if got := notified(t, m, kind, tc.outcome) - counted; got != 1 {
				t.Fatalf("outcome %q counted %v times", tc.outcome, got)
			}
			servertest.SameRows(t, "state changed", before, state(t, d))
		})
	}
}

// A payment notification is trusted only when it is signed by WeChat
// Pay's key within five minutes, decrypts, and names this merchant, this
// app, one of the mall's payments and exactly its amount: anything else is
// 401 (the signature's fault) or 400, counted by reason, and changes
// nothing; the order can still be paid. A trusted notification that
// cannot be applied is 500, for WeChat Pay to send again.
func TestPaymentNotificationRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		wp := servertest.NewWeChatPay(t)
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true, WeChatPay: wp.Pay})
		n := notifier{t, wp, m}
		tea := m.NewProduct("12.00", 100)
		buyer := m.Verified("买家")
		o := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 2}}, nil)
		servertest.MustDo(t, m, buyer.Token, servertest.PayOrderQ, map[string]any{"i": map[string]any{"orderID": o.ID, "channel": "WECHAT_APP"}}, nil)
		fen := servertest.Fen(t, o.Total)
		good := func() *wechatpay.Transaction { return transaction(o.Number, fen, "4200000000000000000000000777") }
		with := func(edit func(*wechatpay.Transaction)) func() *http.Request {
			return func() *http.Request { tx := good(); edit(tx); return n.payment(tx) }
		}
		header := func(name, value string) func() *http.Request {
			return func() *http.Request {
				req := n.payment(good())
				if value == "" {
					req.Header.Del(name)
				} else {
					req.Header.Set(name, value)
				}
				return req
			}
		}
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		check(t, m, d, "payment", []refusal{
			{"signed by another key", func() *http.Request {
				req := n.payment(good())
				body, _ := io.ReadAll(req.Body)
				req.Body = io.NopCloser(bytes.NewReader(body))
				h := req.Header
				sum := sha256.Sum256([]byte(h.Get(wechatpay.HeaderTimestamp) + "\n" + h.Get(wechatpay.HeaderNonce) + "\n" + string(body) + "\n"))
				sig, _ := rsa.SignPKCS1v15(rand.Reader, other, crypto.SHA256, sum[:])
				h.Set(wechatpay.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
				return req
			}, 401, "signature"},
			{"body changed after signing", func() *http.Request {
				req := n.payment(good())
				body, _ := io.ReadAll(req.Body)
				body = bytes.Replace(body, []byte(`"TRANSACTION.SUCCESS"`), []byte(`"TRANSACTION.SUCCESS" `), 1)
				req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
				return req
			}, 401, "signature"},
			{"a garbled signature", header(wechatpay.HeaderSignature, "not base64!"), 401, "signature"},
			{"an unknown Wechatpay-Serial", header(wechatpay.HeaderSerial, "PUB_KEY_ID_0000000000000000000000000000000099"), 401, "unknown_key"},
			{"no signature", header(wechatpay.HeaderSignature, ""), 401, "unsigned"},
			{"no timestamp", header(wechatpay.HeaderTimestamp, ""), 401, "unsigned"},
			{"signed 6 minutes ago", func() *http.Request {
				req, err := wp.Fake.NotificationAt(wp.Pay.NotifyURL, []byte(servertest.APIV3Key), good(), time.Now().Add(-6*time.Minute))
				if err != nil {
					t.Fatal(err)
				}
				return req
			}, 401, "stale"},
			{"signed 6 minutes ahead", func() *http.Request {
				body := n.envelope([]byte(servertest.APIV3Key), "TRANSACTION.SUCCESS", "transaction", good())
				return n.signed(payments.NotifyPath, body, time.Now().Add(6*time.Minute))
			}, 401, "stale"},
			{"a signature probe", header(wechatpay.HeaderSignature, "WECHATPAY/SIGNTEST/"+base64.StdEncoding.EncodeToString([]byte("probe"))), 401, "probe"},
			{"sealed with another APIv3 key", func() *http.Request {
				req, err := wp.Fake.Notification(wp.Pay.NotifyURL, []byte("ffffffffffffffffffffffffffffffff"), good())
				if err != nil {
					t.Fatal(err)
				}
				return req
			}, 400, "decrypt"},
			{"a signed body that is not a notification", func() *http.Request {
				return n.signed(payments.NotifyPath, []byte(`{"hello":"world"}`), time.Now())
			}, 400, "malformed"},
			{"a signed body that is not JSON", func() *http.Request { return n.signed(payments.NotifyPath, []byte("SUCCESS"), time.Now()) }, 400, "malformed"},
			{"a resource that is not a transaction", func() *http.Request {
				return n.signed(payments.NotifyPath, n.envelope([]byte(servertest.APIV3Key), "TRANSACTION.SUCCESS", "transaction", []byte(`[1,2]`)), time.Now())
			}, 400, "malformed"},
			{"paid without a transaction_id", with(func(tx *wechatpay.Transaction) { tx.TransactionID = "" }), 400, "malformed"},
			{"an unknown trade_state", with(func(tx *wechatpay.Transaction) { tx.TradeState = "MAYBE" }), 400, "malformed"},
			{"one fen more", with(func(tx *wechatpay.Transaction) { tx.Amount.Total++ }), 400, "amount"},
			{"one fen less", with(func(tx *wechatpay.Transaction) { tx.Amount.Total-- }), 400, "amount"},
			{"another merchant's transaction", with(func(tx *wechatpay.Transaction) { tx.MchID = "1900000999" }), 400, "merchant"},
			{"another app's transaction", with(func(tx *wechatpay.Transaction) { tx.AppID = "wx9999999999999999" }), 400, "app"},
			{"an out_trade_no the mall does not have", with(func(tx *wechatpay.Transaction) { tx.OutTradeNo = "209901010000000000000001" }), 400, "unknown_order"},
			{"too large", func() *http.Request {
				return n.signed(payments.NotifyPath, bytes.Repeat([]byte(" "), 65<<10), time.Now())
			}, 413, "too_large"},
			{"a transaction not paid (NOTPAY): nothing to apply", with(func(tx *wechatpay.Transaction) { tx.TradeState, tx.TransactionID = "NOTPAY", "" }), 204, "ignored"},
		})

		// None of it got in the way of the real one.
		if status, body := do(t, n.payment(good())); status != http.StatusNoContent {
			t.Fatalf("the real notification answered %d %s", status, body)
		}
		if st := servertest.OrderStatus(t, d, o.ID); st != "PAID" {
			t.Fatalf("order %s", st)
		}
		check(t, m, d, "payment", []refusal{
			{"another transaction for the paid order: not applied, sent again", with(func(tx *wechatpay.Transaction) {
				tx.TransactionID = "4200000000000000000000000888"
			}), 500, "error"},
		})
		if status, _ := do(t, n.payment(good())); status != http.StatusNoContent {
			t.Fatalf("the repeat answered %d", status)
		}
		resp, err := http.Get(m.HTTP.URL + payments.NotifyPath)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("GET answered %d", resp.StatusCode)
		}
	})
}

// A refund notification is trusted as a payment's is, and must name one
// of the mall's refunds and its amount; only then does it refund the
// order.
func TestRefundNotificationRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		wp := servertest.NewWeChatPay(t)
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true, WeChatPay: wp.Pay})
		n := notifier{t, wp, m}
		tea := m.NewProduct("12.00", 100)
		buyer := m.Verified("买家")
		o := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 1}}, nil)
		servertest.MustDo(t, m, buyer.Token, servertest.PayOrderQ, map[string]any{"i": map[string]any{"orderID": o.ID, "channel": "WECHAT_APP"}}, nil)
		tx, err := wp.Fake.Pay(o.Number)
		if err != nil {
			t.Fatal(err)
		}
		wp.Fake.Wait()
		servertest.MustOrder(t, m, m.Admin, servertest.RefundOrderQ, map[string]any{"i": map[string]any{"orderID": o.ID, "reason": "缺货"}})
		fen := servertest.Fen(t, o.Total)
		good := func() map[string]any {
			return map[string]any{"mchid": servertest.MchID, "out_trade_no": o.Number, "transaction_id": tx.TransactionID,
				"out_refund_no": payments.OutRefundNo(o.Number), "refund_id": "50300000000000000000000000001", "refund_status": "SUCCESS",
				"amount": map[string]any{"total": fen, "refund": fen, "payer_total": fen, "payer_refund": fen}}
		}
		with := func(edit func(map[string]any)) func() *http.Request {
			return func() *http.Request { r := good(); edit(r); return n.refund(r) }
		}
		check(t, m, d, "refund", []refusal{
			{"signed 6 minutes ago", func() *http.Request {
				return n.signed(payments.RefundNotifyPath, n.envelope([]byte(servertest.APIV3Key), "REFUND.SUCCESS", "refund", good()), time.Now().Add(-6*time.Minute))
			}, 401, "stale"},
			{"an unknown Wechatpay-Serial", func() *http.Request {
				req := n.refund(good())
				req.Header.Set(wechatpay.HeaderSerial, "PUB_KEY_ID_0000000000000000000000000000000099")
				return req
			}, 401, "unknown_key"},
			{"a signature probe", func() *http.Request {
				req := n.refund(good())
				req.Header.Set(wechatpay.HeaderSignature, "WECHATPAY/SIGNTEST/AAAA")
				return req
			}, 401, "probe"},
			{"no out_refund_no", with(func(r map[string]any) { delete(r, "out_refund_no") }), 400, "malformed"},
			{"another merchant's refund", with(func(r map[string]any) { r["mchid"] = "1900000999" }), 400, "merchant"},
			{"an out_refund_no the mall does not have", with(func(r map[string]any) { r["out_refund_no"] = "209901010000000000000001R" }), 400, "unknown_order"},
			{"another amount", with(func(r map[string]any) { r["amount"].(map[string]any)["refund"] = fen - 1 }), 400, "amount"},
		})
		if st := servertest.OrderStatus(t, d, o.ID); st != "PAID" {
			t.Fatalf("order %s after the refusals", st)
		}
		if status, body := do(t, n.refund(good())); status != http.StatusNoContent {
			t.Fatalf("the real refund notification answered %d %s", status, body)
		}
		if st := servertest.OrderStatus(t, d, o.ID); st != "REFUNDED" {
			t.Fatalf("order %s", st)
		}
	})
}

// Without WeChat Pay the notification endpoints do not exist.
func TestNotifyWithoutWeChatPay(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		for _, path := range []string{payments.NotifyPath, payments.RefundNotifyPath} {
			resp, err := http.Post(m.HTTP.URL+path, "application/json", strings.NewReader(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("POST %s answered %d, want 404", path, resp.StatusCode)
			}
		}
	})
}

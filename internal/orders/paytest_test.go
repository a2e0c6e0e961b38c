package orders_test

// Fixtures of the payment tests: a mall with a fake WeChat Pay whose API
// requests are recorded, payOrder, the stored payment, snapshots that
// prove nothing changed, notifications sent by hand, the metrics, and a
// deadline loop.

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"unionmall/ent"
	"unionmall/ent/payment"
	"unionmall/internal/gid"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
	"unionmall/internal/wechatpay"
	"unionmall/internal/wechatpay/wechatpaytest"
)

// payMall is a mall taking WeChat Pay from a fake, and what the mall sent
// the fake.
type payMall struct {
	*servertest.Mall
	d    *testdb.DB
	wp   *servertest.WeChatPay
	fake *wechatpaytest.Server
	sent *recorder
}

// newPayMall starts a mall (workers off unless o says otherwise: set
// o.NoWorkers yourself) on d with a fake WeChat Pay.
func newPayMall(t *testing.T, d *testdb.DB, o servertest.Options, opts ...wechatpaytest.Option) *payMall {
	t.Helper()
	wp := servertest.NewWeChatPay(t, opts...)
	rec := &recorder{next: http.DefaultTransport}
	wp.Pay.Client.HTTP = &http.Client{Timeout: 2 * time.Second, Transport: rec}
	o.WeChatPay = wp.Pay
	return &payMall{Mall: servertest.Start(t, d, o), d: d, wp: wp, fake: wp.Fake, sent: rec}
}

// recorder keeps every request the mall sends to WeChat Pay.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []sentRequest
}

type sentRequest struct {
	Method, Path string
	Body         []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		c := req.Clone(req.Context())
		c.Body = io.NopCloser(bytes.NewReader(body))
		req = c
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, sentRequest{Method: req.Method, Path: req.URL.Path, Body: body})
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

// prepayBody is a prepay request as WeChat Pay reads it.
type prepayBody struct {
	AppID, MchID, Description string
	OutTradeNo                string `json:"out_trade_no"`
	TimeExpire                string `json:"time_expire"`
	NotifyURL                 string `json:"notify_url"`
	Amount                    struct {
		Total    int64
		Currency string
	}
	Payer *struct{ OpenID string }
}

// prepays are the prepay requests the mall sent for an out_trade_no.
func (r *recorder) prepays(t testing.TB, outTradeNo string) (paths []string, bodies []prepayBody) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, q := range r.reqs {
		if q.Method != http.MethodPost || !strings.HasPrefix(q.Path, "/v3/pay/transactions/") || strings.HasSuffix(q.Path, "/close") {
			continue
		}
		var b prepayBody
		if err := json.Unmarshal(q.Body, &b); err != nil {
			t.Fatalf("prepay body %s: %v", q.Body, err)
		}
		if b.OutTradeNo == outTradeNo {
			paths, bodies = append(paths, q.Path), append(bodies, b)
		}
	}
	return paths, bodies
}

// calls counts the fake's API calls with the method and path (status < 0:
// any status).
func calls(f *wechatpaytest.Server, method, path string, status int) int {
	n := 0
	for _, c := range f.Calls() {
		if c.Method == method && c.Path == path && (status < 0 || c.Status == status) {
			n++
		}
	}
	return n
}

func closePath(number string) string { return "/v3/pay/transactions/out-trade-no/" + number + "/close" }
func queryPath(number string) string { return "/v3/pay/transactions/out-trade-no/" + number }

const refundsPath = "/v3/refund/domestic/refunds"

// payRequest is what payOrder returns.
type payRequest struct {
	Channel, ExpiresAt string
	SandboxURL         *string
	Order              struct {
		ID, Number, Status, Total string
		Payment                   *apiPayment
	}
	Jsapi *struct{ AppID, TimeStamp, NonceStr, Package, SignType, PaySign string }
	App   *struct{ Appid, Partnerid, Prepayid, Package, Noncestr, Timestamp, Sign string }
}

// apiPayment is an order's payment as the API shows it.
type apiPayment struct {
	Channel, Status, Amount string
	ProviderTransactionID   *string
	PaidAt, RefundedAt      *string
}

func payVars(orderID, channel, openID string) map[string]any {
	in := map[string]any{"orderID": orderID, "channel": channel}
	if openID != "" {
		in["openID"] = openID
	}
	return map[string]any{"i": in}
}

// payOrder starts (or resumes) the order's payment, failing on any error.
func (pm *payMall) payOrder(t testing.TB, token, orderID, channel, openID string) payRequest {
	t.Helper()
	var out struct{ PayOrder payRequest }
	servertest.MustDo(t, pm.Mall, token, servertest.PayOrderQ, payVars(orderID, channel, openID), &out)
	return out.PayOrder
}

// started places an order of qty units of product and starts its payment
// by JSAPI.
func (pm *payMall) started(t testing.TB, token, product string, qty int) servertest.Order {
	t.Helper()
	o := servertest.PlaceOrder(t, pm.Mall, token, []servertest.Line{{ID: product, Qty: qty}}, nil)
	pm.payOrder(t, token, o.ID, "WECHAT_JSAPI", "o-payer-"+o.Number)
	return o
}

// buyFlash buys units of a flash sale and returns the order.
func buyFlash(t testing.TB, m *servertest.Mall, token, sale string, units int) servertest.Order {
	t.Helper()
	var out struct{ BuyFlashSale struct{ ID string } }
	servertest.MustDo(t, m, token, servertest.BuyQ, map[string]any{"i": map[string]any{"flashSaleID": sale, "quantity": units}}, &out)
	return orderNode(t, m, token, out.BuyFlashSale.ID)
}

// orderNode reads an order through the API.
func orderNode(t testing.TB, m *servertest.Mall, token, id string) servertest.Order {
	t.Helper()
	var o servertest.Order
	servertest.MustDo(t, m, token, servertest.OrderNodeQ, map[string]any{"id": id}, &struct{ Node *servertest.Order }{&o})
	return o
}

const orderPaymentQ = `query($id: ID!) { node(id: $id) { ... on Order { status paidAt
	payment { channel status amount providerTransactionID paidAt refundedAt } } } }`

// apiOrderPayment is the order's status and payment through the API.
func apiOrderPayment(t testing.TB, m *servertest.Mall, token, id string) (string, *apiPayment) {
	t.Helper()
	var out struct {
		Node struct {
			Status  string
			Payment *apiPayment
		}
	}
	servertest.MustDo(t, m, token, orderPaymentQ, map[string]any{"id": id}, &out)
	return out.Node.Status, out.Node.Payment
}

// paymentOf is the order's stored payment.
func (pm *payMall) paymentOf(t testing.TB, orderID string) *ent.Payment {
	t.Helper()
	p, err := pm.Server.DB.Client.Payment.Query().Where(payment.OrderID(gid.ID(orderID))).Only(context.Background())
	if err != nil {
		t.Fatalf("payment of %s: %v", orderID, err)
	}
	return p
}

// makeDue sets the order's payment's next check to the past: the backoff
// (or lease) is over.
func (pm *payMall) makeDue(t testing.TB, orderID string) {
	t.Helper()
	if err := pm.Server.DB.Client.Payment.Update().Where(payment.OrderID(gid.ID(orderID))).
		SetNextCheckAt(time.Now().Add(-time.Second).UTC()).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// reference is the order's stored payment_reference ("" for none).
func reference(t testing.TB, d *testdb.DB, orderID string) string {
	t.Helper()
	var ref *string
	if err := d.Pool.QueryRow(d.Q(`SELECT payment_reference FROM orders WHERE id = ?`), orderID).Scan(&ref); err != nil {
		t.Fatal(err)
	}
	if ref == nil {
		return ""
	}
	return *ref
}

// state is everything a payment may change: the order state and the
// payments table.
func state(t testing.TB, d *testdb.DB) []string {
	t.Helper()
	return append(servertest.OrderState(t, d), servertest.RowLines(t, d, "payments", `SELECT * FROM payments ORDER BY id`)...)
}

func unchanged(t testing.TB, d *testdb.DB, before []string) {
	t.Helper()
	servertest.SameRows(t, "state changed", before, state(t, d))
}

// transaction is what WeChat Pay reports of a paid order, for a
// notification made by hand.
func transaction(number string, totalFen int64, id string) *wechatpay.Transaction {
	return &wechatpay.Transaction{AppID: servertest.AppID, MchID: servertest.MchID, OutTradeNo: number, TransactionID: id,
		TradeType: "JSAPI", TradeState: "SUCCESS", SuccessTime: time.Now().In(wechatpay.China).Format(time.RFC3339),
		Amount: wechatpay.Amount{Total: totalFen, PayerTotal: totalFen, Currency: "CNY"}}
}

// send posts a copy of a notification (made by Notification) to url and
// returns the status.
func send(client *http.Client, url string, h http.Header, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header = h.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// notification builds the signed notification of tx to the mall's notify
// URL: its headers and body.
func (pm *payMall) notification(t testing.TB, tx *wechatpay.Transaction) (http.Header, []byte) {
	t.Helper()
	req, err := pm.fake.Notification(pm.wp.Pay.NotifyURL, []byte(servertest.APIV3Key), tx)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(req.Body)
	return req.Header, body
}

// verifies fails unless sig is an SHA256-with-RSA signature by key over the
// fields, each followed by "\n".
func verifies(t testing.TB, key *rsa.PublicKey, sig string, fields ...string) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		t.Fatalf("signature %q: %v", sig, err)
	}
	sum := sha256.Sum256([]byte(strings.Join(fields, "\n") + "\n"))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], raw); err != nil {
		t.Fatalf("signature over %q does not verify: %v", fields, err)
	}
}

// metric reads a sample of the mall's /metrics (0 when absent).
func metric(t testing.TB, m *servertest.Mall, name string, labels map[string]string) float64 {
	t.Helper()
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sel []string
	for _, k := range keys {
		sel = append(sel, fmt.Sprintf("%s=%q", k, labels[k]))
	}
	want := name
	if len(sel) > 0 {
		want += "{" + strings.Join(sel, ",") + "}"
	}
	resp, err := m.HTTP.Client().Get(m.HTTP.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), want+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", sc.Text(), err)
			}
			return f
		}
	}
	return 0
}

func event(t testing.TB, m *servertest.Mall, e string) float64 {
	t.Helper()
	return metric(t, m, "mall_payments_total", map[string]string{"event": e})
}

func notified(t testing.TB, m *servertest.Mall, kind, outcome string) float64 {
	t.Helper()
	return metric(t, m, "mall_payment_notifications_total", map[string]string{"kind": kind, "outcome": outcome})
}

// eventually waits (at most 15 s) until cond holds, failing with what.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s", what)
		}
	}
}

// waitPast waits until the clock is past at.
func waitPast(t testing.TB, at time.Time) {
	t.Helper()
	eventually(t, "past "+at.String(), func() bool { return time.Now().After(at.Add(10 * time.Millisecond)) })
}

// wantStatuses fails unless the posts of key's notifications were
// answered so.
func wantStatuses(t testing.TB, f *wechatpaytest.Server, key string, want ...int) {
	t.Helper()
	if got := f.Statuses(key); !slices.Equal(got, want) {
		t.Fatalf("notifications of %s answered %v, want %v", key, got, want)
	}
}

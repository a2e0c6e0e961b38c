// Package wechatpaytest is a fake WeChat Pay (API v3) for tests. Like the
// real one it has its own RSA key, refuses requests whose
// WECHATPAY2-SHA256-RSA2048 signature does not verify with the merchant's
// public key, and signs every answer; it keeps the provider orders and
// refunds it was asked for, and posts their signed, encrypted
// notifications to their notify_url itself, retrying until answered 2xx
// (deliver.go). It serves the day's trade bill built from them
// (bill.go). Tests can break it on either side: the API down, slow or
// failing (faults.go), notifications dropped, repeated, delayed or
// reordered (deliver.go), bill rows added, removed or altered (bill.go).
//
// It posts only to loopback addresses, and never checks TLS: notify_url
// is http://127.0.0.1:port/... in tests.
package wechatpaytest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"unionmall/internal/wechatpay"
)

// KeyID names the fake's public key (Wechatpay-Serial).
const KeyID = "PUB_KEY_ID_0000000000000000000000000000000001"

// Server is the fake provider. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	MchID       string
	MerchantKey *rsa.PublicKey
	Key         *rsa.PrivateKey // signs the answers and notifications

	apiV3Key      []byte
	retries       []time.Duration
	notifyTimeout time.Duration
	now           func() time.Time

	mu      sync.Mutex
	orders  map[string]*order  // by out_trade_no
	refunds map[string]*refund // by out_refund_no
	seq     int

	api  apiFaults // faults.go
	dl   deliveries
	bill billState // bill.go
}

// order is a provider order and what the fake knows beside its
// Transaction.
type order struct {
	tx          *wechatpay.Transaction
	notifyURL   string
	description string
	openID      string
	expires     time.Time
	paidAt      time.Time
	// prepayID is answered to every prepay of the order, as WeChat Pay
	// answers a repeated prepay with the same parameters.
	prepayID string
}

type refund struct {
	r         *wechatpay.Refund
	notifyURL string
	successAt time.Time
}

// Option configures a Server at Start.
type Option func(*Server)

// WithAPIv3Key sets the APIv3 key that notifications are encrypted with
// (32 bytes; by default a random one, see APIv3Key).
func WithAPIv3Key(key []byte) Option {
	return func(s *Server) { s.apiV3Key = append([]byte(nil), key...) }
}

// WithRetries sets the waits between a notification's posts after a
// failed one (by default WeChatRetries); after the last, it gives up.
func WithRetries(waits ...time.Duration) Option {
	return func(s *Server) { s.retries = append([]time.Duration(nil), waits...) }
}

// WithNotifyTimeout sets how long a post waits for the merchant's answer
// (by default 5 s, as WeChat Pay).
func WithNotifyTimeout(d time.Duration) Option { return func(s *Server) { s.notifyTimeout = d } }

// WithClock sets the clock of the fake's business times: success_time,
// refunds' success, the bill's days. Signatures always use the real time.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WeChatRetries is WeChat Pay's schedule of notification retries
// (15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h, 24h4m in all).
var WeChatRetries = []time.Duration{15 * time.Second, 15 * time.Second, 30 * time.Second, 3 * time.Minute,
	10 * time.Minute, 20 * time.Minute, 30 * time.Minute, 30 * time.Minute, 30 * time.Minute, time.Hour,
	3 * time.Hour, 3 * time.Hour, 3 * time.Hour, 6 * time.Hour, 6 * time.Hour}

// Start runs a fake for the merchant mchID whose requests verify with
// merchantKey. Close stops it, and its notifications' retries.
func Start(mchID string, merchantKey *rsa.PublicKey, opts ...Option) *Server {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	s := &Server{MchID: mchID, MerchantKey: merchantKey, Key: key, retries: WeChatRetries,
		notifyTimeout: 5 * time.Second, now: time.Now,
		orders: map[string]*order{}, refunds: map[string]*refund{}}
	s.apiV3Key = []byte(wechatpay.Nonce())
	for _, o := range opts {
		o(s)
	}
	s.dl.init(s)
	s.bill.downloads = map[string]download{}
	// Assigned before it serves, so the handlers read s.Server (s.URL)
	// race-free.
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Server.Start()
	return s
}

// APIv3Key is the key notifications are encrypted with.
func (s *Server) APIv3Key() []byte { return append([]byte(nil), s.apiV3Key...) }

// Verifier verifies the fake's answers and notifications.
func (s *Server) Verifier() wechatpay.Verifier {
	return wechatpay.Verifier{Keys: map[string]*rsa.PublicKey{KeyID: &s.Key.PublicKey}}
}

// Pay makes the payer pay an open provider order, as if in WeChat, and
// posts TRANSACTION.SUCCESS to the order's notify_url.
func (s *Server) Pay(outTradeNo string) (*wechatpay.Transaction, error) {
	s.mu.Lock()
	o := s.orders[outTradeNo]
	now := s.now()
	switch {
	case o == nil || o.tx.TradeState != "NOTPAY":
		s.mu.Unlock()
		return nil, fmt.Errorf("wechatpaytest: %s is not awaiting payment", outTradeNo)
	case now.After(o.expires):
		s.mu.Unlock()
		return nil, fmt.Errorf("wechatpaytest: %s expired at %s", outTradeNo, o.expires.Format(time.RFC3339))
	}
	s.seq++
	t := o.tx
	t.TradeState, t.TransactionID = "SUCCESS", fmt.Sprintf("42000%023d", s.seq)
	o.paidAt = now
	t.SuccessTime = now.In(wechatpay.China).Format(time.RFC3339)
	t.Amount.PayerTotal = t.Amount.Total
	c := *t
	resource := transactionResource{Transaction: &c, TradeStateDesc: "支付成功", BankType: "OTHERS"}
	resource.Amount.Amount, resource.Amount.PayerCurrency = c.Amount, "CNY"
	resource.Payer.OpenID = o.openID
	url := o.notifyURL
	s.mu.Unlock()
	plain, err := json.Marshal(resource)
	if err != nil {
		return nil, err
	}
	s.notify("TRANSACTION.SUCCESS", outTradeNo, url, "transaction", plain)
	return &c, nil
}

// transactionResource is a payment notification's resource.
type transactionResource struct {
	*wechatpay.Transaction
	TradeStateDesc string `json:"trade_state_desc"`
	BankType       string `json:"bank_type"`
	Attach         string `json:"attach"`
	Payer          struct {
		OpenID string `json:"openid,omitempty"`
	} `json:"payer"`
	Amount struct {
		wechatpay.Amount
		PayerCurrency string `json:"payer_currency"`
	} `json:"amount"`
}

var authRE = regexp.MustCompile(`^WECHATPAY2-SHA256-RSA2048 mchid="([^"]*)",nonce_str="([^"]*)",signature="([^"]*)",timestamp="([^"]*)",serial_no="([^"]*)"$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sw := &statusWriter{ResponseWriter: w}
	defer func() { s.api.record(s, r, sw.status) }()
	if !s.api.inject(s, sw, r) {
		return
	}
	m := authRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || m[1] != s.MchID || !s.signedByMerchant(r.Method, r.URL.RequestURI(), m[4], m[2], string(body), m[3]) {
		s.answer(sw, http.StatusUnauthorized, map[string]string{"code": "SIGN_ERROR", "message": "签名错误"})
		return
	}
	path := r.URL.Path
	const tx, refunds = "/v3/pay/transactions/out-trade-no/", "/v3/refund/domestic/refunds"
	switch {
	case r.Method == http.MethodPost && (path == "/v3/pay/transactions/jsapi" || path == "/v3/pay/transactions/app"):
		s.prepay(sw, body, strings.TrimPrefix(path, "/v3/pay/transactions/"))
	case r.Method == http.MethodGet && strings.HasPrefix(path, tx):
		s.query(sw, strings.TrimPrefix(path, tx))
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/close") && strings.HasPrefix(path, tx):
		s.closeOrder(sw, strings.TrimSuffix(strings.TrimPrefix(path, tx), "/close"))
	case r.Method == http.MethodPost && path == refunds:
		s.refund(sw, body)
	case r.Method == http.MethodGet && strings.HasPrefix(path, refunds+"/"):
		s.queryRefund(sw, strings.TrimPrefix(path, refunds+"/"))
	case r.Method == http.MethodGet && path == "/v3/bill/tradebill":
		s.tradeBill(sw, r.URL.Query())
	case r.Method == http.MethodGet && path == downloadPath:
		s.download(sw, r.URL.Query().Get("token"))
	default:
		s.answer(sw, http.StatusNotFound, map[string]string{"code": "NOT_FOUND", "message": "no such API"})
	}
}

func (s *Server) signedByMerchant(method, uri, ts, nonce, body, sig string) bool {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(method + "\n" + uri + "\n" + ts + "\n" + nonce + "\n" + body + "\n"))
	return rsa.VerifyPKCS1v15(s.MerchantKey, crypto.SHA256, sum[:], raw) == nil
}

func (s *Server) prepay(w http.ResponseWriter, body []byte, tradeType string) {
	var p struct {
		AppID       string           `json:"appid"`
		MchID       string           `json:"mchid"`
		Description string           `json:"description"`
		OutTradeNo  string           `json:"out_trade_no"`
		TimeExpire  string           `json:"time_expire"`
		NotifyURL   string           `json:"notify_url"`
		Amount      wechatpay.Amount `json:"amount"`
		Payer       *struct {
			OpenID string `json:"openid"`
		} `json:"payer"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.OutTradeNo == "" || p.Amount.Total <= 0 || p.MchID != s.MchID ||
		(tradeType == "jsapi" && (p.Payer == nil || p.Payer.OpenID == "")) {
		s.answer(w, http.StatusBadRequest, map[string]string{"code": "PARAM_ERROR", "message": "参数错误"})
		return
	}
	expires, err := time.Parse(time.RFC3339, p.TimeExpire)
	if u, uerr := url.Parse(p.NotifyURL); err != nil || uerr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		s.answer(w, http.StatusBadRequest, map[string]string{"code": "PARAM_ERROR", "message": "time_expire or notify_url"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[p.OutTradeNo]
	switch {
	case o == nil:
		o = &order{tx: &wechatpay.Transaction{AppID: p.AppID, MchID: p.MchID, OutTradeNo: p.OutTradeNo, TradeType: strings.ToUpper(tradeType),
			TradeState: "NOTPAY", Amount: wechatpay.Amount{Total: p.Amount.Total, Currency: "CNY"}},
			notifyURL: p.NotifyURL, description: p.Description, expires: expires,
			prepayID: "wx" + strconv.Itoa(len(s.orders)+1) + p.OutTradeNo}
		if p.Payer != nil {
			o.openID = p.Payer.OpenID
		}
		s.orders[p.OutTradeNo] = o
	case o.tx.Amount.Total != p.Amount.Total:
		s.answer(w, http.StatusBadRequest, map[string]string{"code": "INVALID_REQUEST", "message": "参数与首次请求时不一致"})
		return
	case o.tx.Paid():
		s.answer(w, http.StatusBadRequest, map[string]string{"code": "ORDERPAID", "message": "该订单已支付"})
		return
	case o.tx.TradeState == "CLOSED":
		s.answer(w, http.StatusBadRequest, map[string]string{"code": "ORDER_CLOSED", "message": "订单已关闭"})
		return
	}
	s.answer(w, http.StatusOK, map[string]string{"prepay_id": o.prepayID})
}

func (s *Server) query(w http.ResponseWriter, outTradeNo string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[outTradeNo]
	if o == nil {
		s.answer(w, http.StatusNotFound, map[string]string{"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
		return
	}
	s.answer(w, http.StatusOK, o.tx)
}

func (s *Server) closeOrder(w http.ResponseWriter, outTradeNo string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[outTradeNo]
	switch {
	case o == nil:
		s.answer(w, http.StatusNotFound, map[string]string{"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
	case o.tx.Paid():
		s.answer(w, http.StatusBadRequest, map[string]string{"code": "ORDERPAID", "message": "该订单已支付"})
	default:
		o.tx.TradeState = "CLOSED"
		s.answer(w, http.StatusNoContent, nil)
	}
}

// answer writes v (nil: no body) signed with the fake's key.
func (s *Server) answer(w http.ResponseWriter, status int, v any) {
	var body []byte
	if v != nil {
		body, _ = json.Marshal(v)
	}
	h := w.Header()
	s.Sign(h, body, time.Now())
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Sign sets the headers WeChat Pay signs body with, as of at.
func (s *Server) Sign(h http.Header, body []byte, at time.Time) {
	ts, nonce := strconv.FormatInt(at.Unix(), 10), wechatpay.Nonce()
	sum := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + string(body) + "\n"))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, s.Key, crypto.SHA256, sum[:])
	h.Set(wechatpay.HeaderSerial, KeyID)
	h.Set(wechatpay.HeaderTimestamp, ts)
	h.Set(wechatpay.HeaderNonce, nonce)
	h.Set(wechatpay.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
}

// Close stops the fake: its notifications' retries end (Deliveries shows
// them Stopped), then its server.
func (s *Server) Close() {
	s.dl.close()
	s.Server.Close()
}

// stopped is done once Close began.
func (s *Server) stopped() context.Context { return s.dl.ctx }

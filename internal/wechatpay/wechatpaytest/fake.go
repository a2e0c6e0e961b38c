// Package wechatpaytest is a fake WeChat Pay (API v3) for tests: it has
// its own RSA key, refuses requests whose WECHATPAY2-SHA256-RSA2048
// signature does not verify with the merchant's public key, keeps the
// provider orders it was asked to open, and signs every answer as WeChat
// Pay does, so the client under test must verify it.
package wechatpaytest

import (
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
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"unionmall/internal/wechatpay"
)

// KeyID names the fake's public key (Wechatpay-Serial).
const KeyID = "PUB_KEY_ID_0000000000000000000000000000000001"

// Server is the fake provider.
type Server struct {
	*httptest.Server
	MchID       string
	MerchantKey *rsa.PublicKey
	Key         *rsa.PrivateKey // signs the answers

	mu      sync.Mutex
	orders  map[string]*wechatpay.Transaction // by out_trade_no
	refunds map[string]*wechatpay.Refund      // by out_refund_no
	seq     int
}

// Start runs a fake for the merchant mchID whose requests verify with
// merchantKey.
func Start(mchID string, merchantKey *rsa.PublicKey) *Server {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	s := &Server{MchID: mchID, MerchantKey: merchantKey, Key: key,
		orders: map[string]*wechatpay.Transaction{}, refunds: map[string]*wechatpay.Refund{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Verifier verifies the fake's answers.
func (s *Server) Verifier() wechatpay.Verifier {
	return wechatpay.Verifier{Keys: map[string]*rsa.PublicKey{KeyID: &s.Key.PublicKey}}
}

// Pay makes the payer pay an open provider order, as if in WeChat.
func (s *Server) Pay(outTradeNo string) (*wechatpay.Transaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.orders[outTradeNo]
	if t == nil || t.TradeState != "NOTPAY" {
		return nil, fmt.Errorf("wechatpaytest: %s is not awaiting payment", outTradeNo)
	}
	s.seq++
	t.TradeState, t.TransactionID = "SUCCESS", fmt.Sprintf("42000%023d", s.seq)
	t.SuccessTime = time.Now().Format(time.RFC3339)
	t.Amount.PayerTotal = t.Amount.Total
	c := *t
	return &c, nil
}

var authRE = regexp.MustCompile(`^WECHATPAY2-SHA256-RSA2048 mchid="([^"]*)",nonce_str="([^"]*)",signature="([^"]*)",timestamp="([^"]*)",serial_no="([^"]*)"$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m := authRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || m[1] != s.MchID || !s.signedByMerchant(r.Method, r.URL.RequestURI(), m[4], m[2], string(body), m[3]) {
		s.answer(w, http.StatusUnauthorized, map[string]string{"code": "SIGN_ERROR", "message": "签名错误"})
		return
	}
	path := r.URL.Path
	switch {
	case r.Method == http.MethodPost && (path == "/v3/pay/transactions/jsapi" || path == "/v3/pay/transactions/app"):
		s.prepay(w, body, strings.TrimPrefix(path, "/v3/pay/transactions/"))
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/v3/pay/transactions/out-trade-no/"):
		s.query(w, strings.TrimPrefix(path, "/v3/pay/transactions/out-trade-no/"))
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/close") && strings.HasPrefix(path, "/v3/pay/transactions/out-trade-no/"):
		s.closeOrder(w, strings.TrimSuffix(strings.TrimPrefix(path, "/v3/pay/transactions/out-trade-no/"), "/close"))
	case r.Method == http.MethodPost && path == "/v3/refund/domestic/refunds":
		s.refund(w, body)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/v3/refund/domestic/refunds/"):
		s.queryRefund(w, strings.TrimPrefix(path, "/v3/refund/domestic/refunds/"))
	default:
		s.answer(w, http.StatusNotFound, map[string]string{"code": "NOT_FOUND", "message": "no such API"})
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
		AppID      string           `json:"appid"`
		MchID      string           `json:"mchid"`
		OutTradeNo string           `json:"out_trade_no"`
		TimeExpire string           `json:"time_expire"`
		Amount     wechatpay.Amount `json:"amount"`
		Payer      *struct {
			OpenID string `json:"openid"`
		} `json:"payer"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.OutTradeNo == "" || p.Amount.Total <= 0 || p.MchID != s.MchID ||
		(tradeType == "jsapi" && (p.Payer == nil || p.Payer.OpenID == "")) {
		s.answer(w, http.StatusBadRequest, map[string]string{"code": "PARAM_ERROR", "message": "参数错误"})
		return
	}
	if _, err := time.Parse(time.RFC3339, p.TimeExpire); err != nil {
		s.answer(w, http.StatusBadRequest, map[string]string{"code": "PARAM_ERROR", "message": "time_expire"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.orders[p.OutTradeNo]
	switch {
	case t == nil:
		t = &wechatpay.Transaction{AppID: p.AppID, MchID: p.MchID, OutTradeNo: p.OutTradeNo, TradeType: strings.ToUpper(tradeType),
			TradeState: "NOTPAY", Amount: wechatpay.Amount{Total: p.Amount.Total, Currency: "CNY"}}
		s.orders[p.OutTradeNo] = t
	case t.Amount.Total != p.Amount.Total:
		s.answer(w, http.StatusBadRequest, map[string]string{"code": "INVALID_REQUEST", "message": "参数与首次请求时不一致"})
		return
	case t.TradeState == "SUCCESS":
		s.answer(w, http.StatusBadRequest, map[string]string{"code": "ORDERPAID", "message": "该订单已支付"})
		return
	}
	s.answer(w, http.StatusOK, map[string]string{"prepay_id": "wx" + strconv.Itoa(len(s.orders)) + p.OutTradeNo})
}

func (s *Server) query(w http.ResponseWriter, outTradeNo string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.orders[outTradeNo]
	if t == nil {
		s.answer(w, http.StatusNotFound, map[string]string{"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
		return
	}
	s.answer(w, http.StatusOK, t)
}

func (s *Server) closeOrder(w http.ResponseWriter, outTradeNo string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.orders[outTradeNo]
	switch {
	case t == nil:
		s.answer(w, http.StatusNotFound, map[string]string{"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
	case t.Paid():
		s.answer(w, http.StatusBadRequest, map[string]string{"code": "ORDERPAID", "message": "该订单已支付"})
	default:
		t.TradeState = "CLOSED"
		s.answer(w, http.StatusNoContent, nil)
	}
}

func (s *Server) refund(w http.ResponseWriter, body []byte) {
	var p struct {
		OutTradeNo  string `json:"out_trade_no"`
		OutRefundNo string `json:"out_refund_no"`
		Amount      struct {
			Refund int64 `json:"refund"`
			Total  int64 `json:"total"`
		} `json:"amount"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.OutRefundNo == "" {
		s.answer(w, http.StatusBadRequest, map[string]string{"code": "PARAM_ERROR", "message": "参数错误"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.refunds[p.OutRefundNo]; r != nil { // the same refund asked again
		s.answer(w, http.StatusOK, r)
		return
	}
	t := s.orders[p.OutTradeNo]
	if t == nil || !t.Paid() || p.Amount.Total != t.Amount.Total || p.Amount.Refund <= 0 || p.Amount.Refund > t.Amount.Total {
		s.answer(w, http.StatusBadRequest, map[string]string{"code": "INVALID_REQUEST", "message": "退款请求与订单不符"})
		return
	}
	s.seq++
	r := &wechatpay.Refund{RefundID: fmt.Sprintf("50300%023d", s.seq), OutRefundNo: p.OutRefundNo, OutTradeNo: p.OutTradeNo, Status: "PROCESSING"}
	r.Amount.Refund, r.Amount.Total = p.Amount.Refund, p.Amount.Total
	s.refunds[p.OutRefundNo] = r
	t.TradeState = "REFUND"
	s.answer(w, http.StatusOK, r)
}

// CompleteRefund makes a processing refund succeed.
func (s *Server) CompleteRefund(outRefundNo string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.refunds[outRefundNo]; r != nil {
		r.Status = "SUCCESS"
	}
}

func (s *Server) queryRefund(w http.ResponseWriter, outRefundNo string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.refunds[outRefundNo]
	if r == nil {
		s.answer(w, http.StatusNotFound, map[string]string{"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"})
		return
	}
	s.answer(w, http.StatusOK, r)
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

package wechatpay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is WeChat Pay's API host (WECHATPAY_BASE_URL replaces it).
const DefaultBaseURL = "https://api.mch.weixin.qq.com"

// Client calls WeChat Pay for one merchant and app. Every request is signed
// (Merchant.Authorization) and every answer's signature is verified
// (Verifier) before its body is believed.
type Client struct {
	BaseURL  string // no trailing slash
	Merchant Merchant
	AppID    string
	Verifier Verifier
	HTTP     *http.Client // nil: a client with a 10 s timeout
}

// APIError is WeChat Pay's refusal: its HTTP status and its code.
type APIError struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wechatpay: %d %s: %s", e.Status, e.Code, e.Message)
}

// Amount is an amount in fen, as WeChat Pay carries it.
type Amount struct {
	Total      int64  `json:"total"`
	PayerTotal int64  `json:"payer_total,omitempty"`
	Currency   string `json:"currency,omitempty"`
}

// Prepay is what starts a payment (out_trade_no is the order's number).
type Prepay struct {
	Description string
	OutTradeNo  string
	TimeExpire  time.Time
	NotifyURL   string
	Total       int64  // fen
	OpenID      string // JSAPI only: the payer
}

type prepayBody struct {
	AppID       string `json:"appid"`
	MchID       string `json:"mchid"`
	Description string `json:"description"`
	OutTradeNo  string `json:"out_trade_no"`
	TimeExpire  string `json:"time_expire"`
	NotifyURL   string `json:"notify_url"`
	Amount      Amount `json:"amount"`
	Payer       *payer `json:"payer,omitempty"`
}

type payer struct {
	OpenID string `json:"openid"`
}

// PrepayJSAPI starts a JSAPI payment (official account, mini program) and
// returns its prepay_id.
func (c *Client) PrepayJSAPI(ctx context.Context, p Prepay) (string, error) {
	if p.OpenID == "" {
		return "", errors.New("wechatpay: a JSAPI payment needs the payer's openid")
	}
	return c.prepay(ctx, "/v3/pay/transactions/jsapi", p, &payer{OpenID: p.OpenID})
}

// PrepayAPP starts an APP payment and returns its prepay_id.
func (c *Client) PrepayAPP(ctx context.Context, p Prepay) (string, error) {
	return c.prepay(ctx, "/v3/pay/transactions/app", p, nil)
}

func (c *Client) prepay(ctx context.Context, path string, p Prepay, who *payer) (string, error) {
	body := prepayBody{AppID: c.AppID, MchID: c.Merchant.MchID, Description: p.Description, OutTradeNo: p.OutTradeNo,
		TimeExpire: p.TimeExpire.In(China).Format(time.RFC3339), NotifyURL: p.NotifyURL,
		Amount: Amount{Total: p.Total, Currency: "CNY"}, Payer: who}
	var out struct {
		PrepayID string `json:"prepay_id"`
	}
	if err := c.do(ctx, http.MethodPost, path, body, &out); err != nil {
		return "", err
	}
	if out.PrepayID == "" {
		return "", errors.New("wechatpay: the prepay answer has no prepay_id")
	}
	return out.PrepayID, nil
}

// Transaction is a payment as WeChat Pay reports it (query and
// notification alike).
type Transaction struct {
	AppID         string `json:"appid"`
	MchID         string `json:"mchid"`
	OutTradeNo    string `json:"out_trade_no"`
	TransactionID string `json:"transaction_id"`
	TradeType     string `json:"trade_type"`
	TradeState    string `json:"trade_state"` // SUCCESS, REFUND, NOTPAY, CLOSED, REVOKED, USERPAYING, PAYERROR
	SuccessTime   string `json:"success_time"`
	Amount        Amount `json:"amount"`
}

// Paid reports whether the payment succeeded (also when it was refunded
// since: the money arrived).
func (t *Transaction) Paid() bool { return t.TradeState == "SUCCESS" || t.TradeState == "REFUND" }

// Query asks for the payment of an out_trade_no.
func (c *Client) Query(ctx context.Context, outTradeNo string) (*Transaction, error) {
	var t Transaction
	path := "/v3/pay/transactions/out-trade-no/" + url.PathEscape(outTradeNo) + "?mchid=" + url.QueryEscape(c.Merchant.MchID)
	if err := c.do(ctx, http.MethodGet, path, nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Close closes an unpaid provider order, so nobody can pay it any more.
func (c *Client) Close(ctx context.Context, outTradeNo string) error {
	path := "/v3/pay/transactions/out-trade-no/" + url.PathEscape(outTradeNo) + "/close"
	return c.do(ctx, http.MethodPost, path, map[string]string{"mchid": c.Merchant.MchID}, nil)
}

// RefundRequest refunds (part of) a payment; OutRefundNo names the refund,
// so asking again never refunds twice.
type RefundRequest struct {
	OutTradeNo  string
	OutRefundNo string
	Reason      string
	NotifyURL   string
	Refund      int64 // fen
	Total       int64 // fen: the payment's total
}

// Refund is a refund as WeChat Pay reports it.
type Refund struct {
	RefundID    string `json:"refund_id"`
	OutRefundNo string `json:"out_refund_no"`
	OutTradeNo  string `json:"out_trade_no"`
	Status      string `json:"status"` // SUCCESS, CLOSED, PROCESSING, ABNORMAL
	Amount      struct {
		Refund int64 `json:"refund"`
		Total  int64 `json:"total"`
	} `json:"amount"`
}

// Refund asks for a refund.
func (c *Client) Refund(ctx context.Context, r RefundRequest) (*Refund, error) {
	body := map[string]any{"out_trade_no": r.OutTradeNo, "out_refund_no": r.OutRefundNo, "reason": r.Reason,
		"notify_url": r.NotifyURL, "amount": map[string]any{"refund": r.Refund, "total": r.Total, "currency": "CNY"}}
	var out Refund
	if err := c.do(ctx, http.MethodPost, "/v3/refund/domestic/refunds", body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// QueryRefund asks for a refund by its out_refund_no.
func (c *Client) QueryRefund(ctx context.Context, outRefundNo string) (*Refund, error) {
	var out Refund
	if err := c.do(ctx, http.MethodGet, "/v3/refund/domestic/refunds/"+url.PathEscape(outRefundNo), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// httpClient is c.HTTP, or one with a 10 s timeout.
func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// do sends a signed request and decodes a verified answer into out.
func (c *Client) do(ctx context.Context, method, pathAndQuery string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	auth, err := c.Merchant.Authorization(method, pathAndQuery, string(body), time.Now(), Nonce())
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+pathAndQuery, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("wechatpay: %s %s: %w", method, pathAndQuery, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("wechatpay: read the answer: %w", err)
	}
	// Refusals are signed too; an unsigned or forged answer is believed in
	// nothing, not even its status.
	if err := c.Verifier.VerifyHeaders(resp.Header, answer); err != nil {
		return fmt.Errorf("wechatpay: %s %s answered %d: %w", method, pathAndQuery, resp.StatusCode, err)
	}
	if resp.StatusCode >= 300 {
		e := &APIError{Status: resp.StatusCode}
		_ = json.Unmarshal(answer, e)
		return e
	}
	if out == nil || len(answer) == 0 {
		return nil
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("wechatpay: decode the answer: %w", err)
	}
	return nil
}

// MaxBill bounds a downloaded bill.
const MaxBill = 64 << 20

// Download GETs a download_url (signed; the answer is not, so the caller
// checks it by its hash) and returns the file, at most MaxBill bytes. The
// URL must be on the API's host, so the merchant's signature goes nowhere
// else.
func (c *Client) Download(ctx context.Context, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: download_url: %w", err)
	}
	base, err := url.Parse(c.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: the base URL: %w", err)
	}
	if u.Scheme != base.Scheme || u.Host != base.Host {
		return nil, fmt.Errorf("wechatpay: the download_url is not on %s://%s", base.Scheme, base.Host)
	}
	auth, err := c.Merchant.Authorization(http.MethodGet, u.RequestURI(), "", time.Now(), Nonce())
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", auth)
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: download: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBill+1))
	if err != nil {
		return nil, fmt.Errorf("wechatpay: download: %w", err)
	}
	if resp.StatusCode >= 300 {
		// A refusal is signed JSON; anything else is only its status.
		if c.Verifier.VerifyHeaders(resp.Header, body) == nil {
			e := &APIError{Status: resp.StatusCode}
			_ = json.Unmarshal(body, e)
			return nil, e
		}
		return nil, fmt.Errorf("wechatpay: download answered %d", resp.StatusCode)
	}
	if len(body) > MaxBill {
		return nil, fmt.Errorf("wechatpay: the download is over %d bytes", MaxBill)
	}
	return body, nil
}

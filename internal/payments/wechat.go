package payments

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"unionmall/internal/money"
	"unionmall/internal/wechatpay"
)

// WeChat is WeChat Pay (API v3) as a Provider, over internal/wechatpay.
type WeChat struct {
	Client *wechatpay.Client
	// APIV3Key decrypts notifications.
	APIV3Key        []byte
	NotifyURL       string // PUBLIC_URL/payments/wechat/notify
	RefundNotifyURL string // PUBLIC_URL/payments/wechat/refund-notify
	Now             func() time.Time
}

func (w *WeChat) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// Start opens the provider order (the same out_trade_no again returns the
// same prepay_id) unless an earlier start did, and signs the client's
// parameters as the JSAPI and APP SDKs expect.
func (w *WeChat) Start(ctx context.Context, ch Channel, c Checkout) (Request, error) {
	prepayID := c.PrepayID
	if prepayID == "" {
		p := wechatpay.Prepay{Description: c.Description, OutTradeNo: c.OutTradeNo, TimeExpire: c.ExpiresAt,
			NotifyURL: w.NotifyURL, Total: int64(c.Total), OpenID: c.OpenID}
		var err error
		switch ch {
		case JSAPI:
			prepayID, err = retry(ctx, func() (string, error) { return w.Client.PrepayJSAPI(ctx, p) })
		case APP:
			prepayID, err = retry(ctx, func() (string, error) { return w.Client.PrepayAPP(ctx, p) })
		default:
			return Request{}, fmt.Errorf("payments: WeChat Pay has no channel %s", ch)
		}
		if err != nil {
			return Request{}, err
		}
	}
	out := Request{PrepayID: prepayID}
	m, now, nonce := w.Client.Merchant, w.now(), wechatpay.Nonce()
	switch ch {
	case JSAPI:
		p, err := m.JSAPI(w.Client.AppID, prepayID, now, nonce)
		if err != nil {
			return Request{}, err
		}
		out.JSAPI = &p
	case APP:
		p, err := m.APP(w.Client.AppID, prepayID, now, nonce)
		if err != nil {
			return Request{}, err
		}
		out.APP = &p
	}
	return out, nil
}

// Query asks WeChat Pay for the payment of an out_trade_no.
func (w *WeChat) Query(ctx context.Context, outTradeNo string) (Trade, error) {
	t, err := retry(ctx, func() (*wechatpay.Transaction, error) { return w.Client.Query(ctx, outTradeNo) })
	if apiCode(err) == "ORDER_NOT_EXIST" || apiCode(err) == "ORDERNOTEXIST" {
		return Trade{State: TradeNotFound}, nil
	}
	if err != nil {
		return Trade{}, err
	}
	return trade(t)
}

// trade reads a WeChat Pay transaction (a query's answer, a notification's
// resource).
func trade(t *wechatpay.Transaction) (Trade, error) {
	out := Trade{TransactionID: t.TransactionID, Amount: money.Fen(t.Amount.Total)}
	switch t.TradeState {
	case "SUCCESS", "REFUND":
		out.State = TradePaid
		if t.TransactionID == "" {
			return Trade{}, fmt.Errorf("payments: a paid transaction without transaction_id")
		}
		if t.SuccessTime != "" {
			at, err := time.Parse(time.RFC3339, t.SuccessTime)
			if err != nil {
				return Trade{}, fmt.Errorf("payments: success_time %q: %w", t.SuccessTime, err)
			}
			out.PaidAt = at
		}
	case "NOTPAY":
		out.State = TradeNotPaid
	case "USERPAYING", "ACCEPT":
		out.State = TradePaying
	case "CLOSED", "REVOKED", "PAYERROR":
		out.State = TradeClosed
	default:
		return Trade{}, fmt.Errorf("payments: unknown trade_state %q", t.TradeState)
	}
	return out, nil
}

// Close closes an unpaid provider order. Closing one WeChat Pay never
// opened, or already closed, is done.
func (w *WeChat) Close(ctx context.Context, outTradeNo string) error {
	_, err := retry(ctx, func() (struct{}, error) { return struct{}{}, w.Client.Close(ctx, outTradeNo) })
	switch apiCode(err) {
	case "ORDERPAID":
		return ErrAlreadyPaid
	case "ORDER_NOT_EXIST", "ORDERNOTEXIST", "ORDERCLOSED":
		return nil
	}
	return err
}

// Refund asks for a refund of the whole total.
func (w *WeChat) Refund(ctx context.Context, r Refund) (RefundResult, error) {
	ask := wechatpay.RefundRequest{OutTradeNo: r.OutTradeNo, OutRefundNo: r.OutRefundNo,
		Reason: r.Reason, NotifyURL: w.RefundNotifyURL, Refund: int64(r.Amount), Total: int64(r.Amount)}
	got, err := retry(ctx, func() (*wechatpay.Refund, error) { return w.Client.Refund(ctx, ask) })
	if err != nil {
		return RefundResult{}, err
	}
	return refundResult(got.Status, got.RefundID), nil
}

// QueryRefund asks for a refund by its out_refund_no.
func (w *WeChat) QueryRefund(ctx context.Context, outRefundNo string) (RefundResult, error) {
	got, err := retry(ctx, func() (*wechatpay.Refund, error) { return w.Client.QueryRefund(ctx, outRefundNo) })
	if err != nil {
		return RefundResult{}, err
	}
	return refundResult(got.Status, got.RefundID), nil
}

func refundResult(status, id string) RefundResult {
	switch status {
	case "SUCCESS":
		return RefundResult{State: RefundDone, RefundID: id}
	case "CLOSED", "ABNORMAL":
		return RefundResult{State: RefundFailed, RefundID: id}
	}
	return RefundResult{State: RefundPending, RefundID: id}
}

func apiCode(err error) string {
	var e *wechatpay.APIError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Rejected is a notification that is not trusted: answer 4xx, change
// nothing. Reason names why, for the metrics.
type Rejected struct {
	Reason string
	Err    error
}

func (r *Rejected) Error() string {
	return "payments: notification rejected (" + r.Reason + "): " + r.Err.Error()
}
func (r *Rejected) Unwrap() error { return r.Err }

func reject(reason string, format string, args ...any) error {
	return &Rejected{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// rejectOpen names why wechatpay.Open refused.
func rejectOpen(err error) error {
	reason := "malformed"
	switch {
	case errors.Is(err, wechatpay.ErrProbe):
		reason = "probe"
	case errors.Is(err, wechatpay.ErrUnsigned):
		reason = "unsigned"
	case errors.Is(err, wechatpay.ErrUnknownKey):
		reason = "unknown_key"
	case errors.Is(err, wechatpay.ErrStale):
		reason = "stale"
	case errors.Is(err, wechatpay.ErrSignature):
		reason = "signature"
	case errors.Is(err, wechatpay.ErrDecrypt):
		reason = "decrypt"
	}
	return &Rejected{Reason: reason, Err: err}
}

// OpenPayment trusts a payment notification only as the contract says: its
// signature verifies over timestamp\nnonce\nbody\n with the key its
// Wechatpay-Serial names, within the 5-minute window, its resource
// decrypts with the APIv3 key, and the transaction names this merchant and
// this app. done is false for a notification of anything but a success
// (nothing to apply). The order and the amount are checked against the
// order by the caller.
func (w *WeChat) OpenPayment(h http.Header, body []byte) (p Paid, done bool, err error) {
	n, err := wechatpay.Open(w.Client.Verifier, w.APIV3Key, h, body)
	if err != nil {
		return Paid{}, false, rejectOpen(err)
	}
	if !strings.HasPrefix(n.EventType, "TRANSACTION.") {
		return Paid{}, false, reject("event", "a %s notification sent to the payment notify URL", n.EventType)
	}
	t, err := n.Transaction()
	if err != nil {
		return Paid{}, false, rejectOpen(err)
	}
	if t.MchID != w.Client.Merchant.MchID {
		return Paid{}, false, reject("merchant", "the transaction names merchant %q", t.MchID)
	}
	if t.AppID != w.Client.AppID {
		return Paid{}, false, reject("app", "the transaction names app %q", t.AppID)
	}
	tr, err := trade(t)
	if err != nil {
		return Paid{}, false, reject("malformed", "%w", err)
	}
	if tr.State != TradePaid {
		return Paid{}, false, nil
	}
	return Paid{OutTradeNo: t.OutTradeNo, TransactionID: tr.TransactionID, Amount: tr.Amount, PaidAt: tr.PaidAt}, true, nil
}

// RefundNotice is a trusted refund notification.
type RefundNotice struct {
	OutRefundNo string
	RefundID    string
	State       RefundState
	Amount      money.Fen
}

// OpenRefund trusts a refund notification as OpenPayment does a payment's.
func (w *WeChat) OpenRefund(h http.Header, body []byte) (RefundNotice, error) {
	n, err := wechatpay.Open(w.Client.Verifier, w.APIV3Key, h, body)
	if err != nil {
		return RefundNotice{}, rejectOpen(err)
	}
	if !strings.HasPrefix(n.EventType, "REFUND.") {
		return RefundNotice{}, reject("event", "a %s notification sent to the refund notify URL", n.EventType)
	}
	r, err := n.Refund()
	if err != nil {
		return RefundNotice{}, rejectOpen(err)
	}
	if r.MchID != w.Client.Merchant.MchID {
		return RefundNotice{}, reject("merchant", "the refund names merchant %q", r.MchID)
	}
	res := refundResult(r.RefundStatus, r.RefundID)
	return RefundNotice{OutRefundNo: r.OutRefundNo, RefundID: r.RefundID, State: res.State, Amount: money.Fen(r.Amount.Refund)}, nil
}

// retryWaits are the pauses before a call to WeChat Pay is made again
// after a failure that may pass: no answer, a 5xx, or FREQUENCY_LIMITED.
// Every call is safe to repeat (out_trade_no and out_refund_no key them).
var retryWaits = []time.Duration{200 * time.Millisecond, 800 * time.Millisecond}

// retry calls fn until it succeeds, fails for good, or retryWaits run out.
func retry[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	for i := 0; ; i++ {
		v, err := fn()
		if err == nil || i == len(retryWaits) || !transient(err) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(retryWaits[i]):
		}
	}
}

// transient reports whether a failed call may succeed if made again.
func transient(err error) bool {
	var e *wechatpay.APIError
	if errors.As(err, &e) {
		return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Code == "FREQUENCY_LIMITED" || e.Code == "SYSTEM_ERROR"
	}
	return true // no verified answer: a network error, a timeout, an unsigned 5xx
}

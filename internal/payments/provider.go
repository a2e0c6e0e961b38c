// Package payments is how an order is paid: the Provider a payment goes
// through (WeChat Pay's API v3 in wechat.go, the sandbox cashier in
// sandbox.go), what each provider answer means for the mall, the
// out_refund_no of an order, the audit line of every money movement and
// the instruments that count them. The order life cycle (internal/orders)
// calls it and owns the payments table's transitions; resolvers never call
// it.
package payments

import (
	"context"
	"errors"
	"time"

	"unionmall/ent/payment"
	"unionmall/internal/apperr"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/wechatpay"
)

// Channel is how a member pays (the contract's PaymentChannel).
type Channel = payment.Channel

// The channels.
const (
	JSAPI   = payment.ChannelWECHAT_JSAPI
	APP     = payment.ChannelWECHAT_APP
	Sandbox = payment.ChannelSANDBOX
)

// Checkout is what a provider is asked to collect.
type Checkout struct {
	OrderID     gid.ID
	OutTradeNo  string // the order's number
	Description string
	Total       money.Fen
	ExpiresAt   time.Time // the order's payBy: no payment after it
	OpenID      string    // JSAPI: the payer
	// PrepayID is the provider order an earlier start opened; set, the
	// start only signs the client's parameters again.
	PrepayID string
}

// Request is what the client opens (the contract's PaymentRequest).
type Request struct {
	PrepayID   string
	JSAPI      *wechatpay.JSAPIParams
	APP        *wechatpay.APPParams
	SandboxURL string
}

// TradeState is what a provider says of a payment.
type TradeState int

// The states a query can report.
const (
	// TradeNotFound: the provider has no such order (never opened, or the
	// start did not reach it).
	TradeNotFound TradeState = iota
	TradeNotPaid
	// TradePaying: the payer is entering a password; neither pay nor close yet.
	TradePaying
	TradePaid
	// TradeClosed: closed, revoked or failed; no money moved.
	TradeClosed
)

// Trade is a provider's answer about one payment.
type Trade struct {
	State         TradeState
	TransactionID string
	Amount        money.Fen
	PaidAt        time.Time
}

// Paid is a payment the provider reports as made, by a trusted
// notification, a query or the sandbox cashier.
type Paid struct {
	OutTradeNo    string
	TransactionID string
	Amount        money.Fen
	PaidAt        time.Time // zero: unknown (then the database's clock)
}

// RefundState is what a provider says of a refund.
type RefundState int

// The states of a refund.
const (
	RefundPending RefundState = iota
	RefundDone
	// RefundFailed: the provider gave up (closed or abnormal); the money
	// is still the mall's to return, by hand.
	RefundFailed
)

// Refund asks for an order's whole total back.
type Refund struct {
	OutTradeNo  string
	OutRefundNo string
	Reason      string
	Amount      money.Fen
}

// RefundResult is a provider's answer about one refund.
type RefundResult struct {
	State    RefundState
	RefundID string
}

// Provider collects and refunds. Every method is safe to repeat: the
// provider keys a start by out_trade_no and a refund by out_refund_no.
type Provider interface {
	Start(ctx context.Context, ch Channel, c Checkout) (Request, error)
	Query(ctx context.Context, outTradeNo string) (Trade, error)
	// Close closes an unpaid provider order; ErrAlreadyPaid when the
	// payment was made meanwhile.
	Close(ctx context.Context, outTradeNo string) error
	Refund(ctx context.Context, r Refund) (RefundResult, error)
	QueryRefund(ctx context.Context, outRefundNo string) (RefundResult, error)
}

// ErrAlreadyPaid answers Close for a payment that was made.
var ErrAlreadyPaid = errors.New("payments: the provider order is paid")

// Providers are the server's providers by channel; a nil one is not
// configured.
type Providers struct {
	WeChat  Provider // WECHAT_JSAPI and WECHAT_APP
	Sandbox Provider // SANDBOX (PAYMENT_SANDBOX)
}

// For returns the provider of a channel, or BAD_USER_INPUT when this server
// does not offer it.
func (p Providers) For(ch Channel) (Provider, error) {
	var got Provider
	switch ch {
	case JSAPI, APP:
		got = p.WeChat
	case Sandbox:
		got = p.Sandbox
	}
	if got == nil {
		return nil, apperr.BadInput("channel", "this server does not offer payment by %s", ch)
	}
	return got, nil
}

// OutRefundNo is the refund number of an order's one refund: derived from
// its number, so asking twice (a retry, another instance) asks for the
// same refund.
func OutRefundNo(orderNumber string) string { return orderNumber + "R" }

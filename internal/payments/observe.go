package payments

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"unionmall/internal/money"
)

// Observer counts payments (internal/metrics implements it).
type Observer interface {
	// Payment counts an event of a payment's life: started, paid, closed,
	// late (paid after its order closed), refund_asked, refunded,
	// refund_failed.
	Payment(event string)
	// Notification counts a provider notification (kind payment or
	// refund) by outcome: accepted, duplicate, or why it was rejected.
	Notification(kind, outcome string)
	// ProviderCall times a call to a provider.
	ProviderCall(op string, took time.Duration, err error)
}

type noObserver struct{}

func (noObserver) Payment(string)                            {}
func (noObserver) Notification(string, string)               {}
func (noObserver) ProviderCall(string, time.Duration, error) {}

// OrNone is obs, or an observer that counts nothing.
func OrNone(obs Observer) Observer {
	if obs == nil {
		return noObserver{}
	}
	return obs
}

// Observed is p with every call timed by obs.
func Observed(p Provider, obs Observer) Provider {
	if p == nil {
		return nil
	}
	return observed{p, OrNone(obs)}
}

type observed struct {
	p   Provider
	obs Observer
}

// timed makes a provider call and times it; ErrAlreadyPaid is an answer,
// not a failure of the provider.
func timed[T any](obs Observer, op string, call func() (T, error)) (T, error) {
	t := time.Now()
	v, err := call()
	failed := err
	if errors.Is(err, ErrAlreadyPaid) {
		failed = nil
	}
	obs.ProviderCall(op, time.Since(t), failed)
	return v, err
}

func (o observed) Start(ctx context.Context, ch Channel, c Checkout) (Request, error) {
	return timed(o.obs, "start", func() (Request, error) { return o.p.Start(ctx, ch, c) })
}

func (o observed) Query(ctx context.Context, outTradeNo string) (Trade, error) {
	return timed(o.obs, "query", func() (Trade, error) { return o.p.Query(ctx, outTradeNo) })
}

func (o observed) Close(ctx context.Context, outTradeNo string) error {
	_, err := timed(o.obs, "close", func() (struct{}, error) { return struct{}{}, o.p.Close(ctx, outTradeNo) })
	return err
}

func (o observed) Refund(ctx context.Context, r Refund) (RefundResult, error) {
	return timed(o.obs, "refund", func() (RefundResult, error) { return o.p.Refund(ctx, r) })
}

func (o observed) QueryRefund(ctx context.Context, outRefundNo string) (RefundResult, error) {
	return timed(o.obs, "query_refund", func() (RefundResult, error) { return o.p.QueryRefund(ctx, outRefundNo) })
}

// Audit writes the audit line of a money movement: what happened to which
// order's payment, how much, and the provider's reference. Payers' openids
// and keys never appear.
func Audit(ctx context.Context, event, orderNumber string, ch Channel, amount money.Fen, attrs ...any) {
	slog.InfoContext(ctx, "audit", append([]any{"money", event, "order", orderNumber,
		"channel", string(ch), "amount", amount.String()}, attrs...)...)
}

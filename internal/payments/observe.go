package payments

import (
	"context"
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

func (o observed) Start(ctx context.Context, ch Channel, c Checkout) (Request, error) {
	t := time.Now()
	r, err := o.p.Start(ctx, ch, c)
	o.obs.ProviderCall("start", time.Since(t), err)
	return r, err
}

func (o observed) Query(ctx context.Context, outTradeNo string) (Trade, error) {
	t := time.Now()
	r, err := o.p.Query(ctx, outTradeNo)
	o.obs.ProviderCall("query", time.Since(t), err)
	return r, err
}

func (o observed) Close(ctx context.Context, outTradeNo string) error {
	t := time.Now()
	err := o.p.Close(ctx, outTradeNo)
	if err == ErrAlreadyPaid {
		o.obs.ProviderCall("close", time.Since(t), nil)
		return err
	}
	o.obs.ProviderCall("close", time.Since(t), err)
	return err
}

func (o observed) Refund(ctx context.Context, r Refund) (RefundResult, error) {
	t := time.Now()
	res, err := o.p.Refund(ctx, r)
	o.obs.ProviderCall("refund", time.Since(t), err)
	return res, err
}

func (o observed) QueryRefund(ctx context.Context, outRefundNo string) (RefundResult, error) {
	t := time.Now()
	res, err := o.p.QueryRefund(ctx, outRefundNo)
	o.obs.ProviderCall("query_refund", time.Since(t), err)
	return res, err
}

// Audit writes the audit line of a money movement: what happened to which
// order's payment, how much, and the provider's reference. Payers' openids
// and keys never appear.
func Audit(ctx context.Context, event, orderNumber string, ch Channel, amount money.Fen, attrs ...any) {
	slog.InfoContext(ctx, "audit", append([]any{"money", event, "order", orderNumber,
		"channel", string(ch), "amount", amount.String()}, attrs...)...)
}

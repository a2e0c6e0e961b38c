// Package orders holds the order's life: placing (place.go), paying by
// hand (payment.go) or through a provider (pay.go: starting; settle.go:
// a payment or refund the provider reports; paywork.go: what is owed to
// the provider at expiry and after a refund is asked), shipping,
// completing, cancelling and refunding (transition.go), and expiring
// (expire.go), and what each gives back. The
// rules it applies live below it: the state machine and the payment
// deadline in orderstate, stock in catalog, a coupon's life in coupons,
// idempotency keys in idempotency.
package orders

import (
	"context"
	"time"

	"unionmall/ent"
	"unionmall/ent/orderitem"
	"unionmall/internal/apperr"
	"unionmall/internal/auth"
	"unionmall/internal/changes"
	"unionmall/internal/db"
	"unionmall/internal/gid"
	"unionmall/internal/payments"
)

// Service places orders and moves them through their life.
type Service struct {
	db     *db.DB
	window time.Duration
	now    func() time.Time
	// changes is told, after commit, what each change of an order touched:
	// the totals, and a flash sale its units went back to.
	changes *changes.Registry
	// pay are the payment providers by channel; obs counts payments.
	pay payments.Providers
	obs payments.Observer
	// refundPoll is how long a refund the provider accepted waits before
	// the provider is asked about it (its notification usually comes
	// first).
	refundPoll time.Duration
}

// Option configures the service.
type Option func(*Service)

// WithPayments lets members pay through providers (payOrder), counted by
// obs (may be nil).
func WithPayments(p payments.Providers, obs payments.Observer) Option {
	return func(s *Service) {
		s.pay = payments.Providers{WeChat: payments.Observed(p.WeChat, obs), Sandbox: payments.Observed(p.Sandbox, obs)}
		s.obs = payments.OrNone(obs)
	}
}

// RefundPoll sets how long an accepted refund waits before the provider
// is asked about it (default a minute).
func RefundPoll(d time.Duration) Option { return func(s *Service) { s.refundPoll = d } }

// New returns the order service. window is PAYMENT_WINDOW; reg (may be
// nil) is told of each committed change.
func New(d *db.DB, window time.Duration, reg *changes.Registry, opts ...Option) *Service {
	s := &Service{db: d, window: window, now: time.Now, changes: reg, obs: payments.OrNone(nil), refundPoll: time.Minute}
	for _, o := range opts {
		o(s)
	}
	return s
}

var errNotFound = apperr.New(apperr.NotFound, "no order has that ID")

// buyerOrAdmin lets the buyer and admins act; to anyone else the order does
// not exist.
func buyerOrAdmin(ctx context.Context, o *ent.Order) error {
	if !auth.SeesPrivate(ctx, o.BuyerID) {
		return errNotFound
	}
	return nil
}

// buyerOnly lets only the buyer act (admins may look, not act).
func buyerOnly(ctx context.Context, o *ent.Order) error {
	if err := buyerOrAdmin(ctx, o); err != nil {
		return err
	}
	if v := auth.FromContext(ctx); v == nil || v.MemberID != o.BuyerID {
		return apperr.New(apperr.Forbidden, "only the buyer may do this")
	}
	return nil
}

// anyone is for ADMIN operations, authorized by the schema's directive.
func anyone(context.Context, *ent.Order) error { return nil }

// Items returns an order's lines.
func Items(ctx context.Context, client *ent.Client, orderID gid.ID) ([]*ent.OrderItem, error) {
	return client.OrderItem.Query().Where(orderitem.OrderID(orderID)).Order(ent.Asc(orderitem.FieldID)).All(ctx)
}

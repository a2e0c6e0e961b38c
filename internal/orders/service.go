// Package orders holds the order's life: placing (place.go), paying
// (payment.go), shipping, completing, cancelling and refunding
// (transition.go), and expiring (expire.go), and what each gives back. The
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
)

// Service places orders and moves them through their life.
type Service struct {
	db     *db.DB
	window time.Duration
	now    func() time.Time
	// changes is told, after commit, what each change of an order touched:
	// the totals, and a flash sale its units went back to.
	changes *changes.Registry
}

// New returns the order service. window is PAYMENT_WINDOW; reg (may be
// nil) is told of each committed change.
func New(d *db.DB, window time.Duration, reg *changes.Registry) *Service {
	return &Service{db: d, window: window, now: time.Now, changes: reg}
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

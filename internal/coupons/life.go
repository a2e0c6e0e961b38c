package coupons

import (
	"context"
	"time"

	"unionmall/ent"
	entcoupon "unionmall/ent/coupon"
	"unionmall/internal/apperr"
	"unionmall/internal/gid"
	"unionmall/internal/money"
)

// A coupon's life on an order, each step inside the order's transaction:
// Reserve when the order is placed, Release when it stops being live while
// awaiting payment, Redeem when it is paid.

// Applicable reads the coupon in tx and checks it for the buyer's order of
// that subtotal at now (CheckApplicable).
func Applicable(ctx context.Context, tx *ent.Tx, id, buyer gid.ID, subtotal money.Fen, now time.Time) (*ent.Coupon, error) {
	c, err := tx.Coupon.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no coupon has that ID")
	}
	if err != nil {
		return nil, err
	}
	if err := CheckApplicable(c, buyer, subtotal, now); err != nil {
		return nil, err
	}
	return c, nil
}

// Reserve moves a coupon that is usable by the buyer at now (WhereUsable)
// to RESERVED by the order, in one conditional UPDATE: of two orders
// racing for one coupon, one wins and the other is COUPON_UNAVAILABLE.
func Reserve(ctx context.Context, tx *ent.Tx, couponID, buyer, orderID gid.ID, now time.Time) error {
	n, err := tx.Coupon.Update().
		Where(entcoupon.ID(couponID), WhereUsable(buyer, now)).
		SetStatus(entcoupon.StatusRESERVED).
		SetOrderID(orderID).
		Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return apperr.New(apperr.CouponUnavailable, "the coupon was just taken by another order")
	}
	return nil
}

// Release gives back the coupon that the order reserved (AVAILABLE, no
// order). The UPDATE is conditional on RESERVED by this order, so it never
// takes back a coupon that was used or is held by another order.
func Release(ctx context.Context, tx *ent.Tx, couponID, orderID gid.ID) error {
	_, err := tx.Coupon.Update().
		Where(entcoupon.ID(couponID), entcoupon.OrderID(orderID), entcoupon.StatusEQ(entcoupon.StatusRESERVED)).
		SetStatus(entcoupon.StatusAVAILABLE).
		ClearOrderID().
		Save(ctx)
	return err
}

// Redeem marks the coupon of the order being paid USED; the UPDATE is
// conditional on the coupon being held by this order.
func Redeem(ctx context.Context, tx *ent.Tx, couponID, orderID gid.ID) error {
	_, err := tx.Coupon.Update().
		Where(entcoupon.ID(couponID), entcoupon.OrderID(orderID)).
		SetStatus(entcoupon.StatusUSED).
		Save(ctx)
	return err
}

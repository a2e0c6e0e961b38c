package orders

import (
	"context"
	"fmt"
	"time"

	"unionmall/ent"
	"unionmall/ent/order"
	"unionmall/ent/orderitem"
	"unionmall/internal/address"
	"unionmall/internal/apperr"
	"unionmall/internal/catalog"
	"unionmall/internal/changes"
	"unionmall/internal/coupons"
	"unionmall/internal/flashsales"
	"unionmall/internal/gid"
	"unionmall/internal/orderstate"
	"unionmall/internal/text"
)

// transition loads an order for update, checks who may act on it and that
// the action is allowed in its state (orderstate.Next), applies the
// change, and gives back what the order held when it stops being live. It
// returns the new order.
//
// now, given to apply, is read once the order's row is locked (db.Now):
// deadlines are compared with the database's clock at the moment the
// decision is made, not with an instance's clock before a lock wait.
func (s *Service) transition(ctx context.Context, id gid.ID, a orderstate.Action, who func(context.Context, *ent.Order) error,
	apply func(tx *ent.Tx, o *ent.Order, upd *ent.OrderUpdateOne, now time.Time) error) (*ent.Order, error) {
	var (
		out     *ent.Order
		touched = []changes.Change{changes.Stats}
	)
	err := s.db.Tx(ctx, func(tx *ent.Tx) error {
		// Lines in product order: products are locked in ID order (release).
		q := tx.Order.Query().Where(order.ID(id)).
			WithItems(func(q *ent.OrderItemQuery) { q.Order(ent.Asc(orderitem.FieldProductID)) })
		if s.db.Postgres() {
			q = q.ForUpdate()
		}
		o, err := q.Only(ctx)
		if ent.IsNotFound(err) {
			return errNotFound
		}
		if err != nil {
			return err
		}
		if err := who(ctx, o); err != nil {
			return err
		}
		next, err := orderstate.Next(o.Status, a)
		if err != nil {
			return err
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		upd := tx.Order.UpdateOneID(o.ID).Where(order.StatusEQ(o.Status)).SetStatus(next)
		if apply != nil {
			if err := apply(tx, o, upd, now); err != nil {
				return err
			}
		}
		if err := upd.Exec(ctx); err != nil {
			return err
		}
		if orderstate.Live(o.Status) && !orderstate.Live(next) {
			returned, err := release(ctx, tx, o)
			if err != nil {
				return err
			}
			touched = append(touched, returned...)
		}
		out, err = tx.Order.Get(ctx, o.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s order: %w", a, err)
	}
	out = out.Unwrap()
	s.changes.Announce(touched...)
	return out, nil
}

// release gives back what a live order held as it stops being live: its
// units (to the product, or to its flash sale) unless they shipped, its
// coupon when it was only reserved (not yet paid), and its units from the
// sold counts when paid.
//
// Rows are locked in the order every transaction uses, so that none waits
// for another that waits for it: a flash sale's row before its product's
// (settlement and the units given back lock them so), and products in
// order of their IDs (as placement does; transition loads the lines so).
// It returns the flash sale's changes, for the announcement after commit.
func release(ctx context.Context, tx *ent.Tx, o *ent.Order) ([]changes.Change, error) {
	items := o.Edges.Items
	restock := !orderstate.Shipped(o.Status)
	var touched []changes.Change
	if o.FlashSaleID != nil {
		for _, it := range items {
			cs, err := flashsales.ReturnUnits(ctx, tx, *o.FlashSaleID, o.BuyerID, it.Quantity, restock)
			if err != nil {
				return nil, err
			}
			touched = cs
		}
	}
	for _, it := range items {
		if orderstate.Paid(o.Status) {
			if err := tx.Product.UpdateOneID(it.ProductID).AddSoldCount(-it.Quantity).Exec(ctx); err != nil {
				return nil, err
			}
		}
		if restock && o.FlashSaleID == nil {
			if err := catalog.ReturnStock(ctx, tx, it.ProductID, it.Quantity); err != nil {
				return nil, err
			}
		}
	}
	if o.CouponID != nil && !orderstate.Paid(o.Status) {
		return touched, coupons.Release(ctx, tx, *o.CouponID, o.ID)
	}
	return touched, nil
}

// Cancel cancels an order awaiting payment (the buyer or an admin) and
// gives its stock and coupon back.
func (s *Service) Cancel(ctx context.Context, id gid.ID) (*ent.Order, error) {
	return s.transition(ctx, id, orderstate.Cancel, buyerOrAdmin, func(_ *ent.Tx, _ *ent.Order, upd *ent.OrderUpdateOne, now time.Time) error {
		upd.SetClosedAt(now)
		return nil
	})
}

// SetAddress sets where an order awaiting payment or paid goes (the buyer).
func (s *Service) SetAddress(ctx context.Context, id gid.ID, a address.Shipping) (*ent.Order, error) {
	a, err := a.Normalize()
	if err != nil {
		return nil, err
	}
	return s.transition(ctx, id, orderstate.SetAddress, buyerOnly, func(_ *ent.Tx, _ *ent.Order, upd *ent.OrderUpdateOne, _ time.Time) error {
		upd.SetShippingAddress(&a)
		return nil
	})
}

// Ship marks a paid order with an address as shipped (ADMIN).
func (s *Service) Ship(ctx context.Context, id gid.ID, tracking string) (*ent.Order, error) {
	tracking, err := text.Clean("trackingNumber", tracking, 64)
	if err != nil {
		return nil, err
	}
	return s.transition(ctx, id, orderstate.Ship, anyone, func(_ *ent.Tx, o *ent.Order, upd *ent.OrderUpdateOne, now time.Time) error {
		if o.ShippingAddress == nil {
			return apperr.New(apperr.InvalidState, "the order has no shipping address yet")
		}
		upd.SetTrackingNumber(tracking).SetShippedAt(now)
		return nil
	})
}

// Complete marks a shipped order as received (the buyer or an admin).
func (s *Service) Complete(ctx context.Context, id gid.ID) (*ent.Order, error) {
	return s.transition(ctx, id, orderstate.Complete, buyerOrAdmin, func(_ *ent.Tx, _ *ent.Order, upd *ent.OrderUpdateOne, now time.Time) error {
		upd.SetCompletedAt(now)
		return nil
	})
}

// Refund refunds a paid, shipped or completed order (ADMIN). Its units
// leave the sold counts; units that never shipped go back to stock (or to
// a flash sale that is still open); shipped ones are not restocked.
func (s *Service) Refund(ctx context.Context, id gid.ID, reason string) (*ent.Order, error) {
	reason, err := text.Clean("reason", reason, 200)
	if err != nil {
		return nil, err
	}
	return s.transition(ctx, id, orderstate.Refund, anyone, func(_ *ent.Tx, _ *ent.Order, upd *ent.OrderUpdateOne, now time.Time) error {
		upd.SetRefundReason(reason).SetClosedAt(now)
		return nil
	})
}

package orders

import (
	"context"
	"fmt"
	"time"

	"unionmall/ent"
	"unionmall/ent/order"
	"unionmall/ent/orderitem"
	"unionmall/ent/payment"
	"unionmall/internal/address"
	"unionmall/internal/apperr"
	"unionmall/internal/catalog"
	"unionmall/internal/changes"
	"unionmall/internal/coupons"
	"unionmall/internal/flashsales"
	"unionmall/internal/gid"
	"unionmall/internal/orderstate"
	"unionmall/internal/payments"
	"unionmall/internal/text"
)

// transition loads an order for update, checks who may act on it and
// applies the action (step). It returns the new order.
func (s *Service) transition(ctx context.Context, id gid.ID, a orderstate.Action, who func(context.Context, *ent.Order) error,
	apply applyFunc) (*ent.Order, error) {
	var (
		out     *ent.Order
		touched []changes.Change
	)
	err := s.db.Tx(ctx, func(tx *ent.Tx) error {
		o, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := who(ctx, o); err != nil {
			return err
		}
		out, touched, err = s.step(ctx, tx, o, a, apply)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s order: %w", a, err)
	}
	s.changes.Announce(touched...)
	return out.Unwrap(), nil
}

// applyFunc adds an action's own changes to the order's update, in the
// order's transaction; now is the database's clock once the row is locked.
type applyFunc func(tx *ent.Tx, o *ent.Order, upd *ent.OrderUpdateOne, now time.Time) error

// lock loads an order with its lines for update (on SQLite the
// transaction's BEGIN IMMEDIATE already excludes every other writer).
// Every transaction that changes an order or its payment locks the order
// first, so that they serialize on its row and none waits for another
// that waits for it. Lines come in product order: products are locked in
// ID order (release).
func (s *Service) lock(ctx context.Context, tx *ent.Tx, id gid.ID) (*ent.Order, error) {
	q := tx.Order.Query().Where(order.ID(id)).
		WithItems(func(q *ent.OrderItemQuery) { q.Order(ent.Asc(orderitem.FieldProductID)) })
	if s.db.Postgres() {
		q = q.ForUpdate()
	}
	o, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errNotFound
	}
	return o, err
}

// lockWithPayment locks an order (lock) and reads its payment, nil when
// none was started. Every transaction that changes a payment's status
// comes through here, so under the order's row lock the payment read is
// its state now, not a snapshot older than the lock wait.
func (s *Service) lockWithPayment(ctx context.Context, tx *ent.Tx, id gid.ID) (*ent.Order, *ent.Payment, error) {
	o, err := s.lock(ctx, tx, id)
	if err != nil {
		return nil, nil, err
	}
	pm, err := tx.Payment.Query().Where(payment.OrderID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return o, nil, nil
	}
	return o, pm, err
}

// step applies an action to a locked order: it checks that the action is
// allowed in its state (orderstate.Next), applies the change, and gives
// back what the order held when it stops being live. It returns the new
// order and what changed, to announce after commit.
//
// now, given to apply, is read once the order's row is locked (db.Now):
// deadlines are compared with the database's clock at the moment the
// decision is made, not with an instance's clock before a lock wait.
func (s *Service) step(ctx context.Context, tx *ent.Tx, o *ent.Order, a orderstate.Action, apply applyFunc) (*ent.Order, []changes.Change, error) {
	touched := []changes.Change{changes.Stats, changes.Order(o.ID)}
	next, err := orderstate.Next(o.Status, a)
	if err != nil {
		return nil, nil, err
	}
	now, err := s.db.Now(ctx, tx)
	if err != nil {
		return nil, nil, err
	}
	upd := tx.Order.UpdateOneID(o.ID).Where(order.StatusEQ(o.Status)).SetStatus(next)
	if apply != nil {
		if err := apply(tx, o, upd, now); err != nil {
			return nil, nil, err
		}
	}
	if err := upd.Exec(ctx); err != nil {
		return nil, nil, err
	}
	if orderstate.Live(o.Status) && !orderstate.Live(next) {
		returned, err := release(ctx, tx, o)
		if err != nil {
			return nil, nil, err
		}
		touched = append(touched, returned...)
	}
	out, err := tx.Order.Get(ctx, o.ID)
	return out, touched, err
}

// release gives back what a live order held as it stops being live: its
// units (to the product, or to its flash sale) unless they shipped, its
// coupon when it was only reserved (not yet paid), and its units from the
// sold counts when paid.
//
// Rows are locked in the order every transaction uses, so that none waits
// for another that waits for it: a member's flash-sale holding before the
// sale's row (as a buying batch locks them), a sale's row before its
// product's (settlement and the units given back lock them so), and products in
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
//
// An order paid through a provider is refunded by the provider: its
// payment becomes REFUNDING (conditional on PAID, so a repeat asks for
// nothing more) with an out_refund_no derived from the order, the
// provider is asked, and the order is REFUNDED once the provider confirms
// (confirmRefund). Until then the order keeps its state.
func (s *Service) Refund(ctx context.Context, id gid.ID, reason string) (*ent.Order, error) {
	reason, err := text.Clean("reason", reason, 200)
	if err != nil {
		return nil, err
	}
	var (
		out     *ent.Order
		asked   *ent.Payment
		touched []changes.Change
	)
	err = s.db.Tx(ctx, func(tx *ent.Tx) error {
		o, pm, err := s.lockWithPayment(ctx, tx, id)
		if err != nil {
			return err
		}
		if pm == nil || pm.Late || (pm.Status != payment.StatusPAID && pm.Status != payment.StatusREFUNDING) {
			// Paid by hand (confirmPayment), and the provider's payment, if
			// any, not the order's (never made, closed, or late and refunded
			// on its own): refunded now.
			out, touched, err = s.step(ctx, tx, o, orderstate.Refund, func(_ *ent.Tx, _ *ent.Order, upd *ent.OrderUpdateOne, now time.Time) error {
				upd.SetRefundReason(reason).SetClosedAt(now)
				return nil
			})
			return err
		}
		if _, err := orderstate.Next(o.Status, orderstate.Refund); err != nil {
			return err
		}
		if pm.Status == payment.StatusREFUNDING {
			return nil // asked before
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		asked = pm
		return setPayment(ctx, tx, pm, payment.StatusPAID, func(u *ent.PaymentUpdate) {
			u.SetStatus(payment.StatusREFUNDING).SetOutRefundNo(payments.OutRefundNo(o.Number)).
				SetRefundReason(reason).SetRefundRequestedAt(now).SetNextCheckAt(now.Add(leaseFor)).SetAttempts(0)
		})
	})
	if err != nil {
		return nil, fmt.Errorf("refund order: %w", err)
	}
	if out != nil { // refunded now
		s.changes.Announce(touched...)
		return out.Unwrap(), nil
	}
	if asked != nil {
		s.changes.Announce(changes.Order(id)) // its payment is REFUNDING
		payments.Audit(ctx, "refund requested", asked.OutTradeNo, asked.Channel, asked.Amount, "reason", reason)
		s.askRefund(ctx, asked.ID)
	}
	return s.db.Client.Order.Get(ctx, id) // still refunding, or refunded at once (the sandbox)
}

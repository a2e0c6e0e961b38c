package orders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"unionmall/ent"
	"unionmall/ent/order"
	"unionmall/ent/payment"
	"unionmall/internal/apperr"
	"unionmall/internal/orderstate"
)

// ExpireDue expires orders whose payment window has passed, giving back
// their stock, flash-sale units and coupons, and returns how many it
// expired. Every instance runs it: each order changes in a transaction of
// its own that re-checks, under the order's row lock and by the database's
// clock, that the order still awaits payment and is due, so exactly one
// instance expires it and none expires it early. The instance's clock only
// picks the candidates. An order that fails does not hold up the others;
// the failures are returned together. An order with a started payment is
// left to CheckPayments, which asks the provider before it expires one.
func (s *Service) ExpireDue(ctx context.Context, limit int) (int, error) {
	ids, err := s.db.Client.Order.Query().
		Where(orderstate.Due(s.now().UTC()), order.Not(order.HasPaymentWith(payment.StatusEQ(payment.StatusPENDING)))).
		Order(ent.Asc(order.FieldPayBy)).
		Limit(limit).
		IDs(ctx)
	if err != nil {
		return 0, fmt.Errorf("find due orders: %w", err)
	}
	var (
		expired int
		errs    []error
	)
	for _, id := range ids {
		o, err := s.transition(ctx, id, orderstate.Expire, anyone, func(tx *ent.Tx, o *ent.Order, upd *ent.OrderUpdateOne, now time.Time) error {
			if !orderstate.Overdue(o.PayBy, now) {
				return errNotDue
			}
			// A payment started meanwhile: the provider is asked first
			// (CheckPayments). Under the order's lock, as payOrder writes it.
			started, err := tx.Payment.Query().Where(payment.OrderID(o.ID), payment.StatusEQ(payment.StatusPENDING)).Exist(ctx)
			if err != nil {
				return err
			}
			if started {
				return errNotDue
			}
			upd.SetClosedAt(now)
			return nil
		})
		switch {
		case err == nil && o != nil:
			expired++
		case apperr.Is(err, apperr.InvalidState), errors.Is(err, errNotDue):
			// paid or cancelled meanwhile, expired by another instance, or
			// not due by the database's clock yet
		case ctx.Err() != nil:
			return expired, errors.Join(append(errs, err)...)
		case err != nil:
			errs = append(errs, fmt.Errorf("order %s: %w", id, err))
		}
	}
	return expired, errors.Join(errs...)
}

var errNotDue = errors.New("the order's payment window is still open")

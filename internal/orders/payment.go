package orders

import (
	"context"
	"fmt"
	"time"

	"unionmall/ent"
	"unionmall/ent/order"
	"unionmall/internal/apperr"
	"unionmall/internal/coupons"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/orderstate"
	"unionmall/internal/text"
)

// ConfirmPayment records the payment provider's callback: the amount must
// equal the total and the deadline must not have passed (orderstate.Overdue);
// the order becomes PAID, its coupon USED and its units count as sold. A
// repeat with the same reference returns the paid order.
func (s *Service) ConfirmPayment(ctx context.Context, id gid.ID, reference string, amount money.Fen) (*ent.Order, error) {
	reference, err := text.Clean("paymentReference", reference, 100)
	if err != nil {
		return nil, err
	}
	o, err := s.db.Client.Order.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("confirm payment: %w", err)
	}
	if o.Status != order.StatusPENDING_PAYMENT {
		if o.PaymentReference != nil && *o.PaymentReference == reference {
			return o, nil // the provider's retry
		}
		return nil, apperr.New(apperr.InvalidState, "the order is %s, not awaiting payment", o.Status)
	}
	if amount != o.Total {
		return nil, apperr.BadInput("amount", "the amount paid (%s) is not the order's total (%s)", amount, o.Total)
	}
	out, err := s.transition(ctx, id, orderstate.Pay, anyone, func(tx *ent.Tx, o *ent.Order, upd *ent.OrderUpdateOne, now time.Time) error {
		if orderstate.Overdue(o.PayBy, now) {
			return apperr.New(apperr.InvalidState, "the order's payment window closed at %s", o.PayBy.UTC().Format(time.RFC3339))
		}
		return markPaid(ctx, tx, o, upd, reference, now)
	})
	if ent.IsConstraintError(err) {
		return nil, apperr.BadInput("paymentReference", "that payment reference is recorded for another order")
	}
	if err != nil {
		// The same reference confirmed at the same moment: the first won.
		if again, gerr := s.db.Client.Order.Get(ctx, id); gerr == nil &&
			again.PaymentReference != nil && *again.PaymentReference == reference {
			return again, nil
		}
	}
	return out, err
}

// markPaid is what paying an order does besides its status, whoever
// reports the payment (confirmPayment, a provider's notification or query,
// the sandbox cashier): the payment's reference and time, the units
// counted as sold, the coupon redeemed. A reference belongs to one order
// (the partial unique index on payment_reference).
func markPaid(ctx context.Context, tx *ent.Tx, o *ent.Order, upd *ent.OrderUpdateOne, reference string, at time.Time) error {
	taken, err := tx.Order.Query().Where(order.PaymentReference(reference)).Exist(ctx)
	if err != nil {
		return err
	}
	if taken {
		return apperr.BadInput("paymentReference", "that payment reference is recorded for another order")
	}
	upd.SetPaidAt(at).SetPaymentReference(reference)
	for _, it := range o.Edges.Items {
		if err := tx.Product.UpdateOneID(it.ProductID).AddSoldCount(it.Quantity).Exec(ctx); err != nil {
			return err
		}
	}
	if o.CouponID != nil {
		return coupons.Redeem(ctx, tx, *o.CouponID, o.ID)
	}
	return nil
}

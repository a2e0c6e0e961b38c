package orders

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"unionmall/ent"
	"unionmall/ent/order"
	"unionmall/ent/payment"
	"unionmall/internal/apperr"
	"unionmall/internal/changes"
	"unionmall/internal/orderstate"
	"unionmall/internal/payments"
)

// Settlement says what a reported payment did.
type Settlement int

// The outcomes of Settle.
const (
	// Applied: the order is now PAID.
	Applied Settlement = iota
	// Duplicate: this payment was applied before; nothing changed.
	Duplicate
	// Late: the order was no longer payable; the payment is being refunded.
	Late
	// Failed: the provider reports a refund it gave up (closed, abnormal).
	Failed
)

// String names an outcome, for the metrics.
func (o Settlement) String() string {
	return [...]string{"accepted", "duplicate", "late", "refund_failed"}[o]
}

// errUnknownTrade and errAmount are notifications to refuse (4xx).
var (
	errUnknownTrade = apperr.New(apperr.NotFound, "no payment of this mall has that out_trade_no")
	errAmount       = apperr.BadInput("amount", "the amount paid is not the order's total")
)

// Settle applies a payment a provider reports (a trusted notification, a
// query, the sandbox cashier): the order becomes PAID through the same
// change as confirmPayment (markPaid), with the provider's transaction id
// as its payment reference, exactly once. The payment row's update is
// conditional on its status (PENDING → PAID) and runs under the order's
// row lock in the order's transaction, so two instances meeting the same
// notification apply it once; the repeat answers Duplicate. A payment for
// an order that is no longer payable (expired, cancelled, or paid after
// payBy) is recorded and refunded (Late): the order stays closed. An
// unknown out_trade_no or another amount is NOT_FOUND or BAD_USER_INPUT
// and changes nothing.
func (s *Service) Settle(ctx context.Context, p payments.Paid) (Settlement, error) {
	pm, err := s.db.Client.Payment.Query().Where(payment.OutTradeNo(p.OutTradeNo)).Only(ctx)
	if ent.IsNotFound(err) {
		return 0, errUnknownTrade
	}
	if err != nil {
		return 0, fmt.Errorf("settle %s: %w", p.OutTradeNo, err)
	}
	if p.Amount != pm.Amount {
		return 0, errAmount
	}
	if p.TransactionID == "" {
		return 0, apperr.BadInput("transactionID", "a payment without the provider's transaction id")
	}
	var (
		outcome Settlement
		touched []changes.Change
	)
	err = s.db.Tx(ctx, func(tx *ent.Tx) error {
		o, cur, err := s.lockWithPayment(ctx, tx, pm.OrderID)
		if err != nil {
			return err
		}
		if cur.ProviderTransactionID != nil {
			if *cur.ProviderTransactionID == p.TransactionID {
				outcome = Duplicate
				return nil
			}
			return fmt.Errorf("out_trade_no %s was paid by transaction %s and now reports %s", p.OutTradeNo, *cur.ProviderTransactionID, p.TransactionID)
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		paidAt := p.PaidAt
		if paidAt.IsZero() {
			paidAt = now
		}
		paidAt = paidAt.UTC()
		if o.Status == order.StatusPENDING_PAYMENT && cur.Status == payment.StatusPENDING && !orderstate.Overdue(o.PayBy, paidAt) {
			outcome = Applied
			_, touched, err = s.step(ctx, tx, o, orderstate.Pay, func(tx *ent.Tx, o *ent.Order, upd *ent.OrderUpdateOne, _ time.Time) error {
				if err := setPayment(ctx, tx, cur, payment.StatusPENDING, func(u *ent.PaymentUpdate) {
					u.SetStatus(payment.StatusPAID).SetProviderTransactionID(p.TransactionID).SetPaidAt(paidAt)
				}); err != nil {
					return err
				}
				return markPaid(ctx, tx, o, upd, p.TransactionID, paidAt)
			})
			return err
		}
		if orderstate.Paid(o.Status) && o.PaymentReference != nil && *o.PaymentReference == p.TransactionID {
			// Confirmed by hand (confirmPayment) with this very
			// transaction, its notification lost: the payment is the
			// order's, not a second one to refund.
			outcome = Duplicate
			touched = append(touched, changes.Order(o.ID)) // its payment is PAID
			return setPayment(ctx, tx, cur, cur.Status, func(u *ent.PaymentUpdate) {
				u.SetStatus(payment.StatusPAID).SetProviderTransactionID(p.TransactionID).SetPaidAt(paidAt).ClearNextCheckAt()
			})
		}
		outcome = Late
		touched = append(touched, changes.Order(o.ID)) // its payment is REFUNDING
		return setPayment(ctx, tx, cur, cur.Status, func(u *ent.PaymentUpdate) {
			u.SetStatus(payment.StatusREFUNDING).SetProviderTransactionID(p.TransactionID).SetPaidAt(paidAt).
				SetLate(true).SetOutRefundNo(payments.OutRefundNo(o.Number)).
				SetRefundReason(lateReason(o, cur)).
				SetRefundRequestedAt(now).SetNextCheckAt(now.Add(leaseFor))
		})
	})
	if err != nil {
		return 0, fmt.Errorf("settle %s: %w", p.OutTradeNo, err)
	}
	s.changes.Announce(touched...)
	switch outcome {
	case Applied:
		s.obs.Payment("paid")
		payments.Audit(ctx, "paid", pm.OutTradeNo, pm.Channel, pm.Amount, "transaction", p.TransactionID)
	case Late:
		s.obs.Payment("late")
		payments.Audit(ctx, "paid when the order was no longer payable; refunding", pm.OutTradeNo, pm.Channel, pm.Amount, "transaction", p.TransactionID)
		s.askRefund(ctx, pm.ID)
	}
	return outcome, nil
}

// lateReason says why a payment is refunded as it arrives: the order was
// cancelled, expired, paid another way, or the payment came after payBy.
func lateReason(o *ent.Order, pm *ent.Payment) string {
	switch {
	case o.Status == order.StatusCANCELLED:
		return "订单已取消，款项原路退回"
	case o.Status == order.StatusEXPIRED || pm.Status == payment.StatusCLOSED:
		return "订单已超时关闭，款项原路退回"
	case o.Status != order.StatusPENDING_PAYMENT:
		return "订单已通过其他方式支付，款项原路退回"
	}
	return "付款晚于支付期限，款项原路退回"
}

// errPaymentMoved means a payment's row was not in the state its update
// required; under the order's lock this does not happen, and the
// transaction rolls back if it does.
var errPaymentMoved = errors.New("the payment's status changed under its order's lock")

// setPayment updates a payment only if it still has status from: the
// conditional update that makes each step of a payment happen once.
func setPayment(ctx context.Context, tx *ent.Tx, pm *ent.Payment, from payment.Status, set func(*ent.PaymentUpdate)) error {
	u := tx.Payment.Update().Where(payment.ID(pm.ID), payment.StatusEQ(from))
	set(u)
	n, err := u.Save(ctx)
	if err != nil {
		return err
	}
	if n != 1 {
		return errPaymentMoved
	}
	return nil
}

// leaseFor is how long a provider call owed to a payment is left to the
// instance that took it before another may make it.
const leaseFor = 30 * time.Second

// RefundReported applies a refund the provider reports (a trusted refund
// notification): a successful refund completes (confirmRefund); a failed
// one is logged for people to settle by hand.
func (s *Service) RefundReported(ctx context.Context, n payments.RefundNotice) (Settlement, error) {
	pm, err := s.db.Client.Payment.Query().Where(payment.OutRefundNo(n.OutRefundNo)).Only(ctx)
	if ent.IsNotFound(err) {
		return 0, apperr.New(apperr.NotFound, "no refund of this mall has that out_refund_no")
	}
	if err != nil {
		return 0, fmt.Errorf("refund %s: %w", n.OutRefundNo, err)
	}
	if n.Amount != 0 && n.Amount != pm.Amount {
		return 0, apperr.BadInput("amount", "the refund's amount is not the payment's")
	}
	switch n.State {
	case payments.RefundDone:
		return s.confirmRefund(ctx, pm, n.RefundID)
	case payments.RefundFailed:
		s.refundFailed(ctx, pm)
		return Failed, nil
	}
	return Duplicate, nil
}

// confirmRefund completes a refund the provider made: the payment becomes
// REFUNDED (conditional on REFUNDING) and, unless it was a late payment
// of a closed order, the order is refunded, in one transaction under the
// order's lock.
func (s *Service) confirmRefund(ctx context.Context, pm *ent.Payment, refundID string) (Settlement, error) {
	var (
		outcome = Applied
		touched []changes.Change
	)
	err := s.db.Tx(ctx, func(tx *ent.Tx) error {
		o, cur, err := s.lockWithPayment(ctx, tx, pm.OrderID)
		if err != nil {
			return err
		}
		if cur.Status != payment.StatusREFUNDING {
			outcome = Duplicate
			return nil
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		if err := setPayment(ctx, tx, cur, payment.StatusREFUNDING, func(u *ent.PaymentUpdate) {
			u.SetStatus(payment.StatusREFUNDED).SetRefundedAt(now).ClearNextCheckAt()
			if refundID != "" {
				u.SetRefundID(refundID)
			}
		}); err != nil {
			return err
		}
		if cur.Late {
			touched = append(touched, changes.Order(o.ID)) // its payment is REFUNDED
			return nil
		}
		reason := "退款"
		if cur.RefundReason != nil {
			reason = *cur.RefundReason
		}
		_, touched, err = s.step(ctx, tx, o, orderstate.Refund, func(_ *ent.Tx, _ *ent.Order, upd *ent.OrderUpdateOne, now time.Time) error {
			upd.SetRefundReason(reason).SetClosedAt(now)
			return nil
		})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("confirm refund of %s: %w", pm.OutTradeNo, err)
	}
	s.changes.Announce(touched...)
	if outcome == Applied {
		s.obs.Payment("refunded")
		payments.Audit(ctx, "refunded", pm.OutTradeNo, pm.Channel, pm.Amount, "out_refund_no", deref(pm.OutRefundNo), "refund", refundID)
	}
	return outcome, nil
}

func (s *Service) refundFailed(ctx context.Context, pm *ent.Payment) {
	s.obs.Payment("refund_failed")
	slog.ErrorContext(ctx, "the provider could not refund; return the money by hand", "out_trade_no", pm.OutTradeNo,
		"out_refund_no", deref(pm.OutRefundNo), "amount", pm.Amount.String())
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

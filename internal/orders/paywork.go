package orders

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"unionmall/ent"
	"unionmall/ent/order"
	"unionmall/ent/payment"
	"unionmall/internal/changes"
	"unionmall/internal/gid"
	"unionmall/internal/orderstate"
	"unionmall/internal/payments"
)

// CheckPayments makes the provider calls that payments owe, and returns
// how many payments it looked at. Every instance runs it; each payment is
// taken by a lease (take), so one instance calls for it at a time and a
// failed call waits longer each time before the next.
//
//   - A started payment whose order reached payBy, or was cancelled or
//     paid by hand: the provider is asked first (a lost notification is
//     found here); paid is applied (Settle), else the provider order is
//     closed and then the order expires (closeUnpaid). Notifications are
//     never the only way to learn of a payment.
//   - A refund asked and not confirmed: asked again (the same
//     out_refund_no) until the provider accepts it, then queried until it
//     is done.
func (s *Service) CheckPayments(ctx context.Context, limit int) (int, error) {
	now := s.now().UTC()
	due := payment.Or(payment.NextCheckAtIsNil(), payment.NextCheckAtLTE(now))
	ids, err := s.db.Client.Payment.Query().
		Where(due, payment.Or(
			payment.And(payment.StatusEQ(payment.StatusPENDING), payment.HasOrderWith(order.Or(
				order.StatusNEQ(order.StatusPENDING_PAYMENT), order.PayByLTE(now)))),
			payment.StatusEQ(payment.StatusREFUNDING))).
		Order(ent.Asc(payment.FieldCreatedAt)).Limit(limit).IDs(ctx)
	if err != nil {
		return 0, fmt.Errorf("find payments owing a provider call: %w", err)
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, checkParallel)
	)
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := s.checkPayment(ctx, id); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("payment %s: %w", id, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(ids), errors.Join(errs...)
}

// checkParallel is how many payments one instance checks at once: the
// provider's round trips, not the database, bound the pace when a flash
// sale's unpaid orders come due together, and their units should go back
// to the sale soon after the window.
const checkParallel = 8

// take leases a payment for a provider call: a conditional update that
// only one instance's can win while the lease lasts. The instance's clock
// sets it: a skewed clock at worst repeats a call, and every provider
// call is safe to repeat.
func (s *Service) take(ctx context.Context, id gid.ID) (*ent.Payment, bool, error) {
	now := s.now().UTC()
	n, err := s.db.Client.Payment.Update().
		Where(payment.ID(id), payment.StatusIn(payment.StatusPENDING, payment.StatusREFUNDING),
			payment.Or(payment.NextCheckAtIsNil(), payment.NextCheckAtLTE(now))).
		SetNextCheckAt(now.Add(leaseFor)).AddAttempts(1).Save(ctx)
	if err != nil || n == 0 {
		return nil, false, err
	}
	pm, err := s.db.Client.Payment.Get(ctx, id)
	return pm, err == nil, err
}

// backoff is how long a payment waits after its attempts-th failed call:
// doubling from 2 s, at most 5 minutes.
func backoff(attempts int) time.Duration {
	d := 2 * time.Second
	for i := 1; i < attempts && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

// later sets when a payment is looked at next (and so ends the lease).
func (s *Service) later(ctx context.Context, pm *ent.Payment, d time.Duration, resetAttempts bool) {
	u := s.db.Client.Payment.UpdateOneID(pm.ID).SetNextCheckAt(s.now().UTC().Add(d))
	if resetAttempts {
		u.SetAttempts(0)
	}
	if err := u.Exec(ctx); err != nil && ctx.Err() == nil {
		slog.WarnContext(ctx, "could not schedule a payment's next check", "out_trade_no", pm.OutTradeNo, "err", err)
	}
}

func (s *Service) checkPayment(ctx context.Context, id gid.ID) error {
	pm, ok, err := s.take(ctx, id)
	if err != nil || !ok {
		return err
	}
	prov, err := s.pay.For(pm.Channel)
	if err != nil {
		s.later(ctx, pm, time.Hour, false)
		return fmt.Errorf("no provider for %s on this instance: %w", pm.Channel, err)
	}
	if pm.Status == payment.StatusREFUNDING {
		return s.pursueRefund(ctx, prov, pm)
	}
	tr, err := prov.Query(ctx, pm.OutTradeNo)
	if err != nil {
		s.later(ctx, pm, backoff(pm.Attempts), false)
		return fmt.Errorf("query: %w", err)
	}
	switch tr.State {
	case payments.TradePaid:
		return s.settleQueried(ctx, pm, tr)
	case payments.TradePaying:
		s.later(ctx, pm, 5*time.Second, true)
		return nil
	}
	switch err := prov.Close(ctx, pm.OutTradeNo); {
	case errors.Is(err, payments.ErrAlreadyPaid):
		// Paid between the query and the close: ask again.
		if tr, err = prov.Query(ctx, pm.OutTradeNo); err != nil || tr.State != payments.TradePaid {
			s.later(ctx, pm, backoff(pm.Attempts), false)
			return fmt.Errorf("query after close said paid: state %v: %w", tr.State, err)
		}
		return s.settleQueried(ctx, pm, tr)
	case err != nil:
		s.later(ctx, pm, backoff(pm.Attempts), false)
		return fmt.Errorf("close: %w", err)
	}
	return s.closeUnpaid(ctx, pm)
}

func (s *Service) settleQueried(ctx context.Context, pm *ent.Payment, tr payments.Trade) error {
	_, err := s.Settle(ctx, payments.Paid{OutTradeNo: pm.OutTradeNo, TransactionID: tr.TransactionID, Amount: tr.Amount, PaidAt: tr.PaidAt})
	if err != nil {
		s.later(ctx, pm, backoff(pm.Attempts), false)
	}
	return err
}

// closeUnpaid records a provider order closed unpaid: the payment becomes
// CLOSED (conditional on PENDING) and its order, if still awaiting
// payment, expires, in one transaction under the order's lock. An order
// not yet due by the database's clock stays (the payment is looked at
// again once it is).
func (s *Service) closeUnpaid(ctx context.Context, pm *ent.Payment) error {
	var (
		expired *ent.Order
		touched []changes.Change
	)
	err := s.db.Tx(ctx, func(tx *ent.Tx) error {
		o, cur, err := s.lockWithPayment(ctx, tx, pm.OrderID)
		if err != nil {
			return err
		}
		if cur.Status != payment.StatusPENDING {
			return nil // settled meanwhile
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		if o.Status == order.StatusPENDING_PAYMENT {
			if !orderstate.Overdue(o.PayBy, now) {
				return errNotDue
			}
			expired, touched, err = s.step(ctx, tx, o, orderstate.Expire, func(_ *ent.Tx, _ *ent.Order, upd *ent.OrderUpdateOne, now time.Time) error {
				upd.SetClosedAt(now)
				return nil
			})
			if err != nil {
				return err
			}
		}
		touched = append(touched, changes.Order(o.ID)) // its payment is CLOSED
		return setPayment(ctx, tx, cur, payment.StatusPENDING, func(u *ent.PaymentUpdate) {
			u.SetStatus(payment.StatusCLOSED).SetClosedAt(now).ClearNextCheckAt()
		})
	})
	if errors.Is(err, errNotDue) {
		s.later(ctx, pm, 2*time.Second, true)
		return nil
	}
	if err != nil {
		s.later(ctx, pm, backoff(pm.Attempts), false)
		return fmt.Errorf("close: %w", err)
	}
	s.changes.Announce(touched...)
	s.obs.Payment("closed")
	if expired != nil {
		slog.InfoContext(ctx, "order expired after its provider order was closed", "order", expired.Number)
	}
	return nil
}

// askRefund asks the provider for a payment's refund now (after refundOrder
// or a late payment); on failure the payments worker asks again.
func (s *Service) askRefund(ctx context.Context, id gid.ID) {
	pm, err := s.db.Client.Payment.Get(ctx, id)
	if err != nil || pm.Status != payment.StatusREFUNDING {
		return
	}
	prov, err := s.pay.For(pm.Channel)
	if err != nil {
		return
	}
	if err := s.pursueRefund(ctx, prov, pm); err != nil {
		slog.WarnContext(ctx, "asking for a refund failed; the payments worker asks again", "out_trade_no", pm.OutTradeNo, "err", err)
	}
}

// pursueRefund moves a refund on: until the provider accepted it, it is
// asked for (the same out_refund_no, so never twice); then it is queried
// until done.
func (s *Service) pursueRefund(ctx context.Context, prov payments.Provider, pm *ent.Payment) error {
	var (
		res payments.RefundResult
		err error
	)
	if pm.RefundID == nil {
		res, err = prov.Refund(ctx, payments.Refund{OutTradeNo: pm.OutTradeNo, OutRefundNo: deref(pm.OutRefundNo),
			Reason: deref(pm.RefundReason), Amount: pm.Amount})
		if err == nil {
			s.obs.Payment("refund_asked")
			payments.Audit(ctx, "refund asked", pm.OutTradeNo, pm.Channel, pm.Amount, "out_refund_no", deref(pm.OutRefundNo))
			if res.RefundID != "" {
				if err := s.db.Client.Payment.Update().Where(payment.ID(pm.ID), payment.RefundIDIsNil()).
					SetRefundID(res.RefundID).Exec(ctx); err != nil {
					return err
				}
			}
		}
	} else {
		res, err = prov.QueryRefund(ctx, deref(pm.OutRefundNo))
	}
	if err != nil {
		s.later(ctx, pm, backoff(pm.Attempts), false)
		return err
	}
	switch res.State {
	case payments.RefundDone:
		_, err := s.confirmRefund(ctx, pm, res.RefundID)
		return err
	case payments.RefundFailed:
		s.refundFailed(ctx, pm)
		s.later(ctx, pm, 24*time.Hour, true)
		return nil
	}
	s.later(ctx, pm, s.refundPoll, true)
	return nil
}

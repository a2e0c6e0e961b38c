package orders

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"unionmall/ent"
	"unionmall/ent/payment"
	"unionmall/ent/product"
	"unionmall/internal/apperr"
	"unionmall/internal/changes"
	"unionmall/internal/gid"
	"unionmall/internal/orderstate"
	"unionmall/internal/payments"
	"unionmall/internal/text"
)

// Started is a payment begun or resumed (the contract's PaymentRequest).
type Started struct {
	Order   *ent.Order
	Payment *ent.Payment
	Request payments.Request
}

// StartPayment starts the payment of an order awaiting payment through ch,
// or resumes the one started before (the same provider order: its
// out_trade_no is the order's number). The buyer only. The payments row
// is written under the order's row lock, so a payment is never started
// for an order that expired or was paid meanwhile; the provider is told
// payBy as its expiry, so nobody pays after it.
func (s *Service) StartPayment(ctx context.Context, id gid.ID, ch payments.Channel, openID string) (*Started, error) {
	prov, err := s.pay.For(ch)
	if err != nil {
		return nil, err
	}
	if openID != "" {
		if openID, err = text.Clean("openID", openID, 128); err != nil {
			return nil, err
		}
	}
	if ch == payments.JSAPI && openID == "" {
		return nil, apperr.BadInput("openID", "WECHAT_JSAPI needs the payer's openid")
	}
	var (
		o     *ent.Order
		pm    *ent.Payment
		fresh bool
		desc  string
	)
	err = s.db.Tx(ctx, func(tx *ent.Tx) error {
		if o, pm, err = s.lockWithPayment(ctx, tx, id); err != nil {
			return err
		}
		if err := buyerOnly(ctx, o); err != nil {
			return err
		}
		if _, err := orderstate.Next(o.Status, orderstate.Pay); err != nil {
			return err
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		if orderstate.Overdue(o.PayBy, now) {
			return apperr.New(apperr.InvalidState, "the order's payment window closed at %s", o.PayBy.UTC().Format(time.RFC3339))
		}
		if desc, err = description(ctx, tx, o); err != nil {
			return err
		}
		switch {
		case pm == nil:
			c := tx.Payment.Create().SetOrderID(o.ID).SetChannel(ch).SetAmount(o.Total).SetOutTradeNo(o.Number)
			if openID != "" {
				c.SetPayerOpenid(openID)
			}
			pm, err = c.Save(ctx)
			fresh = true
			return err
		case pm.Channel != ch:
			return apperr.New(apperr.InvalidState, "this order's payment was started with %s; continue it there, or cancel the order", pm.Channel)
		case pm.PayerOpenid != nil && *pm.PayerOpenid != openID:
			return apperr.BadInput("openID", "this order's payment was started for another payer")
		case pm.Status != payment.StatusPENDING:
			return apperr.New(apperr.InvalidState, "the order's payment is %s", pm.Status)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("start payment: %w", err)
	}
	if fresh {
		s.changes.Announce(changes.Order(o.ID)) // it has a PENDING payment
	}
	c := payments.Checkout{OrderID: o.ID, OutTradeNo: pm.OutTradeNo, Description: desc, Total: pm.Amount,
		ExpiresAt: *o.PayBy, OpenID: openID}
	if pm.PrepayID != nil {
		c.PrepayID = *pm.PrepayID
	}
	req, err := prov.Start(ctx, ch, c)
	if err != nil {
		slog.WarnContext(ctx, "the payment provider refused or did not answer a start", "order", o.Number, "channel", string(ch), "err", err)
		return nil, apperr.New(apperr.Internal, "the payment provider did not answer; try again")
	}
	// A payment counts as started once the provider holds it: when its
	// prepay_id is first stored (the first writer keeps it; the same
	// prepay_id either way), or for the sandbox, which has none, when its
	// row is written.
	started := fresh && req.PrepayID == ""
	if pm.PrepayID == nil && req.PrepayID != "" {
		n, err := s.db.Client.Payment.Update().Where(payment.ID(pm.ID), payment.PrepayIDIsNil()).
			SetPrepayID(req.PrepayID).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("start payment of %s: %w", o.Number, err)
		}
		started = n == 1
	}
	if started {
		s.obs.Payment("started")
		payments.Audit(ctx, "payment started", o.Number, ch, pm.Amount)
	}
	return &Started{Order: o.Unwrap(), Payment: pm.Unwrap(), Request: req}, nil
}

// description names what is paid for, as the payer's WeChat shows it
// (at most 127 characters): the first product, and how many items.
func description(ctx context.Context, tx *ent.Tx, o *ent.Order) (string, error) {
	items := o.Edges.Items
	if len(items) == 0 {
		return "订单 " + o.Number, nil
	}
	p, err := tx.Product.Query().Where(product.ID(items[0].ProductID)).Select(product.FieldName).Only(ctx)
	if err != nil {
		return "", err
	}
	name := []rune(p.Name)
	if len(name) > 60 {
		name = name[:60]
	}
	units := 0
	for _, it := range items {
		units += it.Quantity
	}
	d := string(name)
	if units > 1 {
		d += " 等" + strconv.Itoa(units) + "件"
	}
	return strings.TrimSpace(d), nil
}

package orders

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"unionmall/ent"
	entcoupon "unionmall/ent/coupon"
	"unionmall/ent/order"
	"unionmall/ent/orderitem"
	"unionmall/ent/product"
	"unionmall/internal/address"
	"unionmall/internal/apperr"
	"unionmall/internal/auth"
	"unionmall/internal/coupons"
	"unionmall/internal/db"
	"unionmall/internal/flashsales"
	"unionmall/internal/gid"
	"unionmall/internal/idempotency"
	"unionmall/internal/money"
	"unionmall/internal/ordernum"
	"unionmall/internal/pricing"
	"unionmall/internal/text"
)

// Service places orders and moves them through their life.
type Service struct {
	db     *db.DB
	window time.Duration
	now    func() time.Time
	// changed is told, after commit, of each order whose state changed.
	changed func(*ent.Order)
}

// New returns the order service. window is PAYMENT_WINDOW; changed (may be
// nil) runs after each committed change of an order.
func New(d *db.DB, window time.Duration, changed func(*ent.Order)) *Service {
	if changed == nil {
		changed = func(*ent.Order) {}
	}
	return &Service{db: d, window: window, now: time.Now, changed: changed}
}

// maxLines bounds one order.
const maxLines = 50

// Line is one product and quantity of an order being placed.
type Line struct {
	ProductID gid.ID
	Quantity  int
}

// Placement is what placeOrder takes.
type Placement struct {
	BuyerID          gid.ID
	Lines            []Line
	Address          *address.Shipping
	CouponID         *gid.ID
	PurchasingUnitID *gid.ID
	IdempotencyKey   *string
}

func (p *Placement) check() error {
	if len(p.Lines) == 0 || len(p.Lines) > maxLines {
		return apperr.BadInput("items", "an order has 1 to %d lines", maxLines)
	}
	seen := make(map[gid.ID]bool, len(p.Lines))
	for _, l := range p.Lines {
		if err := pricing.CheckQuantity(l.Quantity); err != nil {
			return err
		}
		if seen[l.ProductID] {
			return apperr.BadInput("items", "each product may appear on one line only")
		}
		seen[l.ProductID] = true
	}
	if p.Address != nil {
		a, err := p.Address.Normalize()
		if err != nil {
			return err
		}
		p.Address = &a
	}
	return idempotency.Check(p.IdempotencyKey)
}

// Place creates an order awaiting payment: stock is taken from every line
// (OUT_OF_STOCK, with nothing written, if any line lacks it), the coupon is
// reserved, and the order must be paid within the payment window. The same
// idempotency key from the same buyer returns the first order, also when
// the duplicates arrive together (the unique index decides).
func (s *Service) Place(ctx context.Context, p Placement) (*ent.Order, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if o, err := s.byKey(ctx, p); o != nil || err != nil {
		return o, err
	}
	// Lines in product order, so that concurrent orders lock rows in the
	// same order and cannot deadlock.
	lines := slices.Clone(p.Lines)
	slices.SortFunc(lines, func(a, b Line) int { return strings.Compare(string(a.ProductID), string(b.ProductID)) })

	id := gid.New(gid.Order)
	var err error
	for try := 0; try < 3; try++ { // a clash of order numbers is retried
		err = s.db.Tx(ctx, func(tx *ent.Tx) error {
			ids := make([]gid.ID, len(lines))
			for i, l := range lines {
				ids[i] = l.ProductID
			}
			q := tx.Product.Query().Where(product.IDIn(ids...)).Order(ent.Asc(product.FieldID))
			if s.db.Postgres() {
				q = q.ForUpdate()
			}
			products, err := q.All(ctx)
			if err != nil {
				return err
			}
			// The order's time (its coupon's validity, its deadline) is
			// read once its products are locked.
			now, err := s.db.Now(ctx, tx)
			if err != nil {
				return err
			}
			byID := make(map[gid.ID]*ent.Product, len(products))
			for _, pr := range products {
				byID[pr.ID] = pr
			}
			priced := make([]pricing.Line, len(lines))
			for i, l := range lines {
				pr := byID[l.ProductID]
				if pr == nil || !pr.OnSale {
					return apperr.New(apperr.ProductUnavailable, "a product of the order is off sale or unknown")
				}
				if err := takeStock(ctx, tx, pr, l.Quantity); err != nil {
					return err
				}
				priced[i] = pricing.Line{Quantity: l.Quantity, UnitPrice: pr.SalePrice}
			}
			subtotal := pricing.Price(priced, 0).Subtotal
			var c *ent.Coupon
			if p.CouponID != nil {
				if c, err = s.applicableCoupon(ctx, tx, *p.CouponID, p.BuyerID, subtotal, now); err != nil {
					return err
				}
			}
			var discount money.Fen
			if c != nil {
				discount = c.Discount
			}
			quote := pricing.Price(priced, discount)
			create := tx.Order.Create().
				SetID(id).
				SetNumber(ordernum.New(now)).
				SetBuyerID(p.BuyerID).
				SetNillablePurchasingUnitID(p.PurchasingUnitID).
				SetSubtotal(quote.Subtotal).
				SetDiscount(quote.Discount).
				SetTotal(quote.Total).
				SetNillableCouponID(p.CouponID).
				SetCreatedAt(now).
				SetPayBy(now.Add(s.window)).
				SetNillableIdempotencyKey(p.IdempotencyKey)
			if p.Address != nil {
				create.SetShippingAddress(p.Address)
			}
			if err := create.Exec(ctx); err != nil {
				return err
			}
			items := make([]*ent.OrderItemCreate, len(lines))
			for i, l := range lines {
				items[i] = tx.OrderItem.Create().SetOrderID(id).SetProductID(l.ProductID).
					SetQuantity(l.Quantity).SetUnitPrice(priced[i].UnitPrice).SetLineTotal(priced[i].Total())
			}
			if err := tx.OrderItem.CreateBulk(items...).Exec(ctx); err != nil {
				return err
			}
			if c != nil {
				return reserveCoupon(ctx, tx, c.ID, p.BuyerID, id, now)
			}
			return nil
		})
		if !ordernum.Clash(err) {
			break
		}
	}
	if err != nil && p.IdempotencyKey != nil {
		// A duplicate placed at the same moment committed first: it won
		// the unique index, or took the last units or the coupon, so this
		// one failed on those. Either way the first order is the answer.
		if o, kerr := s.byKey(ctx, p); o != nil || kerr != nil {
			return o, kerr
		}
	}
	if err != nil {
		return nil, fmt.Errorf("place order: %w", err)
	}
	o, err := s.db.Client.Order.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("place order: %w", err)
	}
	s.changed(o)
	return o, nil
}

// takeStock takes q units of the product's stock with a conditional
// UPDATE, so no concurrency can take stock below zero.
func takeStock(ctx context.Context, tx *ent.Tx, p *ent.Product, q int) error {
	n, err := tx.Product.Update().
		Where(product.ID(p.ID), product.StockGTE(q)).
		AddStock(-q).
		Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return apperr.New(apperr.OutOfStock, "%s has fewer than %d units in stock", p.Name, q)
	}
	return nil
}

func (s *Service) applicableCoupon(ctx context.Context, tx *ent.Tx, id, buyer gid.ID, subtotal money.Fen, now time.Time) (*ent.Coupon, error) {
	c, err := tx.Coupon.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no coupon has that ID")
	}
	if err != nil {
		return nil, err
	}
	if err := coupons.CheckApplicable(c, buyer, subtotal, now); err != nil {
		return nil, err
	}
	return c, nil
}

// reserveCoupon moves the coupon from AVAILABLE to RESERVED by this order
// in one conditional UPDATE: of two orders racing for one coupon, one wins.
func reserveCoupon(ctx context.Context, tx *ent.Tx, couponID, buyer, orderID gid.ID, now time.Time) error {
	n, err := tx.Coupon.Update().
		Where(entcoupon.ID(couponID), entcoupon.MemberID(buyer),
			entcoupon.StatusEQ(entcoupon.StatusAVAILABLE),
			entcoupon.ValidFromLTE(now), entcoupon.ValidUntilGT(now)).
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

// byKey returns the order that the placement's idempotency key already
// names (nil if none), or idempotency.ErrOtherRequest if that order is not
// this placement: a flash-sale order, other lines, another coupon or unit.
func (s *Service) byKey(ctx context.Context, p Placement) (*ent.Order, error) {
	if p.IdempotencyKey == nil {
		return nil, nil
	}
	o, err := s.db.Client.Order.Query().
		Where(order.BuyerID(p.BuyerID), order.IdempotencyKey(*p.IdempotencyKey)).
		WithItems().
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("place order: %w", err)
	}
	if !p.sameAs(o) {
		return nil, idempotency.ErrOtherRequest
	}
	return o, nil
}

// sameAs reports whether o is the order this placement would make.
func (p *Placement) sameAs(o *ent.Order) bool {
	if o.FlashSaleID != nil || !sameID(o.CouponID, p.CouponID) || !sameID(o.PurchasingUnitID, p.PurchasingUnitID) ||
		len(o.Edges.Items) != len(p.Lines) {
		return false
	}
	want := make(map[gid.ID]int, len(p.Lines))
	for _, l := range p.Lines {
		want[l.ProductID] = l.Quantity
	}
	for _, it := range o.Edges.Items {
		if want[it.ProductID] != it.Quantity {
			return false
		}
	}
	return true
}

func sameID(a, b *gid.ID) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// transition loads an order for update, checks who may act on it and that
// the action is allowed in its state, applies the change, and gives back
// what the order held when it stops being live. It returns the new order.
//
// now, given to apply, is read once the order's row is locked (db.Now):
// deadlines are compared with the database's clock at the moment the
// decision is made, not with an instance's clock before a lock wait.
func (s *Service) transition(ctx context.Context, id gid.ID, a Action, who func(context.Context, *ent.Order) error,
	apply func(tx *ent.Tx, o *ent.Order, upd *ent.OrderUpdateOne, now time.Time) error) (*ent.Order, error) {
	var out *ent.Order
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
		next, err := Next(o.Status, a)
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
		if Live(o.Status) && !Live(next) {
			if err := release(ctx, tx, o, o.Status == order.StatusPAID || o.Status == order.StatusPENDING_PAYMENT); err != nil {
				return err
			}
		}
		out, err = tx.Order.Get(ctx, o.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s order: %w", a, err)
	}
	out = out.Unwrap()
	s.changed(out)
	return out, nil
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

// release gives back what a live order held as it stops being live: its
// units (to the product, or to its flash sale) when restock, its coupon
// when it was only reserved, and its units from the sold counts when paid.
//
// Rows are locked in the order every transaction uses, so that none waits
// for another that waits for it: a flash sale's row before its product's
// (settlement and the units given back lock them so), and products in
// order of their IDs (as placement does; transition loads the lines so).
func release(ctx context.Context, tx *ent.Tx, o *ent.Order, restock bool) error {
	items := o.Edges.Items
	if o.FlashSaleID != nil {
		for _, it := range items {
			if err := flashsales.ReturnUnits(ctx, tx, *o.FlashSaleID, o.BuyerID, it.Quantity, restock); err != nil {
				return err
			}
		}
	}
	for _, it := range items {
		upd := tx.Product.UpdateOneID(it.ProductID)
		changed := false
		if Paid(o.Status) {
			upd.AddSoldCount(-it.Quantity)
			changed = true
		}
		if restock && o.FlashSaleID == nil {
			upd.AddStock(it.Quantity)
			changed = true
		}
		if !changed {
			continue
		}
		if err := upd.Exec(ctx); err != nil {
			return err
		}
	}
	if o.CouponID != nil && o.Status == order.StatusPENDING_PAYMENT {
		_, err := tx.Coupon.Update().
			Where(entcoupon.ID(*o.CouponID), entcoupon.OrderID(o.ID), entcoupon.StatusEQ(entcoupon.StatusRESERVED)).
			SetStatus(entcoupon.StatusAVAILABLE).
			ClearOrderID().
			Save(ctx)
		return err
	}
	return nil
}

// ConfirmPayment records the payment provider's callback: the amount must
// equal the total; the order becomes PAID, its coupon USED and its units
// count as sold. A repeat with the same reference returns the paid order.
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
	out, err := s.transition(ctx, id, Pay, anyone, func(tx *ent.Tx, o *ent.Order, upd *ent.OrderUpdateOne, now time.Time) error {
		if o.PayBy != nil && !now.Before(*o.PayBy) {
			return apperr.New(apperr.InvalidState, "the order's payment window closed at %s", o.PayBy.UTC().Format(time.RFC3339))
		}
		taken, err := tx.Order.Query().Where(order.PaymentReference(reference)).Exist(ctx)
		if err != nil {
			return err
		}
		if taken {
			return apperr.BadInput("paymentReference", "that payment reference is recorded for another order")
		}
		upd.SetPaidAt(now).SetPaymentReference(reference)
		for _, it := range o.Edges.Items {
			if err := tx.Product.UpdateOneID(it.ProductID).AddSoldCount(it.Quantity).Exec(ctx); err != nil {
				return err
			}
		}
		if o.CouponID != nil {
			_, err := tx.Coupon.Update().
				Where(entcoupon.ID(*o.CouponID), entcoupon.OrderID(o.ID)).
				SetStatus(entcoupon.StatusUSED).
				Save(ctx)
			return err
		}
		return nil
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

// Cancel cancels an order awaiting payment (the buyer or an admin) and
// gives its stock and coupon back.
func (s *Service) Cancel(ctx context.Context, id gid.ID) (*ent.Order, error) {
	return s.transition(ctx, id, Cancel, buyerOrAdmin, func(_ *ent.Tx, _ *ent.Order, upd *ent.OrderUpdateOne, now time.Time) error {
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
	return s.transition(ctx, id, SetAddress, buyerOnly, func(_ *ent.Tx, _ *ent.Order, upd *ent.OrderUpdateOne, _ time.Time) error {
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
	return s.transition(ctx, id, Ship, anyone, func(_ *ent.Tx, o *ent.Order, upd *ent.OrderUpdateOne, now time.Time) error {
		if o.ShippingAddress == nil {
			return apperr.New(apperr.InvalidState, "the order has no shipping address yet")
		}
		upd.SetTrackingNumber(tracking).SetShippedAt(now)
		return nil
	})
}

// Complete marks a shipped order as received (the buyer or an admin).
func (s *Service) Complete(ctx context.Context, id gid.ID) (*ent.Order, error) {
	return s.transition(ctx, id, Complete, buyerOrAdmin, func(_ *ent.Tx, _ *ent.Order, upd *ent.OrderUpdateOne, now time.Time) error {
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
	return s.transition(ctx, id, Refund, anyone, func(_ *ent.Tx, _ *ent.Order, upd *ent.OrderUpdateOne, now time.Time) error {
		upd.SetRefundReason(reason).SetClosedAt(now)
		return nil
	})
}

// ExpireDue expires orders whose payment window has passed, giving back
// their stock, flash-sale units and coupons, and returns how many it
// expired. Every instance runs it: each order changes in a transaction of
// its own that re-checks, under the order's row lock and by the database's
// clock, that the order still awaits payment and is due, so exactly one
// instance expires it and none expires it early. The instance's clock only
// picks the candidates. An order that fails does not hold up the others;
// the failures are returned together.
func (s *Service) ExpireDue(ctx context.Context, limit int) (int, error) {
	ids, err := s.db.Client.Order.Query().
		Where(order.StatusEQ(order.StatusPENDING_PAYMENT), order.PayByLTE(s.now().UTC())).
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
		o, err := s.transition(ctx, id, Expire, anyone, func(_ *ent.Tx, o *ent.Order, upd *ent.OrderUpdateOne, now time.Time) error {
			if o.PayBy != nil && now.Before(*o.PayBy) {
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

// Items returns an order's lines.
func Items(ctx context.Context, client *ent.Client, orderID gid.ID) ([]*ent.OrderItem, error) {
	return client.OrderItem.Query().Where(orderitem.OrderID(orderID)).Order(ent.Asc(orderitem.FieldID)).All(ctx)
}

package orders

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"unionmall/ent"
	"unionmall/ent/product"
	"unionmall/internal/address"
	"unionmall/internal/apperr"
	"unionmall/internal/auth"
	"unionmall/internal/catalog"
	"unionmall/internal/changes"
	"unionmall/internal/coupons"
	"unionmall/internal/gid"
	"unionmall/internal/idempotency"
	"unionmall/internal/money"
	"unionmall/internal/ordernum"
	"unionmall/internal/orderstate"
	"unionmall/internal/pricing"
)

// MaxLines bounds one order (and a cart, so that a full cart is one order).
const MaxLines = 50

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
	// Cart, when set, gives the lines instead of Lines (placeOrder
	// fromCart) and takes them out of the cart in the order's transaction.
	Cart Cart
}

// Cart is a member's cart as placeOrder fromCart orders it (internal/cart).
type Cart interface {
	// Lines are the buyer's cart lines, or the refusal of a cart that
	// cannot be ordered as it is (empty, a line off sale or short of
	// stock).
	Lines(ctx context.Context, buyer gid.ID) ([]Line, error)
	// Ordered takes the ordered quantities out of the cart, in the order's
	// transaction.
	Ordered(ctx context.Context, tx *ent.Tx, buyer gid.ID, lines []Line) error
}

// CheckLines refuses lines that no order may have (BAD_USER_INPUT): none
// or more than MaxLines, a quantity out of bounds, a product on two lines.
func CheckLines(lines []Line) error {
	if len(lines) == 0 || len(lines) > MaxLines {
		return apperr.BadInput("items", "an order has 1 to %d lines", MaxLines)
	}
	seen := make(map[gid.ID]bool, len(lines))
	for _, l := range lines {
		if err := pricing.CheckQuantity(l.Quantity); err != nil {
			return err
		}
		if seen[l.ProductID] {
			return apperr.BadInput("items", "each product may appear on one line only")
		}
		seen[l.ProductID] = true
	}
	return nil
}

func (p *Placement) check() error {
	if err := CheckLines(p.Lines); err != nil {
		return err
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

// buysFor refuses an order for a purchasing unit unless the caller (the
// viewer in ctx) is a PURCHASER of that unit; an ADMIN is no exception.
func buysFor(ctx context.Context, unit *gid.ID) error {
	if unit != nil && !auth.FromContext(ctx).PurchasesFor(*unit) {
		return apperr.New(apperr.Forbidden, "only a PURCHASER of that purchasing unit may buy for it")
	}
	return nil
}

// Place creates an order awaiting payment: stock is taken from every line
// (OUT_OF_STOCK, with nothing written, if any line lacks it), the coupon is
// reserved, and the order must be paid within the payment window. An order
// for a purchasing unit needs a PURCHASER of it as the caller. The same
// idempotency key from the same buyer returns the first order, also when
// the duplicates arrive together (the unique index decides).
func (s *Service) Place(ctx context.Context, p Placement) (*ent.Order, error) {
	if err := buysFor(ctx, p.PurchasingUnitID); err != nil {
		return nil, err
	}
	if p.Cart != nil {
		if len(p.Lines) > 0 {
			return nil, apperr.BadInput("items", "items must be empty when ordering the cart")
		}
		// A repeated key answers before the cart is read: its lines have
		// left the cart.
		if err := idempotency.Check(p.IdempotencyKey); err != nil {
			return nil, err
		}
		if o, err := s.byKey(ctx, p); o != nil || err != nil {
			return o, err
		}
		lines, err := p.Cart.Lines(ctx, p.BuyerID)
		if err != nil {
			return nil, err
		}
		p.Lines = lines
	}
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
		err = s.db.Tx(ctx, func(tx *ent.Tx) error { return s.place(ctx, tx, id, p, lines) })
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
	s.changes.Announce(changes.Stats)
	return o, nil
}

// place writes the order id inside tx: its lines are p's, sorted by product.
func (s *Service) place(ctx context.Context, tx *ent.Tx, id gid.ID, p Placement, lines []Line) error {
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
	// The order's time (its coupon's validity, its deadline) is read once
	// its products are locked.
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
		if err := catalog.Orderable(pr); err != nil {
			return err
		}
		if err := catalog.TakeStock(ctx, tx, pr, l.Quantity); err != nil {
			return err
		}
		priced[i] = catalog.PriceLine(pr, l.Quantity)
	}
	subtotal := pricing.Price(priced, 0).Subtotal
	var c *ent.Coupon
	if p.CouponID != nil {
		if c, err = coupons.Applicable(ctx, tx, *p.CouponID, p.BuyerID, subtotal, now); err != nil {
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
		SetPayBy(orderstate.PayBy(now, s.window)).
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
		if err := coupons.Reserve(ctx, tx, c.ID, p.BuyerID, id, now); err != nil {
			return err
		}
	}
	if p.Cart != nil {
		return p.Cart.Ordered(ctx, tx, p.BuyerID, lines)
	}
	return nil
}

// byKey returns the order that the placement's idempotency key already
// names (nil if none), or idempotency.ErrOtherRequest if that order is not
// this placement (idempotency.Answer).
func (s *Service) byKey(ctx context.Context, p Placement) (*ent.Order, error) {
	if p.IdempotencyKey == nil {
		return nil, nil
	}
	o, err := s.db.Client.Order.Query().
		Where(idempotency.Named(p.BuyerID, *p.IdempotencyKey)).
		WithItems().
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("place order: %w", err)
	}
	return idempotency.Answer(o, nil, p.sameAs(o))
}

// sameAs reports whether o has this placement's lines, coupon and unit
// (a placement from the cart: its coupon and unit; the cart has changed
// since, by the order itself).
func (p *Placement) sameAs(o *ent.Order) bool {
	if !sameID(o.CouponID, p.CouponID) || !sameID(o.PurchasingUnitID, p.PurchasingUnitID) {
		return false
	}
	if p.Cart != nil {
		return true
	}
	if len(o.Edges.Items) != len(p.Lines) {
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

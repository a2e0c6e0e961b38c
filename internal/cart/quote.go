package cart

import (
	"context"
	"fmt"

	"unionmall/ent"
	entcoupon "unionmall/ent/coupon"
	"unionmall/ent/product"
	"unionmall/internal/catalog"
	"unionmall/internal/coupons"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/orders"
	"unionmall/internal/pricing"
)

// Ask is what a quote prices.
type Ask struct {
	// Items to price; nil prices the cart.
	Items []orders.Line
	// CouponID prices with that coupon instead of the best; NoCoupon with
	// none.
	CouponID *gid.ID
	NoCoupon bool
}

// Quote is what placeOrder would charge for the lines now.
type Quote struct {
	Lines                     []*Line
	Subtotal, Discount, Total money.Fen
	// Coupons are the member's AVAILABLE coupons, best first.
	Coupons                   []coupons.Option
	BestCoupon, AppliedCoupon *ent.Coupon
	// Orderable: some lines, none with a problem.
	Orderable bool
}

// Quote prices the member's cart, or the items asked, with the rules
// placeOrder applies (catalog.PriceLine, coupons.CheckApplicable,
// pricing.Price) and lists the member's AVAILABLE coupons priced against
// it (coupons.Options). Lines with a problem are listed but priced out of
// the subtotal. The coupon priced in is the chosen one when it applies
// (a chosen coupon that does not apply, or that is not the member's
// AVAILABLE coupon, is priced as none: a quote answers, it does not
// refuse), else the best, none with NoCoupon. It writes nothing and
// reserves nothing; purchasing units are not asked for (an order for one
// is priced the same way). Items are checked as placeOrder checks them
// (BAD_USER_INPUT; PRODUCT_UNAVAILABLE for an unknown or off-sale product).
func (s *Service) Quote(ctx context.Context, member gid.ID, a Ask) (*Quote, error) {
	var lines []*Line
	if a.Items == nil {
		c, err := s.Get(ctx, member)
		if err != nil {
			return nil, err
		}
		lines = c.Lines
	} else {
		var err error
		if lines, err = s.items(ctx, a.Items); err != nil {
			return nil, err
		}
	}
	q := &Quote{Lines: lines, Orderable: len(lines) > 0}
	var priced []pricing.Line
	for _, l := range lines {
		if l.Problem != nil {
			q.Orderable = false
			continue
		}
		priced = append(priced, catalog.PriceLine(l.Product, l.Quantity))
	}
	now := s.now()
	cs, err := s.db.Client.Coupon.Query().
		Where(entcoupon.MemberID(member), coupons.WhereStatusAt(entcoupon.StatusAVAILABLE, now)).
		Order(ent.Asc(entcoupon.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("quote: %w", err)
	}
	q.Coupons = coupons.Options(cs, member, priced, now)
	if len(q.Coupons) > 0 && q.Coupons[0].Applicable {
		q.BestCoupon = q.Coupons[0].Coupon
	}
	switch {
	case a.NoCoupon:
	case a.CouponID != nil:
		for _, o := range q.Coupons {
			if o.Coupon.ID == *a.CouponID && o.Applicable {
				q.AppliedCoupon = o.Coupon
			}
		}
	default:
		q.AppliedCoupon = q.BestCoupon
	}
	var discount money.Fen
	if q.AppliedCoupon != nil {
		discount = q.AppliedCoupon.Discount
	}
	p := pricing.Price(priced, discount)
	q.Subtotal, q.Discount, q.Total = p.Subtotal, p.Discount, p.Total
	return q, nil
}

// items prices the lines asked, in the order asked.
func (s *Service) items(ctx context.Context, items []orders.Line) ([]*Line, error) {
	if err := orders.CheckLines(items); err != nil {
		return nil, err
	}
	ids := make([]gid.ID, len(items))
	for i, it := range items {
		ids[i] = it.ProductID
	}
	ps, err := s.db.Client.Product.Query().Where(product.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("quote: %w", err)
	}
	byID := make(map[gid.ID]*ent.Product, len(ps))
	for _, p := range ps {
		byID[p.ID] = p
	}
	out := make([]*Line, len(items))
	for i, it := range items {
		p := byID[it.ProductID]
		if err := catalog.Orderable(p); err != nil {
			return nil, err
		}
		out[i] = priced("", p, it.Quantity)
	}
	return out, nil
}

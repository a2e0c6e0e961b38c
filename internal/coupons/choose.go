package coupons

import (
	"cmp"
	"slices"
	"time"

	"unionmall/ent"
	"unionmall/internal/apperr"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/pricing"
)

// Option is one coupon priced against an order's lines (自动选择最优优惠券).
type Option struct {
	Coupon     *ent.Coupon
	Applicable bool
	// Discount is what the coupon takes off the lines (zero when not
	// applicable): pricing.Price's discount, as placeOrder charges it.
	Discount money.Fen
	// Reason is the code CheckApplicable refuses with, when not applicable.
	Reason *string
}

// Options prices each of the buyer's coupons against an order of the lines
// at now (CheckApplicable, pricing.Price) and orders them best first:
// applicable before not, the larger discount first, then the one whose
// validity ends first, then the smaller ID. The best, when one applies, is
// the first.
func Options(cs []*ent.Coupon, buyer gid.ID, lines []pricing.Line, now time.Time) []Option {
	subtotal := pricing.Price(lines, 0).Subtotal
	out := make([]Option, len(cs))
	for i, c := range cs {
		o := Option{Coupon: c}
		if err := CheckApplicable(c, buyer, subtotal, now); err != nil {
			code := string(apperr.CodeOf(err))
			o.Reason = &code
		} else {
			o.Applicable, o.Discount = true, pricing.Price(lines, c.Discount).Discount
		}
		out[i] = o
	}
	slices.SortFunc(out, func(a, b Option) int {
		if a.Applicable != b.Applicable {
			if a.Applicable {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.Discount, a.Discount), a.Coupon.ValidUntil.Compare(b.Coupon.ValidUntil),
			cmp.Compare(a.Coupon.ID, b.Coupon.ID))
	})
	return out
}

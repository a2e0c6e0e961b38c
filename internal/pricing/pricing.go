// Package pricing computes what an order costs: its lines at the unit
// price, the subtotal, the coupon's 满减 discount and the total. All in fen.
package pricing

import (
	"unionmall/internal/apperr"
	"unionmall/internal/money"
)

// Bounds of one order line's quantity.
const (
	MinQuantity = 1
	MaxQuantity = 999
)

// CheckQuantity refuses quantities outside 1..999 with BAD_USER_INPUT.
func CheckQuantity(q int) error {
	if q < MinQuantity || q > MaxQuantity {
		return apperr.BadInput("quantity", "a line's quantity must be between %d and %d", MinQuantity, MaxQuantity)
	}
	return nil
}

// Line is one product line at its unit price.
type Line struct {
	Quantity  int
	UnitPrice money.Fen
}

// Total is the line's price.
func (l Line) Total() money.Fen { return l.UnitPrice.Times(l.Quantity) }

// Quote is an order's amounts.
type Quote struct {
	Subtotal money.Fen
	Discount money.Fen
	Total    money.Fen
}

// Price sums the lines and takes off the coupon's discount (zero for no
// coupon), never more than the subtotal: total = subtotal − discount ≥ 0.
func Price(lines []Line, couponDiscount money.Fen) Quote {
	var q Quote
	for _, l := range lines {
		q.Subtotal += l.Total()
	}
	q.Discount = money.Min(max(couponDiscount, 0), q.Subtotal)
	q.Total = q.Subtotal - q.Discount
	return q
}

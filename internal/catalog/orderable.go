package catalog

import (
	"unionmall/ent"
	"unionmall/internal/apperr"
	"unionmall/internal/pricing"
)

// Orderable refuses, with PRODUCT_UNAVAILABLE, a product that is unknown
// (nil) or off sale: the rule for every line placeOrder takes and every
// line addToCart adds.
func Orderable(p *ent.Product) error {
	if p == nil || !p.OnSale {
		return apperr.New(apperr.ProductUnavailable, "a product of the order is off sale or unknown")
	}
	return nil
}

// PriceLine is q units of p at the price an order charges for it: its
// sale price (stored as the list price when there is no discount).
// placeOrder and quote both price lines with it.
func PriceLine(p *ent.Product, q int) pricing.Line {
	return pricing.Line{Quantity: q, UnitPrice: p.SalePrice}
}

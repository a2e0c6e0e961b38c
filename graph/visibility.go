package graph

import (
	"context"

	"unionmall/ent"
	"unionmall/ent/flashsale"
	"unionmall/ent/predicate"
	"unionmall/ent/product"
	"unionmall/internal/auth"
	"unionmall/internal/gid"
)

// What non-admins may see of the catalogue, in one place. The contract:
// non-admins see only products on sale, in lists and through node. A flash
// sale shows its product, so a sale of a product off sale is hidden from
// them too: null from flashSale and node, left out of a live event's
// flashSales. A member's own orders still show what was bought (lines,
// sale and product): they are the member's record, not the catalogue.

// productShown is what a product must satisfy for the caller to see it.
func productShown(ctx context.Context) []predicate.Product {
	if auth.IsAdmin(ctx) {
		return nil
	}
	return []predicate.Product{product.OnSale(true)}
}

// saleShown is what a flash sale must satisfy for the caller to see it:
// its product must be shown.
func saleShown(ctx context.Context) []predicate.FlashSale {
	if auth.IsAdmin(ctx) {
		return nil
	}
	return []predicate.FlashSale{flashsale.HasProductWith(productShown(ctx)...)}
}

// shownSales is sales without those the caller may not see, in their order.
func (r *Resolver) shownSales(ctx context.Context, sales []*ent.FlashSale) ([]*ent.FlashSale, error) {
	ids := make([]gid.ID, len(sales))
	for i, s := range sales {
		ids[i] = s.ID
	}
	shown, err := r.DB.Client.FlashSale.Query().Where(flashsale.IDIn(ids...)).Where(saleShown(ctx)...).IDs(ctx)
	if err != nil {
		return nil, err
	}
	keep := make(map[gid.ID]bool, len(shown))
	for _, id := range shown {
		keep[id] = true
	}
	out := make([]*ent.FlashSale, 0, len(shown))
	for _, s := range sales {
		if keep[s.ID] {
			out = append(out, s)
		}
	}
	return out, nil
}

package catalog

import (
	"context"

	"unionmall/ent"
	"unionmall/ent/product"
	"unionmall/internal/apperr"
	"unionmall/internal/gid"
)

// Stock taken by an order or a flash sale, and given back. Callers lock
// rows in one order (a flash sale's before its product's, products by ID)
// so that none waits for another that waits for it; these functions each
// write one product row.

// TakeStock takes q units of the product's stock in one conditional UPDATE
// (stock >= q), so no concurrency takes stock below zero: OUT_OF_STOCK, with
// nothing written, when fewer units are left.
func TakeStock(ctx context.Context, tx *ent.Tx, p *ent.Product, q int) error {
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

// ReturnStock gives q units that TakeStock took back to the product's stock.
func ReturnStock(ctx context.Context, tx *ent.Tx, productID gid.ID, q int) error {
	return tx.Product.UpdateOneID(productID).AddStock(q).Exec(ctx)
}

package flashsales

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect/sql"

	"unionmall/ent"
	"unionmall/ent/flashsale"
	"unionmall/ent/flashsaleholding"
	"unionmall/internal/catalog"
	"unionmall/internal/changes"
	"unionmall/internal/gid"
)

// ReturnUnits takes q units of a member's order out of the sale: the
// order stopped being live (cancelled, expired or refunded), and sold
// always equals the units of the sale's live orders.
//
// Where the units go: units that never left the warehouse (restock) go back
// to the sale while it has not been settled, and to the product's stock
// once the sale's leftover went back there; units that shipped (a refund
// after shipping) are gone, so they leave the sale's quantity too. It
// returns what the caller announces after commit (ChangesOf the sale).
//
// The holding is updated before the sale, the order in which a buying
// batch locks them (batch_postgres.go), so the two never deadlock.
func ReturnUnits(ctx context.Context, tx *ent.Tx, saleID, memberID gid.ID, q int, restock bool) ([]changes.Change, error) {
	n, err := tx.FlashSaleHolding.Update().
		Where(flashsaleholding.FlashSaleID(saleID), flashsaleholding.MemberID(memberID), flashsaleholding.UnitsGTE(q)).
		AddUnits(-q).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("return flash-sale units: %w", err)
	}
	if n != 1 {
		return nil, fmt.Errorf("return flash-sale units: member %s holds fewer than %d units of sale %s", memberID, q, saleID)
	}
	upd := tx.FlashSale.Update().Where(flashsale.ID(saleID), flashsale.SoldGTE(q)).AddSold(-q)
	if !restock {
		upd.Modify(func(u *sql.UpdateBuilder) { u.Add(flashsale.FieldQuantity, -q) })
	}
	n, err = upd.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("return flash-sale units: %w", err)
	}
	if n != 1 {
		return nil, fmt.Errorf("return flash-sale units: sale %s holds fewer than %d units", saleID, q)
	}
	// The sale row is locked by the update above, so settlement cannot run
	// between this read (a statement after the lock: it sees settled_at as
	// committed) and the stock change.
	s, err := tx.FlashSale.Get(ctx, saleID)
	if err != nil {
		return nil, fmt.Errorf("return flash-sale units: %w", err)
	}
	touched := ChangesOf(s.ID, s.LiveEventID)
	if !restock || s.SettledAt == nil {
		return touched, nil
	}
	if err := catalog.ReturnStock(ctx, tx, s.ProductID, q); err != nil {
		return nil, fmt.Errorf("return flash-sale units to stock: %w", err)
	}
	return touched, nil
}

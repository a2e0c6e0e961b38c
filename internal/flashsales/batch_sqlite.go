package flashsales

import (
	"context"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"unionmall/ent"
	"unionmall/ent/flashsale"
	"unionmall/ent/flashsaleholding"
	"unionmall/ent/order"
	"unionmall/internal/gid"
)

// SQLite: the batch through ent. Its transactions are serialized (BEGIN
// IMMEDIATE takes the write lock), so everything read inside one is
// current, and there are no network round trips to save.

func (s *Service) readEnt(ctx context.Context, tx *ent.Tx, id gid.ID, batch []*buyRequest) (state, error) {
	st := state{now: time.Now().UTC(), held: make(map[gid.ID]int, len(batch)), existing: map[string]keyed{}}
	members := make([]gid.ID, len(batch))
	for i, r := range batch {
		members[i] = r.buyer
	}
	rows, err := tx.FlashSaleHolding.Query().
		Where(flashsaleholding.FlashSaleID(id), flashsaleholding.MemberIDIn(members...)).All(ctx)
	if err != nil {
		return st, err
	}
	for _, h := range rows {
		st.held[h.MemberID] = h.Units
	}
	buyers, keys := keysOf(batch)
	if len(keys) == 0 {
		return st, nil
	}
	ids := make([]gid.ID, len(buyers))
	for i, b := range buyers {
		ids[i] = gid.ID(b)
	}
	found, err := tx.Order.Query().Where(order.BuyerIDIn(ids...), order.IdempotencyKeyIn(keys...)).All(ctx)
	if err != nil {
		return st, err
	}
	for _, o := range found {
		st.existing[keyFor(string(o.BuyerID), *o.IdempotencyKey)] = keyed{id: o.ID, saleID: o.FlashSaleID}
	}
	return st, nil
}

// writeRowsEnt encodes the rows as ent bulk creates and the sale's
// guarded update.
func writeRowsEnt(ctx context.Context, tx *ent.Tx, rows batchRows) error {
	holdings := make([]*ent.FlashSaleHoldingCreate, len(rows.holdings))
	for j, r := range rows.holdings {
		holdings[j] = tx.FlashSaleHolding.Create().SetID(r.id).SetFlashSaleID(r.flashSaleID).SetMemberID(r.memberID).
			SetUnits(r.units).SetPerMemberLimit(r.perMemberLimit)
	}
	orders := make([]*ent.OrderCreate, len(rows.orders))
	for j, r := range rows.orders {
		orders[j] = tx.Order.Create().SetID(r.id).SetNumber(r.number).SetBuyerID(r.buyerID).
			SetSubtotal(r.subtotal).SetDiscount(r.discount).SetTotal(r.total).SetFlashSaleID(r.flashSaleID).
			SetStatus(r.status).SetCreatedAt(r.createdAt).SetPayBy(r.payBy).SetNillableIdempotencyKey(r.idempotencyKey)
	}
	items := make([]*ent.OrderItemCreate, len(rows.items))
	for j, r := range rows.items {
		items[j] = tx.OrderItem.Create().SetID(r.id).SetOrderID(r.orderID).SetProductID(r.productID).
			SetQuantity(r.quantity).SetUnitPrice(r.unitPrice).SetLineTotal(r.lineTotal)
	}
	err := tx.FlashSaleHolding.CreateBulk(holdings...).
		OnConflict(
			sql.ConflictColumns(flashsaleholding.FieldFlashSaleID, flashsaleholding.FieldMemberID),
			sql.ResolveWith(func(u *sql.UpdateSet) { // units = units + excluded.units
				excluded := sql.Dialect(dialect.SQLite).Table("excluded")
				u.Set(flashsaleholding.FieldUnits, sql.Expr(
					u.Table().C(flashsaleholding.FieldUnits)+" + "+excluded.C(flashsaleholding.FieldUnits)))
			}),
		).
		Exec(ctx)
	if err != nil {
		return err
	}
	if err := tx.Order.CreateBulk(orders...).Exec(ctx); err != nil {
		return err
	}
	if err := tx.OrderItem.CreateBulk(items...).Exec(ctx); err != nil {
		return err
	}
	sold := rows.sold
	n, err := tx.FlashSale.Update().
		Where(flashsale.ID(sold.id), flashsale.SoldLTE(sold.quantity-sold.units), flashsale.SettledAtIsNil(),
			flashsale.StartsAtLTE(sold.at), flashsale.EndsAtGT(sold.at)).
		AddSold(sold.units).
		Save(ctx)
	if err == nil && n != 1 {
		err = errGuard
	}
	return err
}

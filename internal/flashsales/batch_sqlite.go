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
	"unionmall/internal/pricing"
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

func (s *Service) writeEnt(ctx context.Context, tx *ent.Tx, sale *ent.FlashSale, batch []*buyRequest, d decision, st state) error {
	holdings := make([]*ent.FlashSaleHoldingCreate, len(d.winners))
	orders := make([]*ent.OrderCreate, len(d.winners))
	items := make([]*ent.OrderItemCreate, len(d.winners))
	for j, w := range d.winners {
		r := batch[w.req]
		line := pricing.Line{Quantity: r.q, UnitPrice: sale.Price}
		holdings[j] = tx.FlashSaleHolding.Create().SetID(gid.ID(w.holdingID)).
			SetFlashSaleID(sale.ID).SetMemberID(r.buyer).SetUnits(r.q).SetPerMemberLimit(sale.PerMemberLimit)
		orders[j] = tx.Order.Create().SetID(w.orderID).SetNumber(w.number).SetBuyerID(r.buyer).
			SetSubtotal(line.Total()).SetDiscount(0).SetTotal(line.Total()).SetFlashSaleID(sale.ID).
			SetStatus(order.StatusPENDING_PAYMENT).
			SetCreatedAt(st.now).SetPayBy(payBy(st.now, s.window)).SetNillableIdempotencyKey(r.key)
		items[j] = tx.OrderItem.Create().SetID(w.itemID).SetOrderID(w.orderID).SetProductID(sale.ProductID).
			SetQuantity(r.q).SetUnitPrice(sale.Price).SetLineTotal(line.Total())
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
	n, err := tx.FlashSale.Update().
		Where(flashsale.ID(sale.ID), flashsale.SoldLTE(sale.Quantity-d.units), flashsale.SettledAtIsNil(),
			flashsale.StartsAtLTE(st.now), flashsale.EndsAtGT(st.now)).
		AddSold(d.units).
		Save(ctx)
	if err == nil && n != 1 {
		err = errGuard
	}
	return err
}

package flashsales

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"

	"unionmall/ent"
	"unionmall/ent/flashsale"
	"unionmall/ent/flashsaleholding"
	"unionmall/ent/order"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/ordernum"
	"unionmall/internal/pricing"
)

// A batch is one transaction for many buyers: lock the sale row, read the
// buyers' holdings (and orders already placed with their idempotency
// keys), decide every request in arrival order, then write the winners'
// holdings, orders and order lines and the sale's new sold count. The sale
// row lock serializes this against every other batch and every unit given
// back, on every instance, so what is read under it stays true until
// commit.

// winner is a request that gets units: its new order's IDs and number.
type winner struct {
	req               int
	orderID, itemID   gid.ID
	holdingID, number string
}

// decision is what a batch decided.
type decision struct {
	results  []buyResult
	existing []gid.ID // per request: the order its idempotency key names
	winners  []winner
	units    int
}

// decide refuses or admits each request in arrival order, in the
// contract's order of refusals: not started/ended, sold out (also when the
// request wants more than remains), above the member's limit.
func decide(sale *ent.FlashSale, batch []*buyRequest, existing []gid.ID, held map[gid.ID]int, now time.Time) decision {
	d := decision{results: make([]buyResult, len(batch)), existing: existing}
	if now.Before(sale.StartsAt) || !now.Before(sale.EndsAt) {
		e := errNotStarted
		if !now.Before(sale.EndsAt) {
			e = errEnded
		}
		for i := range d.results {
			d.results[i].err = e
		}
		return d
	}
	remaining := sale.Quantity - sale.Sold
	for i, r := range batch {
		switch {
		case existing[i] != "":
			// answered with the existing order after commit
		case r.q > remaining:
			d.results[i].err = errSoldOut
		case held[r.buyer]+r.q > sale.PerMemberLimit:
			d.results[i].err = errLimit
		default:
			remaining -= r.q
			held[r.buyer] += r.q
			d.units += r.q
			d.winners = append(d.winners, winner{
				req: i, orderID: gid.New(gid.Order), itemID: gid.New(gid.OrderItem),
				holdingID: string(gid.New(gid.FlashSaleHolding)), number: ordernum.New(now),
			})
		}
	}
	return d
}

var errGuard = errors.New("flash sale changed under its row lock")

// commit runs a batch's transaction and updates the gate's copy of the
// sale.
func (g *gate) commit(ctx context.Context, batch []*buyRequest) (decision, error) {
	s := g.svc
	write := s.batchEnt
	if s.db.Postgres() {
		write = s.batchPostgres
	}
	sale, d, err := write(ctx, g.id, batch, s.now().UTC())
	if err != nil {
		return d, err
	}
	g.sale.Store(sale)
	if sale.Sold >= sale.Quantity {
		g.soldOut.Store(true)
	}
	if len(d.winners) > 0 {
		s.notify(TopicsOf(sale)...)
	}
	return d, nil
}

// answer reads the batch's orders back (committed) and answers every
// request.
func (s *Service) answer(ctx context.Context, batch []*buyRequest, d decision) {
	ids := make([]gid.ID, 0, len(d.winners))
	for _, id := range d.existing {
		if id != "" {
			ids = append(ids, id)
		}
	}
	for _, w := range d.winners {
		ids = append(ids, w.orderID)
	}
	byID := make(map[gid.ID]*ent.Order, len(ids))
	if len(ids) > 0 {
		orders, err := s.db.Client.Order.Query().Where(order.IDIn(ids...)).All(ctx)
		if err != nil {
			err = fmt.Errorf("buy flash sale: read orders back: %w", err)
			for i, r := range batch {
				if d.results[i].err == nil {
					d.results[i].err = err
				}
				r.reply <- d.results[i]
			}
			return
		}
		for _, o := range orders {
			byID[o.ID] = o
		}
	}
	for i, id := range d.existing {
		if id != "" {
			d.results[i].order = byID[id]
		}
	}
	for _, w := range d.winners {
		d.results[w.req].order = byID[w.orderID]
	}
	for i, r := range batch {
		r.reply <- d.results[i]
	}
}

// batchEnt is the batch through ent, for SQLite (whose transactions are
// serialized anyway and cost no network round trips).
func (s *Service) batchEnt(ctx context.Context, id gid.ID, batch []*buyRequest, now time.Time) (*ent.FlashSale, decision, error) {
	var (
		sale *ent.FlashSale
		d    decision
	)
	err := s.db.Tx(ctx, func(tx *ent.Tx) error {
		var err error
		if sale, err = tx.FlashSale.Get(ctx, id); err != nil {
			return err
		}
		existing, err := existingOrders(ctx, tx, batch)
		if err != nil {
			return err
		}
		buyers := make([]gid.ID, len(batch))
		for i, r := range batch {
			buyers[i] = r.buyer
		}
		rows, err := tx.FlashSaleHolding.Query().
			Where(flashsaleholding.FlashSaleID(id), flashsaleholding.MemberIDIn(buyers...)).All(ctx)
		if err != nil {
			return err
		}
		held := make(map[gid.ID]int, len(batch))
		for _, h := range rows {
			held[h.MemberID] = h.Units
		}
		if d = decide(sale, batch, existing, held, now); len(d.winners) == 0 {
			return nil
		}
		holdings := make([]*ent.FlashSaleHoldingCreate, len(d.winners))
		orders := make([]*ent.OrderCreate, len(d.winners))
		items := make([]*ent.OrderItemCreate, len(d.winners))
		for j, w := range d.winners {
			r := batch[w.req]
			line := pricing.Line{Quantity: r.q, UnitPrice: sale.Price}
			holdings[j] = tx.FlashSaleHolding.Create().SetID(gid.ID(w.holdingID)).
				SetFlashSaleID(id).SetMemberID(r.buyer).SetUnits(held[r.buyer])
			orders[j] = tx.Order.Create().SetID(w.orderID).SetNumber(w.number).SetBuyerID(r.buyer).
				SetSubtotal(line.Total()).SetDiscount(0).SetTotal(line.Total()).SetFlashSaleID(id).
				SetCreatedAt(now).SetPayBy(now.Add(s.window)).SetNillableIdempotencyKey(r.key)
			items[j] = tx.OrderItem.Create().SetID(w.itemID).SetOrderID(w.orderID).SetProductID(sale.ProductID).
				SetQuantity(r.q).SetUnitPrice(sale.Price).SetLineTotal(line.Total())
		}
		err = tx.FlashSaleHolding.CreateBulk(holdings...).
			OnConflictColumns(flashsaleholding.FieldFlashSaleID, flashsaleholding.FieldMemberID).
			Update(func(u *ent.FlashSaleHoldingUpsert) { u.UpdateUnits() }).
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
			Where(flashsale.ID(id), flashsale.SoldLTE(sale.Quantity-d.units)).
			AddSold(d.units).
			Save(ctx)
		if err == nil && n != 1 {
			err = errGuard
		}
		return err
	})
	if err != nil {
		return nil, d, err
	}
	sale = sale.Unwrap()
	sale.Sold += d.units
	return sale, d, nil
}

// existingOrders finds, for requests with an idempotency key, the order the
// buyer already placed with it.
func existingOrders(ctx context.Context, tx *ent.Tx, batch []*buyRequest) ([]gid.ID, error) {
	out := make([]gid.ID, len(batch))
	var (
		buyers []gid.ID
		keys   []string
	)
	for _, r := range batch {
		if r.key != nil {
			buyers, keys = append(buyers, r.buyer), append(keys, *r.key)
		}
	}
	if len(keys) == 0 {
		return out, nil
	}
	found, err := tx.Order.Query().Where(order.BuyerIDIn(buyers...), order.IdempotencyKeyIn(keys...)).All(ctx)
	if err != nil {
		return nil, err
	}
	for i, r := range batch {
		for _, o := range found {
			if r.key != nil && o.BuyerID == r.buyer && o.IdempotencyKey != nil && *o.IdempotencyKey == *r.key {
				out[i] = o.ID
			}
		}
	}
	return out, nil
}

// PostgreSQL: the same batch in four round trips (BEGIN, lock and read,
// write everything, COMMIT) instead of eight, with every column sent as
// one array. The sale row is locked from the second to the fourth, and
// each round trip of a busy server waits its turn on the CPU, so fewer of
// them means a shorter lock and more buyers a second.
const (
	pgLockAndRead = `SELECT s.quantity, s.sold, s.per_member_limit, s.starts_at, s.ends_at, s.price, s.product_id,
	s.live_event_id, s.settled_at, s.created_at, h.member_id, h.units
FROM flash_sales s
LEFT JOIN flash_sale_holdings h ON h.flash_sale_id = s.id AND h.member_id = ANY($2::text[])
WHERE s.id = $1
FOR UPDATE OF s`

	pgExisting = `SELECT id, buyer_id, idempotency_key FROM orders
WHERE buyer_id = ANY($1::text[]) AND idempotency_key = ANY($2::text[])`

	pgWrite = `WITH h AS (
	INSERT INTO flash_sale_holdings (id, flash_sale_id, member_id, units)
	SELECT x.hid, $1, x.mid, x.units FROM unnest($2::text[], $3::text[], $4::bigint[]) AS x(hid, mid, units)
	ON CONFLICT (flash_sale_id, member_id) DO UPDATE SET units = EXCLUDED.units
), o AS (
	INSERT INTO orders (id, number, buyer_id, subtotal, discount, total, flash_sale_id, status, created_at, pay_by, idempotency_key)
	SELECT x.oid, x.num, x.mid, x.amount, 0, x.amount, $1, 'PENDING_PAYMENT', $8, $9, x.k
	FROM unnest($5::text[], $6::text[], $3::text[], $7::bigint[], $10::text[]) AS x(oid, num, mid, amount, k)
), i AS (
	INSERT INTO order_items (id, order_id, product_id, quantity, unit_price, line_total)
	SELECT x.iid, x.oid, $11, x.q, $12, x.amount FROM unnest($13::text[], $5::text[], $14::bigint[], $7::bigint[]) AS x(iid, oid, q, amount)
)
UPDATE flash_sales SET sold = sold + $15 WHERE id = $1 AND sold + $15 <= quantity`
)

func (s *Service) batchPostgres(ctx context.Context, id gid.ID, batch []*buyRequest, now time.Time) (*ent.FlashSale, decision, error) {
	var d decision
	buyers := make([]string, len(batch))
	for i, r := range batch {
		buyers[i] = string(r.buyer)
	}
	tx, err := s.db.Pool.BeginTx(ctx, nil)
	if err != nil {
		return nil, d, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after commit

	sale, held, err := lockAndRead(ctx, tx, id, buyers)
	if err != nil {
		return nil, d, err
	}
	existing, err := existingPostgres(ctx, tx, batch)
	if err != nil {
		return nil, d, err
	}
	if d = decide(sale, batch, existing, held, now); len(d.winners) > 0 {
		n := len(d.winners)
		var (
			holdIDs, mids, orderIDs, numbers, itemIDs = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			units, amounts, quantities                = make([]int64, n), make([]int64, n), make([]int64, n)
			keys                                      = make([]sql.NullString, n)
		)
		for j, w := range d.winners {
			r := batch[w.req]
			holdIDs[j], mids[j], units[j] = w.holdingID, string(r.buyer), int64(held[r.buyer])
			orderIDs[j], numbers[j], itemIDs[j] = string(w.orderID), w.number, string(w.itemID)
			amounts[j], quantities[j] = int64(pricing.Line{Quantity: r.q, UnitPrice: sale.Price}.Total()), int64(r.q)
			if r.key != nil {
				keys[j] = sql.NullString{String: *r.key, Valid: true}
			}
		}
		res, err := tx.ExecContext(ctx, pgWrite, string(id),
			pq.Array(holdIDs), pq.Array(mids), pq.Array(units),
			pq.Array(orderIDs), pq.Array(numbers), pq.Array(amounts), now, now.Add(s.window), pq.Array(keys),
			string(sale.ProductID), int64(sale.Price), pq.Array(itemIDs), pq.Array(quantities), d.units)
		if err != nil {
			return nil, d, err
		}
		if rows, err := res.RowsAffected(); err != nil || rows != 1 {
			return nil, d, errors.Join(errGuard, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, d, err
	}
	sale.Sold += d.units
	return sale, d, nil
}

// lockAndRead locks the sale row and reads it with the holdings of the
// batch's buyers, in one statement.
func lockAndRead(ctx context.Context, tx *sql.Tx, id gid.ID, buyers []string) (*ent.FlashSale, map[gid.ID]int, error) {
	rows, err := tx.QueryContext(ctx, pgLockAndRead, string(id), pq.Array(buyers))
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var (
		sale *ent.FlashSale
		held = make(map[gid.ID]int, len(buyers))
	)
	for rows.Next() {
		s := &ent.FlashSale{ID: id}
		var (
			member   sql.NullString
			units    sql.NullInt64
			live     sql.NullString
			settled  sql.NullTime
			price    int64
			quantity int64
		)
		if err := rows.Scan(&quantity, &s.Sold, &s.PerMemberLimit, &s.StartsAt, &s.EndsAt, &price, &s.ProductID,
			&live, &settled, &s.CreatedAt, &member, &units); err != nil {
			return nil, nil, err
		}
		s.Quantity, s.Price = int(quantity), money.Fen(price)
		if live.Valid {
			l := gid.ID(live.String)
			s.LiveEventID = &l
		}
		if settled.Valid {
			s.SettledAt = &settled.Time
		}
		if member.Valid {
			held[gid.ID(member.String)] = int(units.Int64)
		}
		sale = s
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if sale == nil {
		return nil, nil, fmt.Errorf("flash sale %s: %w", id, sql.ErrNoRows)
	}
	return sale, held, nil
}

func existingPostgres(ctx context.Context, tx *sql.Tx, batch []*buyRequest) ([]gid.ID, error) {
	out := make([]gid.ID, len(batch))
	var buyers, keys []string
	for _, r := range batch {
		if r.key != nil {
			buyers, keys = append(buyers, string(r.buyer)), append(keys, *r.key)
		}
	}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := tx.QueryContext(ctx, pgExisting, pq.Array(buyers), pq.Array(keys))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, buyer, key string
		if err := rows.Scan(&id, &buyer, &key); err != nil {
			return nil, err
		}
		for i, r := range batch {
			if r.key != nil && string(r.buyer) == buyer && *r.key == key {
				out[i] = gid.ID(id)
			}
		}
	}
	return out, rows.Err()
}

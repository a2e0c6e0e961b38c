package flashsales

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lib/pq"

	"unionmall/ent"
	"unionmall/internal/apperr"
	"unionmall/internal/gid"
	"unionmall/internal/money"
)

// PostgreSQL: the batch in two statements and no transaction: read the
// sale, the clock and the buyers' holdings and keys (pgRead), then one
// write (pgWrite) that is its own transaction, both prepared (db.Prepared:
// one round trip each). Nothing is locked while Go decides, and the
// sale's row is locked only for the last step of the write and its
// commit: no client round trip, and no wait for this process's
// goroutines to be scheduled, happens with it held. When the lock was
// taken first and held across round trips, two instances' batches queued
// on it (BENCHMARKS.md, "Issue 13, part 2").
//
// The decision is made on rows read without a lock, so the write must
// not trust it; it re-decides what the database alone can know:
//
//   - A holding is added to only where the sum stays within its
//     per_member_limit (ON CONFLICT … DO UPDATE … WHERE, which sees the
//     newest committed row, not the statement's snapshot), and only the
//     winners whose holding moved get an order and an order line.
//   - sold rises by the units of the order lines written, re-checked on
//     the sale's row as its lock finds it: a sale that has settled, is
//     outside its window by clock_timestamp() or would pass its quantity
//     is made to fail its CHECK (flash_sale_sold_range), which fails the
//     whole statement, inserts and all; the batch is then decided again
//     on fresh rows (errStale).
//
// The sale's row is locked last, by the UPDATE, which sums the order
// lines' RETURNING and so runs only once every insert is done: it is held
// for that one row's update and the commit. Holdings are locked before
// it, in member order; ReturnUnits takes a holding before the sale too,
// and settlement and ending take only the sale, so no two of them wait
// on each other in a circle. The holding's own CHECK (units <=
// per_member_limit) and the sale's stay the last word whatever this SQL
// says.

// pgRead: the sale's columns that change and the clock, the buyers'
// holdings and the orders their keys name, as tagged rows of one
// statement.
const pgRead = `SELECT 'sale', '', 0::bigint, '', '', '', clock_timestamp(),
	f.price, f.quantity, f.sold, f.per_member_limit, f.starts_at, f.ends_at, f.settled_at
FROM flash_sales f WHERE f.id = $1
UNION ALL
SELECT 'held', member_id, units, '', '', '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM flash_sale_holdings WHERE flash_sale_id = $1 AND member_id = ANY($2::text[])
UNION ALL
SELECT 'key', buyer_id, 0, idempotency_key, id, COALESCE(flash_sale_id, ''), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM orders WHERE buyer_id = ANY($3::text[]) AND idempotency_key = ANY($4::text[])`

// querier is an ent client or transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// readPostgres returns the sale as it is now (base, the gate's copy, with
// the columns that change read again) and the state to decide on.
func readPostgres(ctx context.Context, q querier, base *ent.FlashSale, batch []*buyRequest) (*ent.FlashSale, state, error) {
	st := state{held: make(map[gid.ID]int, len(batch)), existing: map[string]keyed{}}
	sale := *base
	found := false
	members := make([]string, len(batch))
	for i, r := range batch {
		members[i] = string(r.buyer)
	}
	buyers, keys := keysOf(batch)
	rows, err := q.QueryContext(ctx, pgRead, string(base.ID), pq.Array(members), pq.Array(buyers), pq.Array(keys))
	if err != nil {
		return nil, st, fmt.Errorf("read holdings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			kind, member, key, orderID, saleID string
			units                              int64
			at, starts, ends, settled          sql.NullTime
			price, quantity, sold, limit       sql.NullInt64
		)
		if err := rows.Scan(&kind, &member, &units, &key, &orderID, &saleID, &at,
			&price, &quantity, &sold, &limit, &starts, &ends, &settled); err != nil {
			return nil, st, fmt.Errorf("read holdings: %w", err)
		}
		switch kind {
		case "sale":
			found = true
			st.now = at.Time.UTC()
			sale.Price, sale.Quantity, sale.Sold = money.Fen(price.Int64), int(quantity.Int64), int(sold.Int64)
			sale.PerMemberLimit, sale.StartsAt, sale.EndsAt = int(limit.Int64), starts.Time, ends.Time
			sale.SettledAt = nil
			if settled.Valid {
				sale.SettledAt = &settled.Time
			}
		case "held":
			st.held[gid.ID(member)] = int(units)
		case "key":
			k := keyed{id: gid.ID(orderID)}
			if saleID != "" {
				s := gid.ID(saleID)
				k.saleID = &s
			}
			st.existing[keyFor(member, key)] = k
		}
	}
	if err := rows.Err(); err != nil {
		return nil, st, fmt.Errorf("read holdings: %w", err)
	}
	if !found {
		return nil, st, errNoSale
	}
	return &sale, st, rows.Close()
}

// pgWrite: the batch's rows (rowsOf), each column sent as one array, the
// n-th holding, order and line being the n-th winner's. It answers the
// sale's new sold count and the winners the database took, by n.
const pgWrite = `WITH hv AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
		WITH ORDINALITY AS v(id, flash_sale_id, member_id, units, per_member_limit, n)
), h AS (
	INSERT INTO flash_sale_holdings (id, flash_sale_id, member_id, units, per_member_limit)
	SELECT id, flash_sale_id, member_id, units, per_member_limit FROM hv ORDER BY member_id
	ON CONFLICT (flash_sale_id, member_id) DO UPDATE SET %s
	RETURNING member_id
), won AS (
	SELECT hv.n FROM hv JOIN h USING (member_id)
), o AS (
	INSERT INTO orders (id, number, buyer_id, subtotal, discount, total, flash_sale_id, status, created_at, pay_by, idempotency_key)
	SELECT v.id, v.number, v.buyer_id, v.subtotal, v.discount, v.total, v.flash_sale_id, v.status, v.created_at, v.pay_by, v.idempotency_key
	FROM unnest($6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[],
		$12::text[], $13::text[], $14::timestamptz[], $15::timestamptz[], $16::text[])
		WITH ORDINALITY AS v(id, number, buyer_id, subtotal, discount, total, flash_sale_id, status, created_at, pay_by, idempotency_key, n)
	JOIN won USING (n)
	RETURNING id
), i AS (
	INSERT INTO order_items (id, order_id, product_id, quantity, unit_price, line_total)
	SELECT v.id, v.order_id, v.product_id, v.quantity, v.unit_price, v.line_total
	FROM unnest($17::text[], $18::text[], $19::text[], $20::bigint[], $21::bigint[], $22::bigint[])
		WITH ORDINALITY AS v(id, order_id, product_id, quantity, unit_price, line_total, n)
	JOIN o ON o.id = v.order_id
	RETURNING quantity
), s AS (
	UPDATE flash_sales f SET sold = CASE
		WHEN f.settled_at IS NULL AND f.starts_at <= clock_timestamp() AND clock_timestamp() < f.ends_at
		THEN f.sold + (SELECT COALESCE(SUM(quantity), 0) FROM i)
		ELSE f.quantity + 1 END
	WHERE f.id = $23
	RETURNING f.sold
)
SELECT s.sold, ARRAY(SELECT n FROM won ORDER BY n) FROM s`

const (
	addUnits       = "units = flash_sale_holdings.units + EXCLUDED.units WHERE flash_sale_holdings.units + EXCLUDED.units <= flash_sale_holdings.per_member_limit"
	overwriteUnits = "units = EXCLUDED.units" // staleHoldings only
)

// pgWriteSQL is pgWrite as this build runs it.
var pgWriteSQL = func() string {
	if staleHoldings {
		return fmt.Sprintf(pgWrite, overwriteUnits)
	}
	return fmt.Sprintf(pgWrite, addUnits)
}()

// errNoSale is a batch's sale missing from the database.
var errNoSale = apperr.New(apperr.NotFound, "no flash sale has that ID")

// errStale means the write found the sale other than the rows its batch
// was decided on (closed, or too few units left): decide again.
var errStale = errors.New("the flash sale changed since its batch was decided")

// reservePostgres decides and writes a batch, deciding again on fresh
// rows while the write finds the sale changed (up to maxStale times).
// base is the gate's copy of the sale.
func (s *Service) reservePostgres(ctx context.Context, base *ent.FlashSale, batch []*buyRequest) (*ent.FlashSale, decision, error) {
	const maxStale = 5
	for try := 1; ; try++ {
		sale, st, err := readPostgres(ctx, s.prepared, base, batch)
		if err != nil {
			return nil, decision{}, err
		}
		d := decide(sale, batch, st)
		if len(d.winners) == 0 {
			return sale, d, nil
		}
		rows := rowsOf(sale, batch, d, st, s.window)
		sold, took, err := writeRowsPostgres(ctx, s.prepared, rows)
		if errors.Is(err, errStale) && try < maxStale {
			continue
		}
		if err != nil {
			return nil, d, err
		}
		d.keep(took, rows)
		sale.Sold = sold
		return sale, d, nil
	}
}

// writeRowsPostgres encodes the rows as the arguments of pgWrite and
// returns the sale's sold count after it and the winners it took (their
// index in rows, from 0).
func writeRowsPostgres(ctx context.Context, q querier, rows batchRows) (sold int, took []int, err error) {
	var (
		h pgHoldings
		o pgOrders
		i pgItems
	)
	for _, r := range rows.holdings {
		h.add(r)
	}
	for _, r := range rows.orders {
		o.add(r)
	}
	for _, r := range rows.items {
		i.add(r)
	}
	args := slices.Concat(h.args(), o.args(), i.args(), []any{string(rows.sold.id)})
	res, err := q.QueryContext(ctx, pgWriteSQL, args...)
	if err != nil {
		return 0, nil, pgWriteErr(err)
	}
	defer res.Close()
	if !res.Next() {
		if err := res.Err(); err != nil {
			return 0, nil, pgWriteErr(err)
		}
		return 0, nil, errGuard // no sale row to lock
	}
	var (
		soldNow int64
		ns      pq.Int64Array
	)
	if err := res.Scan(&soldNow, &ns); err != nil {
		return 0, nil, err
	}
	if err := res.Close(); err != nil {
		return 0, nil, pgWriteErr(err)
	}
	took = make([]int, len(ns))
	for j, n := range ns {
		took[j] = int(n) - 1
	}
	return int(soldNow), took, nil
}

// pgWriteErr maps the sale's CHECK, which pgWrite fails on purpose, to
// errStale.
func pgWriteErr(err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23514" && pqErr.Constraint == "flash_sale_sold_range" {
		return errStale
	}
	return err
}

// pgHoldings are the holding rows' columns, one array each ($1 to $5).
type pgHoldings struct {
	id, sale, member []string
	units, limit     []int64
}

func (c *pgHoldings) add(r holdingRow) {
	units := r.units
	if staleHoldings {
		units = r.held // overwritten, not added: see stale_on.go
	}
	c.id, c.sale, c.member = append(c.id, string(r.id)), append(c.sale, string(r.flashSaleID)), append(c.member, string(r.memberID))
	c.units, c.limit = append(c.units, int64(units)), append(c.limit, int64(r.perMemberLimit))
}

func (c *pgHoldings) args() []any {
	return []any{pq.Array(c.id), pq.Array(c.sale), pq.Array(c.member), pq.Array(c.units), pq.Array(c.limit)}
}

// pgOrders are the order rows' columns ($6 to $16).
type pgOrders struct {
	id, number, buyer         []string
	subtotal, discount, total []int64
	sale, status              []string
	createdAt, payBy          []time.Time
	key                       []sql.NullString
}

func (c *pgOrders) add(r orderRow) {
	c.id, c.number, c.buyer = append(c.id, string(r.id)), append(c.number, r.number), append(c.buyer, string(r.buyerID))
	c.subtotal, c.discount, c.total = append(c.subtotal, int64(r.subtotal)), append(c.discount, int64(r.discount)), append(c.total, int64(r.total))
	c.sale, c.status = append(c.sale, string(r.flashSaleID)), append(c.status, string(r.status))
	c.createdAt, c.payBy = append(c.createdAt, r.createdAt), append(c.payBy, r.payBy)
	var key sql.NullString
	if r.idempotencyKey != nil {
		key = sql.NullString{String: *r.idempotencyKey, Valid: true}
	}
	c.key = append(c.key, key)
}

func (c *pgOrders) args() []any {
	return []any{pq.Array(c.id), pq.Array(c.number), pq.Array(c.buyer),
		pq.Array(c.subtotal), pq.Array(c.discount), pq.Array(c.total), pq.Array(c.sale), pq.Array(c.status),
		pq.Array(c.createdAt), pq.Array(c.payBy), pq.Array(c.key)}
}

// pgItems are the order lines' columns ($17 to $22).
type pgItems struct {
	id, order, product             []string
	quantity, unitPrice, lineTotal []int64
}

func (c *pgItems) add(r itemRow) {
	c.id, c.order, c.product = append(c.id, string(r.id)), append(c.order, string(r.orderID)), append(c.product, string(r.productID))
	c.quantity, c.unitPrice, c.lineTotal = append(c.quantity, int64(r.quantity)), append(c.unitPrice, int64(r.unitPrice)), append(c.lineTotal, int64(r.lineTotal))
}

func (c *pgItems) args() []any {
	return []any{pq.Array(c.id), pq.Array(c.order), pq.Array(c.product),
		pq.Array(c.quantity), pq.Array(c.unitPrice), pq.Array(c.lineTotal)}
}

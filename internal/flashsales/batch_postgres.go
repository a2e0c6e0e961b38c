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
	"unionmall/internal/gid"
)

// PostgreSQL: the batch in five statements (BEGIN, lock, read, write,
// COMMIT), every column of the write sent as one array. lib/pq sends each
// of the three with parameters in two round trips (Parse/Describe, then
// Bind/Execute), so eight in all, six of them with the sale row locked;
// each round trip of a busy server waits its turn on the CPU, so few of
// them means a short lock and more buyers a second.

// pgRead is step 2: the clock, the buyers' holdings and the orders their
// keys name, as tagged rows of one statement that runs under the lock.
const pgRead = `SELECT 'now', '', 0::bigint, '', '', '', clock_timestamp()
UNION ALL
SELECT 'held', member_id, units, '', '', '', NULL FROM flash_sale_holdings
WHERE flash_sale_id = $1 AND member_id = ANY($2::text[])
UNION ALL
SELECT 'key', buyer_id, 0, idempotency_key, id, COALESCE(flash_sale_id, ''), NULL FROM orders
WHERE buyer_id = ANY($3::text[]) AND idempotency_key = ANY($4::text[])`

func readPostgres(ctx context.Context, tx *ent.Tx, id gid.ID, batch []*buyRequest) (state, error) {
	st := state{held: make(map[gid.ID]int, len(batch)), existing: map[string]keyed{}}
	members := make([]string, len(batch))
	for i, r := range batch {
		members[i] = string(r.buyer)
	}
	buyers, keys := keysOf(batch)
	rows, err := tx.QueryContext(ctx, pgRead, string(id), pq.Array(members), pq.Array(buyers), pq.Array(keys))
	if err != nil {
		return st, fmt.Errorf("read holdings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			kind, member, key, orderID, saleID string
			units                              int64
			at                                 sql.NullTime
		)
		if err := rows.Scan(&kind, &member, &units, &key, &orderID, &saleID, &at); err != nil {
			return st, fmt.Errorf("read holdings: %w", err)
		}
		switch kind {
		case "now":
			st.now = at.Time.UTC()
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
		return st, fmt.Errorf("read holdings: %w", err)
	}
	if st.now.IsZero() {
		return st, errors.New("read holdings: no clock row")
	}
	return st, rows.Close()
}

// pgWrite is step 4: the batch's rows (rowsOf), each column sent as one
// array. Holdings are raised by increments: two batches can never
// overwrite each other's units, and the CHECK on the holding row refuses a
// total above the limit. The sale's sold count moves by an increment that
// also re-states, as a guard, what the batch decided under the lock.
const pgWrite = `WITH h AS (
	INSERT INTO flash_sale_holdings (id, flash_sale_id, member_id, units, per_member_limit)
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
	ON CONFLICT (flash_sale_id, member_id) DO UPDATE SET %s
), o AS (
	INSERT INTO orders (id, number, buyer_id, subtotal, discount, total, flash_sale_id, status, created_at, pay_by, idempotency_key)
	SELECT * FROM unnest($6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[],
		$12::text[], $13::text[], $14::timestamptz[], $15::timestamptz[], $16::text[])
), i AS (
	INSERT INTO order_items (id, order_id, product_id, quantity, unit_price, line_total)
	SELECT * FROM unnest($17::text[], $18::text[], $19::text[], $20::bigint[], $21::bigint[], $22::bigint[])
)
UPDATE flash_sales SET sold = sold + $24
WHERE id = $23 AND sold + $24 <= $25 AND settled_at IS NULL AND starts_at <= $26 AND $26 < ends_at`

const (
	addUnits       = "units = flash_sale_holdings.units + EXCLUDED.units"
	overwriteUnits = "units = EXCLUDED.units" // staleHoldings only
)

func (s *Service) writePostgres(ctx context.Context, tx *ent.Tx, sale *ent.FlashSale, batch []*buyRequest, d decision, st state) error {
	return writeRowsPostgres(ctx, tx, rowsOf(sale, batch, d, st, s.window))
}

// writeRowsPostgres encodes the rows as the arguments of pgWrite.
func writeRowsPostgres(ctx context.Context, tx *ent.Tx, rows batchRows) error {
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
	conflict := addUnits
	if staleHoldings {
		conflict = overwriteUnits
	}
	sold := rows.sold
	args := slices.Concat(h.args(), o.args(), i.args(), []any{string(sold.id), sold.units, sold.quantity, sold.at})
	res, err := tx.ExecContext(ctx, fmt.Sprintf(pgWrite, conflict), args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errors.Join(errGuard, err)
	}
	return nil
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

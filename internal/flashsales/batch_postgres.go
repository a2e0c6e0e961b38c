package flashsales

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lib/pq"

	"unionmall/ent"
	"unionmall/ent/order"
	"unionmall/internal/gid"
	"unionmall/internal/pricing"
)

// PostgreSQL: the batch in five round trips (BEGIN, lock, read, write,
// COMMIT), every column of the write sent as one array. The sale row is
// locked from the second to the fifth, and each round trip of a busy
// server waits its turn on the CPU, so few of them means a short lock and
// more buyers a second.

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

// pgWrite is step 4. Holdings are raised by increments: two batches can
// never overwrite each other's units, and the CHECK on the holding row
// refuses a total above the limit. The sale's sold count moves by an
// increment that also re-states, as a guard, what the batch decided under
// the lock.
const pgWrite = `WITH h AS (
	INSERT INTO flash_sale_holdings (id, flash_sale_id, member_id, units, per_member_limit)
	SELECT x.hid, $1, x.mid, x.units, $16 FROM unnest($2::text[], $3::text[], $4::bigint[]) AS x(hid, mid, units)
	ON CONFLICT (flash_sale_id, member_id) DO UPDATE SET %s
), o AS (
	INSERT INTO orders (id, number, buyer_id, subtotal, discount, total, flash_sale_id, status, created_at, pay_by, idempotency_key)
	SELECT x.oid, x.num, x.mid, x.amount, 0, x.amount, $1, $17, $8, $9, x.k
	FROM unnest($5::text[], $6::text[], $3::text[], $7::bigint[], $10::text[]) AS x(oid, num, mid, amount, k)
), i AS (
	INSERT INTO order_items (id, order_id, product_id, quantity, unit_price, line_total)
	SELECT x.iid, x.oid, $11, x.q, $12, x.amount FROM unnest($13::text[], $5::text[], $14::bigint[], $7::bigint[]) AS x(iid, oid, q, amount)
)
UPDATE flash_sales SET sold = sold + $15
WHERE id = $1 AND sold + $15 <= quantity AND settled_at IS NULL AND starts_at <= $8 AND $8 < ends_at`

const (
	addUnits       = "units = flash_sale_holdings.units + EXCLUDED.units"
	overwriteUnits = "units = EXCLUDED.units" // staleHoldings only
)

func (s *Service) writePostgres(ctx context.Context, tx *ent.Tx, sale *ent.FlashSale, batch []*buyRequest, d decision, st state) error {
	n := len(d.winners)
	var (
		holdIDs, mids, orderIDs, numbers, itemIDs = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		units, amounts, quantities                = make([]int64, n), make([]int64, n), make([]int64, n)
		keys                                      = make([]sql.NullString, n)
	)
	for j, w := range d.winners {
		r := batch[w.req]
		holdIDs[j], mids[j], units[j] = w.holdingID, string(r.buyer), int64(r.q)
		if staleHoldings {
			units[j] = int64(st.held[r.buyer]) // decide added r.q already
		}
		orderIDs[j], numbers[j], itemIDs[j] = string(w.orderID), w.number, string(w.itemID)
		amounts[j], quantities[j] = int64(pricing.Line{Quantity: r.q, UnitPrice: sale.Price}.Total()), int64(r.q)
		if r.key != nil {
			keys[j] = sql.NullString{String: *r.key, Valid: true}
		}
	}
	conflict := addUnits
	if staleHoldings {
		conflict = overwriteUnits
	}
	res, err := tx.ExecContext(ctx, fmt.Sprintf(pgWrite, conflict), string(sale.ID),
		pq.Array(holdIDs), pq.Array(mids), pq.Array(units),
		pq.Array(orderIDs), pq.Array(numbers), pq.Array(amounts), st.now, payBy(st.now, s.window), pq.Array(keys),
		string(sale.ProductID), int64(sale.Price), pq.Array(itemIDs), pq.Array(quantities), d.units,
		sale.PerMemberLimit, string(order.StatusPENDING_PAYMENT))
	if err != nil {
		return err
	}
	if rows, err := res.RowsAffected(); err != nil || rows != 1 {
		return errors.Join(errGuard, err)
	}
	return nil
}

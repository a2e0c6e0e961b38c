package flashsales

import (
	"context"
	"errors"
	"fmt"
	"time"

	"unionmall/ent"
	"unionmall/ent/order"
	"unionmall/internal/gid"
	"unionmall/internal/idempotency"
	"unionmall/internal/ordernum"
)

// A batch decides many buyers' requests at once:
//
//  1. read the sale, the clock, the buyers' holdings and the orders their
//     idempotency keys name;
//  2. decide every request in arrival order (decide);
//  3. write the winners' orders and order lines, add their units to their
//     holdings and to the sale's sold count.
//
// On SQLite the three run in one transaction, which holds the database's
// one write lock from BEGIN, so what step 1 reads is current. On
// PostgreSQL step 1 reads without a lock and step 3 is one statement that
// re-decides under the sale's row lock what the rows read may have got
// wrong (batch_postgres.go). Either way the decision is not the only
// guard: holdings and sold move by increments only, and CHECK constraints
// (units <= per_member_limit on the holding row, sold <= quantity on the
// sale) refuse any write that would pass a limit, whatever the Go code
// decided.

// winner is a request that gets units: its new order's IDs and number.
type winner struct {
	req               int
	orderID, itemID   gid.ID
	holdingID, number string
	order             *ent.Order // as written, once the write took it
}

// keyed is an order that a request's idempotency key already names.
type keyed struct {
	id     gid.ID
	saleID *gid.ID // the flash sale it was bought in; nil for placeOrder's
}

// state is what a batch decides on: read under the sale's lock on SQLite,
// without a lock on PostgreSQL (whose write re-checks it).
type state struct {
	now      time.Time        // the clock the batch decides by (db.Now)
	held     map[gid.ID]int   // units each buyer holds in live orders
	existing map[string]keyed // by keyOf
}

// keyOf is a request's buyer and idempotency key, "" without a key.
func keyOf(r *buyRequest) string {
	if r.key == nil {
		return ""
	}
	return keyFor(string(r.buyer), *r.key)
}

// keyFor is the key of state.existing for a buyer's idempotency key.
func keyFor(buyer, key string) string { return buyer + "\x00" + key }

// decision is what a batch decided.
type decision struct {
	results  []buyResult
	existing []gid.ID // per request: the order its idempotency key names
	winners  []winner
	units    int
}

// decide refuses or admits each request in arrival order, in the
// contract's order of refusals: not started/ended (a settled sale has
// ended, whatever its end time says), sold out (also when the request wants
// more than remains), above the member's limit. A request whose key names
// an order of this sale is answered with it; one whose key names a
// different request is refused.
func decide(sale *ent.FlashSale, batch []*buyRequest, st state) decision {
	d := decision{results: make([]buyResult, len(batch)), existing: make([]gid.ID, len(batch))}
	var closed error
	switch {
	case sale.SettledAt != nil || !st.now.Before(sale.EndsAt):
		closed = errEnded
	case st.now.Before(sale.StartsAt):
		closed = errNotStarted
	}
	remaining := sale.Quantity - sale.Sold
	for i, r := range batch {
		if k, ok := st.existing[keyOf(r)]; ok && r.key != nil {
			if !idempotency.SameMutation(k.saleID, &sale.ID) {
				d.results[i].err = idempotency.ErrOtherRequest
			} else {
				d.existing[i] = k.id // answered with it after commit
			}
			continue
		}
		switch {
		case closed != nil:
			d.results[i].err = closed
		case r.q > remaining:
			d.results[i].err = errSoldOut
		case st.held[r.buyer]+r.q > sale.PerMemberLimit:
			d.results[i].err = errLimit
		default:
			remaining -= r.q
			st.held[r.buyer] += r.q
			d.units += r.q
			d.winners = append(d.winners, winner{
				req: i, orderID: gid.New(gid.Order), itemID: gid.New(gid.OrderItem),
				holdingID: string(gid.New(gid.FlashSaleHolding)), number: ordernum.New(st.now),
			})
		}
	}
	return d
}

// errGuard means a conditional write found the sale other than the batch
// decided on; it cannot happen while the lock is held, so it is a bug.
var errGuard = errors.New("flash sale changed under its row lock")

// commit decides and writes a batch and updates the gate's copy of the
// sale.
func (g *gate) commit(ctx context.Context, batch []*buyRequest) (decision, error) {
	s := g.svc
	var (
		sale *ent.FlashSale
		d    decision
		err  error
	)
	if s.db.Postgres() {
		sale, d, err = s.reservePostgres(ctx, g.sale.Load(), batch)
	} else {
		err = s.db.Tx(ctx, func(tx *ent.Tx) error {
			var err error
			sale, d, err = s.reserveEnt(ctx, tx, g.id, batch)
			return err
		})
	}
	if err != nil {
		return d, err
	}
	g.sale.Store(sale)
	if sale.Sold >= sale.Quantity {
		g.soldOut.Store(true)
	}
	if len(d.winners) > 0 {
		s.changes.Announce(ChangesOf(sale.ID, sale.LiveEventID)...)
	}
	return d, nil
}

// reserveEnt is the SQLite batch inside its transaction: it returns the
// sale as the batch leaves it.
func (s *Service) reserveEnt(ctx context.Context, tx *ent.Tx, id gid.ID, batch []*buyRequest) (*ent.FlashSale, decision, error) {
	sale, err := s.lockSale(ctx, tx, id)
	if err != nil {
		return nil, decision{}, err
	}
	st, err := s.readEnt(ctx, tx, id, batch)
	if err != nil {
		return nil, decision{}, err
	}
	d := decide(sale, batch, st)
	if len(d.winners) == 0 {
		return sale.Unwrap(), d, nil
	}
	rows := rowsOf(sale, batch, d, st, s.window)
	if err := writeRowsEnt(ctx, tx, rows); err != nil {
		return nil, d, err
	}
	d.keep(allOf(rows), rows)
	sale = sale.Unwrap()
	sale.Sold += d.units
	return sale, d, nil
}

// keep narrows the winners to those the write took (indexes into rows,
// ascending) and gives them their orders as written; the others are
// refused as above the member's limit, which is all the write re-checks
// per buyer.
func (d *decision) keep(took []int, rows batchRows) {
	kept := d.winners[:0]
	d.units = 0
	next := 0
	for j, w := range d.winners {
		if next < len(took) && took[next] == j {
			next++
			w.order = rows.orders[j].order()
			d.units += rows.items[j].quantity
			kept = append(kept, w)
			continue
		}
		d.results[w.req].err = errLimit
	}
	d.winners = kept
}

// allOf is every row's index: the SQLite write takes every winner or
// fails.
func allOf(rows batchRows) []int {
	all := make([]int, len(rows.orders))
	for j := range all {
		all[j] = j
	}
	return all
}

// answer answers every request: a winner with its order as written (no
// query), a request whose idempotency key names an order with that order,
// read.
func (s *Service) answer(ctx context.Context, batch []*buyRequest, d decision) {
	var ids []gid.ID
	for _, id := range d.existing {
		if id != "" {
			ids = append(ids, id)
		}
	}
	byID := make(map[gid.ID]*ent.Order, len(ids))
	if len(ids) > 0 {
		orders, err := s.db.Client.Order.Query().Where(order.IDIn(ids...)).All(ctx)
		if err != nil {
			err = fmt.Errorf("buy flash sale: read the orders idempotency keys name: %w", err)
			for i, id := range d.existing {
				if id != "" {
					d.results[i].err = err
				}
			}
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
		d.results[w.req].order = s.db.Client.Order.Attach(w.order)
	}
	for i, r := range batch {
		r.reply <- d.results[i]
	}
}

// keysOf lists the batch's buyers and keys for the lookup of orders named
// by idempotency keys.
func keysOf(batch []*buyRequest) (buyers, keys []string) {
	for _, r := range batch {
		if r.key != nil {
			buyers, keys = append(buyers, string(r.buyer)), append(keys, *r.key)
		}
	}
	return buyers, keys
}

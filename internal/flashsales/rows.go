package flashsales

import (
	"time"

	"unionmall/ent"
	"unionmall/ent/order"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/orderstate"
	"unionmall/internal/pricing"
)

// The rows a batch writes are built once, here, from what the batch
// decided: what a flash-sale order holds (its status, amounts, deadline,
// idempotency key), what a holding gets and how the sale's sold count
// moves. Each engine only encodes them: PostgreSQL as the arrays of one
// statement (batch_postgres.go), SQLite as ent bulk creates
// (batch_sqlite.go). A new column is added to a row type and to both
// encoders, and writers_test.go checks that the engines store the same
// rows.

// batchRows is everything a batch with winners writes.
type batchRows struct {
	holdings []holdingRow
	orders   []orderRow
	items    []itemRow
	sold     soldRow
}

// holdingRow is a flash_sale_holdings row as inserted for a member who
// holds nothing yet; for one who does, units is added to their row.
type holdingRow struct {
	id             gid.ID
	flashSaleID    gid.ID
	memberID       gid.ID
	units          int // the winner's units, added to the holding
	perMemberLimit int
	// held is the member's holding once the batch commits, as decided:
	// what the fault injection (staleHoldings) overwrites the row with.
	held int
}

// orderRow is an orders row: an order awaiting payment at the flash price.
type orderRow struct {
	id                        gid.ID
	number                    string
	buyerID                   gid.ID
	subtotal, discount, total money.Fen
	flashSaleID               gid.ID
	status                    order.Status
	createdAt, payBy          time.Time
	idempotencyKey            *string
}

// order is the row as ent reads it back (without the client's
// configuration: see answer). Times need no rounding: the batch's clock
// is PostgreSQL's (microseconds, as it stores them) or, on SQLite, kept
// to the nanosecond.
func (r orderRow) order() *ent.Order {
	sale, due := r.flashSaleID, r.payBy
	return &ent.Order{
		ID: r.id, Number: r.number, BuyerID: r.buyerID,
		Subtotal: r.subtotal, Discount: r.discount, Total: r.total,
		FlashSaleID: &sale, Status: r.status, CreatedAt: r.createdAt, PayBy: &due,
		IdempotencyKey: r.idempotencyKey,
	}
}

// itemRow is an order_items row: the order's one line.
type itemRow struct {
	id, orderID, productID gid.ID
	quantity               int
	unitPrice, lineTotal   money.Fen
}

// soldRow is the sale's update: sold goes up by units. SQLite's write
// makes it on the condition that the sale is as the batch decided on it
// under its write lock (open at the batch's clock, unsettled, with units
// left), or refuses it (errGuard); PostgreSQL's re-checks the sale as its
// row lock finds it (batch_postgres.go) and uses only the ID.
type soldRow struct {
	id       gid.ID
	units    int
	quantity int       // sold + units stays within it
	at       time.Time // the batch's clock: starts_at <= at < ends_at
}

// rowsOf builds the rows of a batch's decision. st is the state decide
// saw, after it: its held counts include the winners' units.
func rowsOf(sale *ent.FlashSale, batch []*buyRequest, d decision, st state, window time.Duration) batchRows {
	n := len(d.winners)
	rows := batchRows{
		holdings: make([]holdingRow, n),
		orders:   make([]orderRow, n),
		items:    make([]itemRow, n),
		sold:     soldRow{id: sale.ID, units: d.units, quantity: sale.Quantity, at: st.now},
	}
	due := orderstate.PayBy(st.now, window)
	for j, w := range d.winners {
		r := batch[w.req]
		line := pricing.Line{Quantity: r.q, UnitPrice: sale.Price}
		quote := pricing.Price([]pricing.Line{line}, 0) // no coupons in a flash sale
		rows.holdings[j] = holdingRow{
			id: gid.ID(w.holdingID), flashSaleID: sale.ID, memberID: r.buyer,
			units: r.q, perMemberLimit: sale.PerMemberLimit, held: st.held[r.buyer],
		}
		rows.orders[j] = orderRow{
			id: w.orderID, number: w.number, buyerID: r.buyer,
			subtotal: quote.Subtotal, discount: quote.Discount, total: quote.Total,
			flashSaleID: sale.ID, status: order.StatusPENDING_PAYMENT,
			createdAt: st.now, payBy: due, idempotencyKey: r.key,
		}
		rows.items[j] = itemRow{
			id: w.itemID, orderID: w.orderID, productID: sale.ProductID,
			quantity: r.q, unitPrice: line.UnitPrice, lineTotal: line.Total(),
		}
	}
	return rows
}

// Package flashsales runs flash sales (秒杀): thousands of buyers of one
// sale within seconds, one or two units each, while overlays watch the
// stock fall.
//
// A purchase goes gate → batch → announce:
//
//   - The gate (gate.go) admits the buyers of one sale on this instance.
//     It answers NOT_STARTED, ENDED and SOLD_OUT from its in-memory copy
//     of the sale, then the per-member buying rate (LimitBuyers), and
//     queues the rest. One goroutine per sale takes everything queued (up
//     to maxBatch, one request per buyer) as one batch.
//   - The batch (batch.go) decides all of them at once: read the sale,
//     the clock, holdings and idempotency keys, decide every request
//     (decide), write the winners' rows. Its SQL is per engine, sharing
//     the rows it writes: on PostgreSQL (batch_postgres.go) a read
//     without a lock, then one prepared statement of arrays that
//     re-decides, under the sale's row lock taken last, what the read may
//     have got wrong; on SQLite (batch_sqlite.go) ent inside one
//     transaction, which holds the database's write lock. The database
//     is the authority: holdings and sold move by increments only, and
//     CHECK constraints (units <= per_member_limit, sold <= quantity)
//     refuse any write past a limit, whatever the Go code decided.
//   - After commit the service announces the sale's change (and its live
//     event's) to internal/changes: subscribers get the new stock, and
//     every instance's gate marks its copy stale (also after an order gives
//     units back, an end or a settlement), to be re-read before it next
//     refuses a buyer.
//
// Ending a sale and settling it (giving unsold units back to the product)
// decide under the same row lock by the database's clock, so no batch
// sells after either. status.go holds the status rules and the snapshots
// pushed to overlays; units.go gives a member's units back when an order
// stops being live.
package flashsales

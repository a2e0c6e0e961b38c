//go:build chaos_stale_holdings

package flashsales

// staleHoldings restores, for the chaos checker's proof that it finds
// broken invariants, a bug the batch once had on PostgreSQL: holdings
// written back by overwriting them with the sum decided from rows read
// earlier, instead of raising them by an increment that the database
// re-checks (batch_postgres.go). Since the batch reads without a lock,
// two instances' batches of one member then overwrite each other. Only a
// test build sets the chaos_stale_holdings tag.
const staleHoldings = true

//go:build chaos_stale_holdings

package flashsales

// staleHoldings restores, for the chaos checker's proof that it finds
// broken invariants, the bug the batch once had on PostgreSQL: holdings
// read before the sale's lock is held (so from before the batch that held
// it) and written back by overwriting them with that stale sum. Only a
// test build sets the chaos_stale_holdings tag.
const staleHoldings = true

package db

// SetPreparedLimit lowers p's bound, for tests of its eviction.
func SetPreparedLimit(p *Prepared, n int) { p.limit = n }

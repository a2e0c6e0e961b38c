package db

// SetPreparedLimit lowers p's bound, for tests of its eviction.
func SetPreparedLimit(p *Prepared, n int) { p.limit = n }

// WaitClosed waits until the statements p evicted are closed.
func WaitClosed(p *Prepared) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waitClosedLocked()
}

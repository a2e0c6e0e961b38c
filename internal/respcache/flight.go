package respcache

import "context"

// A flight is one computation of a cacheable answer that identical requests
// arriving meanwhile wait for instead of computing it again: when a change
// or the TTL empties the cache, the storefront's 64 open connections would
// otherwise all miss at once and run the same page 64 times.
//
// Waiting is exact for the same reason storing is: a request joins only a
// flight of the generation it read itself, so the flight's computation
// started after every change this instance had heard of when the request
// came (a change heard later bumps the generation: requests read it then
// start a flight of their own).
type flight struct {
	gen  uint64
	done chan struct{}
	e    *entry // the answer, if storable; set before done is closed
}

// join returns the flight of k in generation gen to wait for, or, when
// there is none, a new one that the caller leads and must land. A flight
// of an older generation is left to finish without followers.
func (c *Cache) join(k string, gen uint64) (wait, lead *flight) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.flights[k]; ok && f.gen == gen {
		c.joined.Add(1)
		return f, nil
	}
	f := &flight{gen: gen, done: make(chan struct{})}
	c.flights[k] = f
	return nil, f
}

// land hands the leader's answer (nil if not storable) to its followers.
func (c *Cache) land(k string, f *flight, e *entry) {
	f.e = e
	c.mu.Lock()
	if c.flights[k] == f {
		delete(c.flights, k)
	}
	c.mu.Unlock()
	close(f.done)
}

// wait returns the flight's answer (nil: compute your own), or ok false
// when the request ended first.
func (f *flight) wait(ctx context.Context) (e *entry, ok bool) {
	select {
	case <-f.done:
		return f.e, true
	case <-ctx.Done():
		return nil, false
	}
}

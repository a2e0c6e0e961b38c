package stats

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"unionmall/ent"
	"unionmall/internal/changes"
)

// Cache keeps the platform totals briefly: they take a handful of
// aggregate queries, and big screens and live pushes read them often.
// Every announced change of the totals (changes.StatsKind, made on this
// instance or another) invalidates it; the TTL bounds how stale the totals
// get should an announcement be missed.
type Cache struct {
	client *ent.Client
	ttl    time.Duration
	now    func() time.Time

	mu     sync.Mutex // one computation at a time
	cached atomic.Pointer[cached]
	gen    atomic.Uint64 // bumped by Invalidate
}

type cached struct {
	p   *Platform
	at  time.Time
	gen uint64
}

// NewCache returns a cache of the totals that keeps them for ttl, or until
// reg announces a change of them (reg may be nil).
func NewCache(client *ent.Client, ttl time.Duration, reg *changes.Registry) *Cache {
	c := &Cache{client: client, ttl: ttl, now: time.Now}
	reg.On(changes.StatsKind, changes.Handler{
		Changed: func(changes.Change) { c.Invalidate() },
		Resync:  c.Invalidate,
	})
	return c
}

// Invalidate makes the next Get compute afresh.
func (c *Cache) Invalidate() { c.gen.Add(1) }

// Get returns the totals, computing them when the cached ones are stale.
func (c *Cache) Get(ctx context.Context) (*Platform, error) {
	if p := c.fresh(); p != nil {
		return p, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.fresh(); p != nil { // computed while we waited
		return p, nil
	}
	gen := c.gen.Load()
	now := c.now()
	p, err := Compute(ctx, c.client, now)
	if err != nil {
		return nil, err
	}
	c.cached.Store(&cached{p: p, at: now, gen: gen})
	return p, nil
}

func (c *Cache) fresh() *Platform {
	x := c.cached.Load()
	if x == nil || x.gen != c.gen.Load() || c.now().Sub(x.at) >= c.ttl {
		return nil
	}
	return x.p
}

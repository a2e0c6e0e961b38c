package auth

import (
	"sync"
	"sync/atomic"
	"time"
)

// tokenCache keeps verified tokens in memory. A sync.Map rather than an
// LRU: every request of a flash-sale storm reads it, and reads here take
// no lock. Entries live for ttl; Sweep drops the stale ones.
//
// A lookup that read a token from the database just before it was revoked
// must not put it into the cache after the revocation emptied it: every
// removal first moves gen on, and fill drops what it stored if gen moved
// since the lookup began (see fill).
type tokenCache struct {
	m   sync.Map // token hash → *cacheEntry
	ttl time.Duration
	now func() time.Time
	gen atomic.Uint64
}

type cacheEntry struct {
	cached
	at time.Time
}

func (c *tokenCache) get(key string) (cached, bool) {
	v, ok := c.m.Load(key)
	if !ok {
		return cached{}, false
	}
	e := v.(*cacheEntry)
	if c.now().Sub(e.at) > c.ttl {
		c.m.CompareAndDelete(key, v)
		return cached{}, false
	}
	return e.cached, true
}

// generation is to be read before a lookup whose result fill may store.
func (c *tokenCache) generation() uint64 { return c.gen.Load() }

// fill stores what a lookup begun at generation g found, unless something
// was removed since g. Storing first and checking after closes the race
// with a removal: either the removal's gen step comes before the check
// (and fill takes its entry out again) or the store comes before the
// removal's Delete (which then takes it out).
func (c *tokenCache) fill(key string, v cached, g uint64) {
	e := &cacheEntry{cached: v, at: c.now()}
	c.m.Store(key, e)
	if c.gen.Load() != g {
		c.m.CompareAndDelete(key, e)
	}
}

func (c *tokenCache) remove(key string) {
	c.gen.Add(1)
	c.m.Delete(key)
}

// removeIf drops every entry for which drop says so.
func (c *tokenCache) removeIf(drop func(cached) bool) {
	c.gen.Add(1)
	c.m.Range(func(k, v any) bool {
		if drop(v.(*cacheEntry).cached) {
			c.m.CompareAndDelete(k, v)
		}
		return true
	})
}

// sweep drops stale entries.
func (c *tokenCache) sweep() {
	now := c.now()
	c.m.Range(func(k, v any) bool {
		if now.Sub(v.(*cacheEntry).at) > c.ttl {
			c.m.CompareAndDelete(k, v)
		}
		return true
	})
}

package auth

import (
	"sync"
	"time"
)

// tokenCache keeps verified tokens in memory. A sync.Map rather than an
// LRU: every request of a flash-sale storm reads it, and reads here take
// no lock. Entries live for ttl; Sweep drops the stale ones.
type tokenCache struct {
	m   sync.Map // token hash → *cacheEntry
	ttl time.Duration
	now func() time.Time
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

func (c *tokenCache) add(key string, v cached) { c.m.Store(key, &cacheEntry{cached: v, at: c.now()}) }

func (c *tokenCache) remove(key string) { c.m.Delete(key) }

// removeIf drops every entry for which drop says so.
func (c *tokenCache) removeIf(drop func(cached) bool) {
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

// Package ratelimit keeps one token bucket (golang.org/x/time/rate) per
// key — a phone number, an address, a member — in a bounded, expiring map,
// so that idle keys cost nothing and a flood of keys cannot grow memory
// without bound.
package ratelimit

import (
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/time/rate"
)

// Rule is a rate: Burst events at once, then one every Every.
type Rule struct {
	Every time.Duration
	Burst int
}

// Off is a rule that never limits.
var Off = Rule{}

// Limiter limits events per key.
type Limiter struct {
	rule    Rule
	buckets *expirable.LRU[string, *rate.Limiter]
}

// New returns a limiter for the rule; a zero rule never limits.
func New(r Rule) *Limiter {
	l := &Limiter{rule: r}
	if r.Burst > 0 {
		// A bucket idle for long enough to refill is as good as a new one.
		idle := time.Duration(r.Burst)*r.Every + time.Minute
		l.buckets = expirable.NewLRU[string, *rate.Limiter](100_000, nil, idle)
	}
	return l
}

func (l *Limiter) bucket(key string) *rate.Limiter {
	if b, ok := l.buckets.Get(key); ok {
		return b
	}
	b := rate.NewLimiter(rate.Every(l.rule.Every), l.rule.Burst)
	l.buckets.Add(key, b)
	return b
}

// Allow takes one event for the key and reports whether it was allowed.
func (l *Limiter) Allow(key string) bool {
	ok, _ := l.Take(key)
	return ok
}

// Take is Allow that also says, for a refused event, how long until the
// key has one again (what RATE_LIMITED's retryAfter tells the caller).
func (l *Limiter) Take(key string) (ok bool, retry time.Duration) {
	if l.buckets == nil {
		return true, 0
	}
	b := l.bucket(key)
	now := time.Now()
	if b.AllowN(now, 1) {
		return true, 0
	}
	return false, time.Duration((1 - b.TokensAt(now)) * float64(l.rule.Every))
}

// Exhausted reports whether the key has no event left right now, without
// taking one (for limits that count only failures).
func (l *Limiter) Exhausted(key string) bool {
	if l.buckets == nil {
		return false
	}
	b, ok := l.buckets.Get(key)
	return ok && b.Tokens() < 1
}

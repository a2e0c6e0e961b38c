package live

import (
	"sync"
	"time"

	"unionmall/internal/flashsales"
)

// clock pushes a topic again when its state changes with time alone: a
// sale turns ACTIVE at startsAt and ENDED at endsAt without a write that
// would announce it, so each loaded state schedules a touch of its topic
// at its next boundary (one timer per topic, replaced by a later load).
type clock struct {
	mu     sync.Mutex
	timers map[string]*boundary
	closed bool
}

type boundary struct {
	at    time.Time
	timer *time.Timer
}

// settle is how long after a boundary the topic is touched, so that the
// state loaded then is on the boundary's far side.
const settle = 5 * time.Millisecond

// touchAt touches topic at when (zero: never), unless a touch of it at
// that time is already scheduled.
func (c *clock) touchAt(topic string, when time.Time, touch func(topics ...string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.timers == nil {
		c.timers = map[string]*boundary{}
	}
	old := c.timers[topic]
	if old != nil && old.at.Equal(when) {
		return
	}
	if old != nil {
		old.timer.Stop()
		delete(c.timers, topic)
	}
	if when.IsZero() {
		return
	}
	b := &boundary{at: when}
	b.timer = time.AfterFunc(time.Until(when)+settle, func() {
		c.mu.Lock()
		if c.timers[topic] == b {
			delete(c.timers, topic)
		}
		c.mu.Unlock()
		touch(topic)
	})
	c.timers[topic] = b
}

func (c *clock) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for topic, b := range c.timers {
		b.timer.Stop()
		delete(c.timers, topic)
	}
}

// nextBoundary is the next time after now at which the sales' states
// change by time alone (start or end); zero when none is ahead.
func nextBoundary(now time.Time, sales ...flashsales.Stock) time.Time {
	var next time.Time
	for _, s := range sales {
		if s.FlashSale == nil {
			continue
		}
		for _, t := range []time.Time{s.FlashSale.StartsAt, s.FlashSale.EndsAt} {
			if t.After(now) && (next.IsZero() || t.Before(next)) {
				next = t
			}
		}
	}
	return next
}

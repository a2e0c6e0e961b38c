package broker

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// topic has two locks so that Touch (called from sale code paths thousands
// of times a second) never waits for a push to 10,000 mailboxes:
// mu guards scheduling, subMu guards the subscriber list and every send to
// or close of a mailbox (so a send never meets a closed channel). The two
// are never held together; the only nesting is b.mu -> mu (release, Close).
type topic[T any] struct {
	b    *Broker[T]
	name string
	refs int // subscribers + Subscribe calls in progress; guarded by b.mu

	mu        sync.Mutex
	want      uint64        // bumped by every Touch; a load started at want covers all Touches up to it
	done      uint64        // want at the start of the last successful load
	hasVal    bool          // a load has succeeded (a value is in val)
	loading   bool          // loads of one topic never overlap
	lastStart time.Time     // of the last load: the rate limit
	timer     *time.Timer   // trailing edge pending
	lastErr   error         // of the last load
	loaded    chan struct{} // closed (and replaced) when a load ends: wakes first subscribers
	dead      bool          // removed from the broker: nothing is loaded or scheduled any more

	subMu  sync.Mutex
	subs   []*sub[T]
	val    T      // last pushed value, delivered at once to new subscribers
	ver    uint64 // its version (want at its load's start): pushes never go back in time
	closed bool   // Close closed every mailbox: add no more
}

func (t *topic[T]) touch() {
	t.mu.Lock()
	t.want++
	t.kickLocked()
	t.mu.Unlock()
}

// kill stops the topic's scheduling for good and wakes first subscribers.
func (t *topic[T]) kill() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dead = true
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
	close(t.loaded)
	t.loaded = make(chan struct{})
}

// kickLocked starts a load if one is due: now if the last one started at
// least an interval ago, else via a timer at the end of the interval
// (the trailing edge; the load then covers every Touch until it starts).
// At most one load runs and at most one timer is pending per topic, so a
// burst of Touches costs one counter increment each.
func (t *topic[T]) kickLocked() {
	if t.dead || t.loading || t.timer != nil || t.want == t.done {
		return
	}
	now := time.Now()
	if wait := t.lastStart.Add(t.b.interval).Sub(now); wait > 0 {
		t.timer = time.AfterFunc(wait, func() {
			t.mu.Lock()
			t.timer = nil
			t.kickLocked()
			t.mu.Unlock()
		})
		return
	}
	t.loading, t.lastStart = true, now
	t.b.loads.Add(1)
	go t.run(t.want)
}

// run loads the state for version ver outside any lock and pushes it.
func (t *topic[T]) run(ver uint64) {
	b := t.b
	defer b.loads.Done()
	v, err := t.callLoader()
	b.nLoads.Add(1)
	if err == nil {
		// Before loading is cleared, so the next load's push cannot overtake.
		t.publish(v, ver)
	}

	t.mu.Lock()
	dead := t.dead
	t.loading = false
	if !dead {
		t.lastErr = err
		if err == nil {
			t.done, t.hasVal = ver, true
		}
		close(t.loaded)
		t.loaded = make(chan struct{})
		// Touched meanwhile, or failed with subscribers to serve: again at
		// the next interval. A failed first load has only first
		// subscribers waiting, and they all return its error: a retry
		// would serve nobody (the next Subscribe loads afresh), and one
		// due before the last of them gave up used to be a second load.
		if err == nil || t.hasVal {
			t.kickLocked()
		}
	}
	t.mu.Unlock()

	if err != nil && !dead {
		b.nLoadErrs.Add(1)
		if b.onErr != nil {
			b.onErr(t.name, err)
		}
	}
}

func (t *topic[T]) callLoader() (v T, err error) {
	ctx, cancel := context.WithTimeout(t.b.ctx, t.b.timeout)
	defer cancel()
	// A panicking loader would otherwise take the server down from a
	// goroutine no handler protects.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("broker: loader panicked: %v", r)
		}
	}()
	return t.b.load(ctx, t.name)
}

// awaitState returns once the topic has a state, loading it if needed.
func (t *topic[T]) awaitState(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for !t.hasVal {
		if t.dead {
			return ErrClosed
		}
		t.kickLocked()
		loaded := t.loaded
		t.mu.Unlock()
		select {
		case <-loaded:
		case <-ctx.Done():
			t.mu.Lock()
			return ctx.Err()
		}
		t.mu.Lock()
		if !t.hasVal && !t.dead && t.lastErr != nil {
			return t.lastErr // the load we waited for failed
		}
	}
	return nil
}

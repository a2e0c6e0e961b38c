// Package broker is a conflating pub/sub broker for GraphQL subscriptions
// to state that changes far faster than anyone can watch it (flash-sale
// counters on broadcast overlays).
//
// A topic's state is built once per change by a Loader and shared by all
// its subscribers. Each subscriber's mailbox is the channel handed to
// gqlgen itself, with capacity 1: a push replaces whatever the subscriber
// has not read yet, so a slow or stalled client only ever skips states and
// never blocks a publisher or another subscriber, and no goroutine per
// subscriber is needed. Pushes of one topic are rate limited to one per
// Interval (leading and trailing edge), so a burst costs at most one load
// and one push per interval, and the final state arrives within one
// interval (plus load time) of the last change.
//
// Values are shared between subscribers (and gqlgen marshals them
// concurrently): a Loader must return a fresh value each time and nobody
// may mutate it afterwards.
package broker

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by Subscribe once the broker is closed.
var ErrClosed = errors.New("broker: closed")

// Loader builds a topic's current state (e.g. from the database). It is
// called at most once per interval per topic, never per subscriber, and
// never concurrently for one topic.
type Loader[T any] func(ctx context.Context, topic string) (T, error)

// Options tune a Broker; the zero value gives the defaults.
type Options struct {
	Interval    time.Duration                 // minimum time between loads (so pushes) of one topic; default 100ms
	LoadTimeout time.Duration                 // default 5s
	OnLoadError func(topic string, err error) // log hook; may be nil
}

// Stats are counters for metrics.
type Stats struct {
	Pushes      uint64 // values put into mailboxes (initial values included)
	Skipped     uint64 // stale values replaced before their subscriber read them
	Loads       uint64 // loader calls, failed ones included
	LoadErrors  uint64
	Subscribers int // current subscribers
	Topics      int // current topics (with subscribers or a first load in flight)
}

// Broker fans topic states out to subscribers. It is generic because
// gqlgen asserts the resolver's result to the exact channel type
// (<-chan *model.X), so the mailbox can only be handed over as is if its
// element type is the model type.
type Broker[T any] struct {
	load     Loader[T]
	interval time.Duration
	timeout  time.Duration
	onErr    func(string, error)

	ctx    context.Context // parent of every load; cancelled by Close
	cancel context.CancelFunc
	loads  sync.WaitGroup // running loads, so Close can wait for them

	mu     sync.RWMutex // guards topics, closed and every topic.refs
	topics map[string]*topic[T]
	closed bool

	nPushes, nSkipped, nLoads, nLoadErrs atomic.Uint64
	nSubs                                atomic.Int64
}

// New returns a broker that builds states with load.
func New[T any](load Loader[T], o Options) *Broker[T] {
	if o.Interval <= 0 {
		o.Interval = 100 * time.Millisecond
	}
	if o.LoadTimeout <= 0 {
		o.LoadTimeout = 5 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Broker[T]{
		load: load, interval: o.Interval, timeout: o.LoadTimeout, onErr: o.OnLoadError,
		ctx: ctx, cancel: cancel,
		topics: make(map[string]*topic[T]),
	}
}

// Subscribe returns a channel (capacity 1) that receives the topic's
// current state at once and then its changes, conflated: a subscriber that
// does not keep up skips intermediate states but always gets the latest.
// It is closed when ctx ends (and the subscriber removed) or the broker is
// closed. If the topic has no state yet, Subscribe loads it (concurrent
// first subscribers share one load) and returns the loader's error if that
// load fails. If the topic has state, even one already superseded by a
// Touch, that state is delivered at once without a load: the reload the
// Touch scheduled pushes the new one within an interval, and loading per
// subscriber during a burst would break the one-load-per-interval bound.
//
// Readers must treat the values as read-only: they are shared.
func (b *Broker[T]) Subscribe(ctx context.Context, topic string) (<-chan T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := b.acquire(topic)
	if err != nil {
		return nil, err
	}
	if err := t.awaitState(ctx); err != nil {
		b.release(t)
		return nil, err
	}
	// No goroutine waits for ctx: AfterFunc hooks into the context tree.
	// From here on the callback owns the reference taken by acquire.
	s := &sub[T]{ch: make(chan T, 1), idx: -1}
	s.stop = context.AfterFunc(ctx, func() { t.unsubscribe(s) })
	if err := t.add(s); err != nil {
		if err != ErrClosed {
			return nil, ctx.Err()
		}
		s.stop()
		b.release(t)
		return nil, err
	}
	return s.ch, nil
}

// Touch says the topics changed. Each is reloaded and pushed to its
// subscribers: at once if it was not loaded within the last interval
// (leading edge), else once at the end of the interval with whatever is
// latest then (trailing edge). Touches during a load make it reload after.
// Topics without subscribers are not loaded: they have no cached state.
// Touch never blocks on loads or subscribers.
func (b *Broker[T]) Touch(topics ...string) {
	for _, name := range topics {
		b.mu.RLock()
		t := b.topics[name]
		b.mu.RUnlock()
		if t != nil {
			t.touch()
		}
	}
}

// TouchAll touches every topic that has subscribers (e.g. after the
// database connection came back, so everyone gets the current state again).
func (b *Broker[T]) TouchAll() {
	b.mu.RLock()
	ts := make([]*topic[T], 0, len(b.topics))
	for _, t := range b.topics {
		ts = append(ts, t)
	}
	b.mu.RUnlock()
	for _, t := range ts {
		t.touch()
	}
}

// Stats returns the counters.
func (b *Broker[T]) Stats() Stats {
	b.mu.RLock()
	n := len(b.topics)
	b.mu.RUnlock()
	return Stats{
		Pushes:      b.nPushes.Load(),
		Skipped:     b.nSkipped.Load(),
		Loads:       b.nLoads.Load(),
		LoadErrors:  b.nLoadErrs.Load(),
		Subscribers: int(b.nSubs.Load()),
		Topics:      n,
	}
}

// Close stops timers, cancels running loads and waits for them to return,
// and closes every subscriber channel. Later Subscribes fail with
// ErrClosed; Touches do nothing.
func (b *Broker[T]) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	ts := b.topics
	b.topics = map[string]*topic[T]{}
	for _, t := range ts {
		t.kill() // under b.mu: after this no load can start, so loads.Wait is safe
	}
	b.mu.Unlock()

	b.cancel()
	for _, t := range ts {
		t.closeSubs()
	}
	b.loads.Wait()
}

// acquire returns the topic, creating it, with one more reference.
func (b *Broker[T]) acquire(name string) (*topic[T], error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	t := b.topics[name]
	if t == nil {
		t = &topic[T]{b: b, name: name, want: 1, loaded: make(chan struct{})}
		b.topics[name] = t
	}
	t.refs++
	return t, nil
}

// release drops a reference; the last one removes the topic and its state,
// so an unwatched topic costs nothing and its next subscriber loads afresh.
func (b *Broker[T]) release(t *topic[T]) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.refs--; t.refs == 0 && b.topics[t.name] == t {
		delete(b.topics, t.name)
		t.kill()
	}
}

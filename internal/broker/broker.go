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
	"fmt"
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

type sub[T any] struct {
	ch   chan T
	stop func() bool // unregisters the context.AfterFunc
	idx  int         // in topic.subs, -1 if not in it; guarded by subMu
	gone bool        // channel closed (or never handed out); guarded by subMu
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
		t.kickLocked() // touched meanwhile, or failed: again at the next interval
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

// publish puts v into every mailbox, replacing unread values.
func (t *topic[T]) publish(v T, ver uint64) {
	t.subMu.Lock()
	defer t.subMu.Unlock()
	if t.closed || ver <= t.ver {
		return
	}
	t.val, t.ver = v, ver
	var skipped uint64
	for _, s := range t.subs {
		if s.offer(v) {
			skipped++
		}
	}
	t.b.nPushes.Add(uint64(len(t.subs)))
	t.b.nSkipped.Add(skipped)
}

// offer replaces the mailbox's content with v without blocking and reports
// whether an unread value was dropped. The caller holds subMu, so it is the
// only sender and the channel is open; the reader can only make room.
func (s *sub[T]) offer(v T) (skipped bool) {
	select {
	case s.ch <- v:
		return false
	default:
	}
	select {
	case <-s.ch:
		skipped = true
	default: // the reader took it meanwhile
	}
	s.ch <- v // cannot block: empty, and we are the only sender
	return skipped
}

// add registers s and gives it the current state. It fails with ErrClosed
// if the broker closed (the caller still owns the reference), or with
// context.Canceled if ctx already ended (the AfterFunc callback ran and
// released the reference).
func (t *topic[T]) add(s *sub[T]) error {
	t.subMu.Lock()
	defer t.subMu.Unlock()
	if s.gone {
		return context.Canceled // replaced by ctx.Err() in Subscribe
	}
	if t.closed {
		s.gone = true
		return ErrClosed
	}
	s.idx = len(t.subs)
	t.subs = append(t.subs, s)
	s.ch <- t.val
	t.b.nPushes.Add(1)
	t.b.nSubs.Add(1)
	return nil
}

// unsubscribe runs when the subscriber's ctx ends.
func (t *topic[T]) unsubscribe(s *sub[T]) {
	t.subMu.Lock()
	if s.gone {
		t.subMu.Unlock()
		return
	}
	s.gone = true
	if i := s.idx; i >= 0 {
		last := len(t.subs) - 1
		t.subs[i] = t.subs[last]
		t.subs[i].idx = i
		t.subs[last] = nil
		t.subs = t.subs[:last]
		s.idx = -1
		t.b.nSubs.Add(-1)
	}
	close(s.ch)
	t.subMu.Unlock()
	t.b.release(t)
}

// closeSubs closes every mailbox for Close.
func (t *topic[T]) closeSubs() {
	t.subMu.Lock()
	subs := t.subs
	t.subs, t.closed = nil, true
	for _, s := range subs {
		s.gone, s.idx = true, -1
		close(s.ch)
	}
	t.b.nSubs.Add(-int64(len(subs)))
	t.subMu.Unlock()
	for _, s := range subs {
		s.stop()
	}
}

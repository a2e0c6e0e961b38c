package broker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// source is the "database": a counter per test, bumped before each Touch,
// so the loader's result tells which Touches a push covers.
type source struct {
	state atomic.Int64
	calls atomic.Int64
}

func (s *source) load(ctx context.Context, topic string) (int64, error) {
	s.calls.Add(1)
	return s.state.Load(), nil
}

// change simulates a write followed by its Touch.
func (s *source) change(b *Broker[int64], topic string) int64 {
	v := s.state.Add(1)
	b.Touch(topic)
	return v
}

// noLeaks fails the test if goroutines started during it outlive it.
func noLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				t.Errorf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func recv[T any](t *testing.T, ch <-chan T, within time.Duration) T {
	t.Helper()
	select { // a ready value first: a zero timer would race with it
	case v, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return v
	default:
	}
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return v
	case <-time.After(within):
		t.Fatalf("nothing received within %v", within)
	}
	panic("unreachable")
}

// recvUntil reads until want arrives, checking values never go back.
func recvUntil(t *testing.T, ch <-chan int64, want int64, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	prev := int64(-1)
	for {
		select {
		case v, ok := <-ch:
			if !ok {
				t.Fatal("channel closed")
			}
			if v < prev {
				t.Fatalf("went back in time: %d after %d", v, prev)
			}
			if prev = v; v == want {
				return
			}
		case <-deadline:
			t.Fatalf("value %d not received within %v (last %d)", want, within, prev)
		}
	}
}

func closed[T any](ch <-chan T) bool {
	select {
	case _, ok := <-ch:
		return !ok
	case <-time.After(time.Second):
		return false
	}
}

func TestSubscribe(t *testing.T) {
	const interval = 20 * time.Millisecond
	tests := []struct {
		name string
		run  func(t *testing.T, b *Broker[int64], src *source)
	}{
		{"current state at once, then a Touch", func(t *testing.T, b *Broker[int64], src *source) {
			src.state.Store(41)
			ch, err := b.Subscribe(t.Context(), "sale")
			if err != nil {
				t.Fatal(err)
			}
			if v := recv(t, ch, 0); v != 41 { // already in the mailbox
				t.Fatalf("initial = %d, want 41", v)
			}
			src.change(b, "sale")
			if v := recv(t, ch, time.Second); v != 42 {
				t.Fatalf("after Touch = %d, want 42", v)
			}
		}},
		{"cancel closes and removes", func(t *testing.T, b *Broker[int64], src *source) {
			ctx, cancel := context.WithCancel(t.Context())
			ch, err := b.Subscribe(ctx, "sale")
			if err != nil {
				t.Fatal(err)
			}
			if s := b.Stats(); s.Subscribers != 1 || s.Topics != 1 {
				t.Fatalf("stats = %+v", s)
			}
			cancel()
			recv(t, ch, time.Second) // the initial value is still readable
			if !closed(ch) {
				t.Fatal("channel not closed after cancel")
			}
			eventually(t, "subscriber removed", func() bool {
				s := b.Stats()
				return s.Subscribers == 0 && s.Topics == 0
			})
		}},
		{"fresh cached state: no load", func(t *testing.T, b *Broker[int64], src *source) {
			src.state.Store(7)
			if _, err := b.Subscribe(t.Context(), "sale"); err != nil {
				t.Fatal(err)
			}
			for range 10 {
				ch, err := b.Subscribe(t.Context(), "sale")
				if err != nil {
					t.Fatal(err)
				}
				if v := recv(t, ch, 0); v != 7 {
					t.Fatalf("got %d, want 7", v)
				}
			}
			if n := src.calls.Load(); n != 1 {
				t.Fatalf("loads = %d, want 1", n)
			}
		}},
		{"superseded cached state: delivered at once, then the new one", func(t *testing.T, b *Broker[int64], src *source) {
			first, err := b.Subscribe(t.Context(), "sale")
			if err != nil {
				t.Fatal(err)
			}
			recv(t, first, 0)
			src.change(b, "sale") // leading edge: loads at once
			recvUntil(t, first, 1, time.Second)
			src.change(b, "sale") // trailing edge: up to an interval away
			ch, err := b.Subscribe(t.Context(), "sale")
			if err != nil {
				t.Fatal(err)
			}
			if v := recv(t, ch, 0); v != 1 {
				t.Fatalf("initial = %d, want the cached 1", v)
			}
			recvUntil(t, ch, 2, time.Second)
		}},
		{"unwatched topics are not loaded and lose their state", func(t *testing.T, b *Broker[int64], src *source) {
			b.Touch("sale", "other")
			b.TouchAll()
			time.Sleep(2 * interval)
			if n := src.calls.Load(); n != 0 {
				t.Fatalf("loads = %d, want 0", n)
			}
			ctx, cancel := context.WithCancel(t.Context())
			if _, err := b.Subscribe(ctx, "sale"); err != nil {
				t.Fatal(err)
			}
			cancel()
			eventually(t, "topic dropped", func() bool { return b.Stats().Topics == 0 })
			src.state.Store(9)
			ch, err := b.Subscribe(t.Context(), "sale")
			if err != nil {
				t.Fatal(err)
			}
			if v := recv(t, ch, 0); v != 9 {
				t.Fatalf("got %d, want a fresh 9", v)
			}
			if n := src.calls.Load(); n != 2 {
				t.Fatalf("loads = %d, want 2", n)
			}
		}},
		{"ended contexts", func(t *testing.T, b *Broker[int64], src *source) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if _, err := b.Subscribe(ctx, "sale"); !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v", err)
			}
			gate := make(chan struct{})
			defer close(gate)
			b.load = func(ctx context.Context, topic string) (int64, error) {
				<-gate
				return 0, nil
			}
			ctx, cancel = context.WithTimeout(t.Context(), 10*time.Millisecond)
			defer cancel()
			if _, err := b.Subscribe(ctx, "sale"); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v while waiting for the first load", err)
			}
			if s := b.Stats(); s.Topics != 0 || s.Subscribers != 0 {
				t.Fatalf("stats = %+v", s)
			}
		}},
		{"touch during a load reloads after it", func(t *testing.T, b *Broker[int64], src *source) {
			ch, err := b.Subscribe(t.Context(), "sale")
			if err != nil {
				t.Fatal(err)
			}
			recv(t, ch, 0)
			time.Sleep(interval) // so the next Touch is a leading edge
			gate := make(chan struct{})
			b.load = func(ctx context.Context, topic string) (int64, error) {
				v, _ := src.load(ctx, topic)
				if v == 1 {
					<-gate
				}
				return v, nil
			}
			src.change(b, "sale") // load of 1 starts and blocks
			eventually(t, "load running", func() bool { return src.calls.Load() == 2 })
			src.change(b, "sale") // 2 while it runs
			close(gate)
			recvUntil(t, ch, 2, time.Second)
			if n := src.calls.Load(); n != 3 {
				t.Fatalf("loads = %d, want 3", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noLeaks(t)
			src := &source{}
			b := New(src.load, Options{Interval: interval})
			defer b.Close()
			tt.run(t, b, src)
		})
	}
}

func TestBurst(t *testing.T) {
	noLeaks(t)
	src := &source{}
	b := New(src.load, Options{}) // 100ms
	defer b.Close()
	ch, err := b.Subscribe(t.Context(), "sale")
	if err != nil {
		t.Fatal(err)
	}
	loads0 := src.calls.Load()

	type got struct {
		v  int64
		at time.Time
	}
	received := make(chan got, 1000)
	go func() { // a fast subscriber
		defer close(received)
		for v := range ch {
			received <- got{v, time.Now()}
		}
	}()

	// 10,000 Touches over ~1s, in 100 batches.
	start := time.Now()
	var final int64
	for i := range 100 {
		for range 100 {
			final = src.change(b, "sale")
		}
		time.Sleep(time.Until(start.Add(time.Duration(i+1) * 10 * time.Millisecond)))
	}
	last := time.Now()
	elapsed := last.Sub(start)

	var pushes int
	var finalAt time.Time
	timeout := time.After(time.Second)
wait:
	for {
		select {
		case g := <-received:
			pushes++
			if g.v == final {
				finalAt = g.at
				break wait
			}
		case <-timeout:
			t.Fatalf("final value %d not received", final)
		}
	}
	lag := finalAt.Sub(last)
	loads := src.calls.Load() - loads0
	// Leading edge + one per interval + the trailing edge.
	limit := int(elapsed/(100*time.Millisecond)) + 2
	t.Logf("10,000 touches in %v: %d pushes (initial included), %d loads, final value %v after the last touch", elapsed.Round(time.Millisecond), pushes, loads, lag.Round(time.Millisecond))
	if pushes > limit+1 { // +1: the initial value
		t.Errorf("pushes = %d, want <= %d", pushes, limit+1)
	}
	if loads > int64(limit) {
		t.Errorf("loads = %d, want <= %d", loads, limit)
	}
	if lag > 200*time.Millisecond {
		t.Errorf("final value arrived %v after the last touch, want <= 200ms", lag)
	}
}

func TestStalledSubscriber(t *testing.T) {
	noLeaks(t)
	src := &source{}
	b := New(src.load, Options{Interval: time.Millisecond})
	defer b.Close()
	stalled, err := b.Subscribe(t.Context(), "sale")
	if err != nil {
		t.Fatal(err)
	}
	fast, err := b.Subscribe(t.Context(), "sale")
	if err != nil {
		t.Fatal(err)
	}

	var final int64
	start := time.Now()
	for range 50 {
		final = src.change(b, "sale")
		time.Sleep(2 * time.Millisecond) // let loads run: most pushes land on a full mailbox
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("touching took %v: blocked by the stalled subscriber?", d)
	}
	recvUntil(t, fast, final, time.Second)

	// The push that reached fast has reached every mailbox once it releases
	// the subscriber lock.
	b.mu.RLock()
	tp := b.topics["sale"]
	b.mu.RUnlock()
	tp.subMu.Lock()
	pushed := tp.val
	tp.subMu.Unlock()
	if pushed != final {
		t.Fatalf("topic's last pushed state %d, want %d", pushed, final)
	}
	// Reading at last: the latest state, once.
	if v := recv(t, stalled, 0); v != final {
		t.Fatalf("stalled subscriber read %d, want the latest %d", v, final)
	}
	select {
	case v := <-stalled:
		t.Fatalf("stale value %d queued behind the latest", v)
	default:
	}
	if s := b.Stats(); s.Skipped == 0 {
		t.Fatalf("Skipped = 0, stats %+v", s)
	}
}

func TestManySubscribers(t *testing.T) {
	noLeaks(t)
	const n = 1000
	src := &source{}
	b := New(src.load, Options{Interval: 5 * time.Millisecond})
	defer b.Close()
	chans := make([]<-chan int64, n)
	for i := range chans {
		ch, err := b.Subscribe(t.Context(), "sale")
		if err != nil {
			t.Fatal(err)
		}
		chans[i] = ch
	}
	var final int64
	for i := range 200 {
		final = src.change(b, "sale")
		if i%20 == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	for i, ch := range chans { // nobody read: each mailbox must hold the final state
		recvUntil(t, ch, final, 2*time.Second)
		if i == 0 {
			// All loads are done once the final state is out.
			time.Sleep(20 * time.Millisecond)
		}
	}
	s := b.Stats()
	t.Logf("%d subscribers, 200 touches: %+v", n, s)
	if s.Loads != uint64(src.calls.Load()) || s.Loads > 200 {
		t.Fatalf("loads = %d", s.Loads)
	}
	if s.Pushes != n*s.Loads { // initial values + one push per load to each subscriber
		t.Fatalf("pushes = %d, want %d subscribers x %d loads", s.Pushes, n, s.Loads)
	}
}

func TestLoadErrors(t *testing.T) {
	errDown := errors.New("database down")
	tests := []struct {
		name string
		run  func(t *testing.T, b *Broker[int64], fail *atomic.Bool, errs *atomic.Int64)
	}{
		{"first load fails, a later one succeeds", func(t *testing.T, b *Broker[int64], fail *atomic.Bool, errs *atomic.Int64) {
			fail.Store(true)
			if _, err := b.Subscribe(t.Context(), "sale"); !errors.Is(err, errDown) {
				t.Fatalf("err = %v, want %v", err, errDown)
			}
			eventually(t, "error counted, topic dropped", func() bool {
				s := b.Stats()
				return s.Topics == 0 && s.Subscribers == 0 && s.LoadErrors == 1 && errs.Load() == 1
			})
			fail.Store(false)
			ch, err := b.Subscribe(t.Context(), "sale")
			if err != nil {
				t.Fatal(err)
			}
			if v := recv(t, ch, 0); v != 1 {
				t.Fatalf("got %d", v)
			}
		}},
		{"failures keep subscribers and retry", func(t *testing.T, b *Broker[int64], fail *atomic.Bool, errs *atomic.Int64) {
			ch, err := b.Subscribe(t.Context(), "sale")
			if err != nil {
				t.Fatal(err)
			}
			recv(t, ch, 0)
			fail.Store(true)
			b.Touch("sale")
			eventually(t, "retries", func() bool { return errs.Load() >= 3 })
			select {
			case v := <-ch:
				t.Fatalf("pushed %d while failing", v)
			default:
			}
			if s := b.Stats(); s.Subscribers != 1 {
				t.Fatalf("stats = %+v", s)
			}
			// A new subscriber gets the last good state meanwhile.
			ch2, err := b.Subscribe(t.Context(), "sale")
			if err != nil {
				t.Fatal(err)
			}
			first := recv(t, ch2, 0)
			fail.Store(false) // the next retry succeeds without another Touch
			if v := recv(t, ch, time.Second); v <= first {
				t.Fatalf("got %d after recovery, want > %d", v, first)
			}
		}},
		{"concurrent first subscribers share one load and its error", func(t *testing.T, b *Broker[int64], fail *atomic.Bool, errs *atomic.Int64) {
			gate := make(chan struct{})
			var calls atomic.Int64
			b.load = func(ctx context.Context, topic string) (int64, error) {
				calls.Add(1)
				<-gate
				return 0, errDown
			}
			var wg sync.WaitGroup
			for range 50 {
				wg.Go(func() {
					if _, err := b.Subscribe(t.Context(), "sale"); !errors.Is(err, errDown) {
						t.Errorf("err = %v", err)
					}
				})
			}
			eventually(t, "all waiting", func() bool {
				b.mu.RLock()
				defer b.mu.RUnlock()
				return b.topics["sale"] != nil && b.topics["sale"].refs == 50
			})
			if n := calls.Load(); n != 1 {
				t.Fatalf("%d loads for 50 waiting first subscribers, want 1", n)
			}
			close(gate)
			wg.Wait()
			if n := calls.Load(); n != 1 {
				t.Fatalf("loads = %d, want 1", n)
			}
		}},
		{"a panicking loader is an error", func(t *testing.T, b *Broker[int64], fail *atomic.Bool, errs *atomic.Int64) {
			b.load = func(ctx context.Context, topic string) (int64, error) { panic("boom") }
			if _, err := b.Subscribe(t.Context(), "sale"); err == nil {
				t.Fatal("no error")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noLeaks(t)
			var fail atomic.Bool
			var errs atomic.Int64
			var n atomic.Int64
			b := New(func(ctx context.Context, topic string) (int64, error) {
				if fail.Load() {
					return 0, errDown
				}
				return n.Add(1), nil
			}, Options{Interval: 5 * time.Millisecond, OnLoadError: func(topic string, err error) {
				if topic != "sale" {
					t.Errorf("hook topic %q", topic)
				}
				errs.Add(1)
			}})
			defer b.Close()
			tt.run(t, b, &fail, &errs)
		})
	}
}

func TestConcurrent(t *testing.T) {
	noLeaks(t)
	src := &source{}
	b := New(src.load, Options{Interval: time.Millisecond})
	topics := []string{"a", "b", "c"}
	ctx, stop := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer stop()

	var wg sync.WaitGroup
	for range 4 { // writers
		wg.Go(func() {
			for ctx.Err() == nil {
				src.state.Add(1)
				b.Touch(topics[rand.IntN(len(topics))])
				if rand.IntN(100) == 0 {
					b.TouchAll()
				}
				runtime.Gosched()
			}
		})
	}
	for range 32 { // subscribers that come and go, some reading, some not
		wg.Go(func() {
			for ctx.Err() == nil {
				subCtx, cancel := context.WithTimeout(ctx, time.Duration(rand.IntN(5000))*time.Microsecond)
				ch, err := b.Subscribe(subCtx, topics[rand.IntN(len(topics))])
				if err != nil {
					cancel()
					if subCtx.Err() == nil {
						t.Errorf("Subscribe: %v", err)
					}
					continue
				}
				if rand.IntN(2) == 0 {
					prev := int64(-1)
					for v := range ch {
						if v < prev {
							t.Errorf("went back in time: %d after %d", v, prev)
						}
						prev = v
					}
				} else {
					<-subCtx.Done()
				}
				cancel()
			}
		})
	}
	wg.Wait()
	eventually(t, "everyone gone", func() bool {
		s := b.Stats()
		return s.Subscribers == 0 && s.Topics == 0
	})
	s := b.Stats()
	t.Logf("%+v", s)
	b.Close()
}

func TestClose(t *testing.T) {
	noLeaks(t)
	src := &source{}
	b := New(func(ctx context.Context, topic string) (int64, error) {
		if topic == "slow" {
			<-ctx.Done() // Close cancels running loads
			return 0, ctx.Err()
		}
		return src.load(ctx, topic)
	}, Options{Interval: time.Hour}) // pending trailing edges must be stopped
	var chans []<-chan int64
	for _, topic := range []string{"a", "a", "b"} {
		ch, err := b.Subscribe(t.Context(), topic)
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	b.Touch("a", "b") // schedules trailing edges an hour away
	waiting := make(chan error)
	go func() {
		_, err := b.Subscribe(t.Context(), "slow")
		waiting <- err
	}()
	eventually(t, "slow load running", func() bool { return b.Stats().Topics == 3 })

	b.Close()
	for i, ch := range chans {
		recv(t, ch, 0) // initial
		if !closed(ch) {
			t.Fatalf("channel %d not closed", i)
		}
	}
	if err := <-waiting; !errors.Is(err, ErrClosed) {
		t.Fatalf("waiting Subscribe: %v", err)
	}
	if _, err := b.Subscribe(t.Context(), "a"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Subscribe after Close: %v", err)
	}
	b.Touch("a")
	b.TouchAll()
	b.Close()
	if s := b.Stats(); s.Subscribers != 0 || s.Topics != 0 {
		t.Fatalf("stats = %+v", s)
	}
}

// BenchmarkPush measures one Touch reaching every mailbox of one topic:
// load (a constant) + N non-blocking deliveries. "stalled" subscribers
// never read, so every delivery replaces an unread value (the worst case);
// "readers" have a goroutine each draining its mailbox, as gqlgen does.
func BenchmarkPush(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		for _, readers := range []bool{false, true} {
			name := fmt.Sprintf("subs=%d/stalled", n)
			if readers {
				name = fmt.Sprintf("subs=%d/readers", n)
			}
			b.Run(name, func(b *testing.B) {
				br := New(func(context.Context, string) (int, error) { return 1, nil }, Options{Interval: time.Nanosecond})
				defer br.Close()
				for range n {
					ch, err := br.Subscribe(b.Context(), "sale")
					if err != nil {
						b.Fatal(err)
					}
					if readers {
						go func() {
							for range ch {
							}
						}()
					}
				}
				b.ResetTimer()
				for b.Loop() {
					want := br.nPushes.Load() + uint64(n)
					br.Touch("sale")
					for br.nPushes.Load() < want {
						runtime.Gosched()
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/sub")
			})
		}
	}
}

// BenchmarkSubscribe shows the memory one subscription costs (B/op):
// mailbox, bookkeeping and the context hook; no goroutine.
func BenchmarkSubscribe(b *testing.B) {
	br := New(func(context.Context, string) (int, error) { return 1, nil }, Options{})
	defer br.Close()
	g0 := runtime.NumGoroutine()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := br.Subscribe(b.Context(), "sale"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(runtime.NumGoroutine()-g0)/float64(b.N), "goroutines/sub")
}

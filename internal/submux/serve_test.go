package submux

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"unionmall/internal/wsgorilla"
)

// fakeSender records what a subscriber was sent; while blocked is open
// its Send blocks (a connection whose peer stopped reading).
type fakeSender struct {
	mu      sync.Mutex
	got     []*wsgorilla.Payload
	sent    chan *wsgorilla.Payload
	blocked chan struct{}
	// entered, when set, hears each Send begin.
	entered chan struct{}
}

func (f *fakeSender) Send(p *wsgorilla.Payload) error {
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	if f.blocked != nil {
		<-f.blocked
	}
	f.mu.Lock()
	f.got = append(f.got, p)
	f.mu.Unlock()
	f.sent <- p
	return nil
}

// A subscriber whose writes block delays neither the group's publishing
// nor another subscriber, and writes the newest state once unblocked,
// skipping the rest.
func TestStalledSubscriberSkips(t *testing.T) {
	g := &group{m: New(), ready: make(chan struct{})}
	states := make([]*wsgorilla.Payload, 101)
	for i := range states {
		states[i] = wsgorilla.NewPayload([]byte(strconv.Itoa(i)))
	}
	g.publish(g.newState(states[0]))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fast := &fakeSender{sent: make(chan *wsgorilla.Payload)}
	slow := &fakeSender{sent: make(chan *wsgorilla.Payload, 1), blocked: make(chan struct{}), entered: make(chan struct{}, 2)}
	done := make(chan struct{}, 2)
	for _, s := range []*fakeSender{fast, slow} {
		go func() { g.serve(ctx, s); done <- struct{}{} }()
	}
	if p := <-fast.sent; p != states[0] {
		t.Fatalf("fast got %p first", p)
	}
	<-slow.entered // stuck in its first write (of state 0) before more come
	// The slow one is stuck writing state 0 while 100 more come; the fast
	// one gets each (it reads before the next is published).
	for i := 1; i <= 100; i++ {
		g.publish(g.newState(states[i]))
		if p := <-fast.sent; p != states[i] {
			t.Fatalf("fast got %p, want state %d", p, i)
		}
	}
	close(slow.blocked)
	if p := <-slow.sent; p != states[0] {
		t.Fatalf("slow's first write was %p", p)
	}
	if p := <-slow.sent; p != states[100] {
		t.Fatalf("slow's next write was %p, want the newest", p)
	}
	// The end of the stream ends both.
	g.publish(g.newState(nil))
	<-done
	<-done
	if len(slow.got) != 2 {
		t.Fatalf("slow wrote %d states, want 2", len(slow.got))
	}
}

package respcache

import (
	"runtime"
	"strings"
	"sync"
	"testing"

	"unionmall/internal/changes"
)

// Requests that miss while the same answer is being computed wait for it:
// one computation for all of them.
func TestConcurrentMissesComputeOnce(t *testing.T) {
	c := New(changes.New(), Options{Entries: 10})
	release := make(chan struct{})
	f := &fake{during: func() { <-release }}
	h := c.Wrap(f)
	answers := make([]string, 6)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() { defer wg.Done(); answers[i] = post(t, h, page, nil) }()
		if i == 0 { // the leader is computing before the others come
			waitFor(func() bool { return f.runs.Load() == 1 })
		}
	}
	waitFor(func() bool { return c.joined.Load() == 5 })
	close(release)
	wg.Wait()
	if f.runs.Load() != 1 {
		t.Fatalf("%d computations for 6 identical requests", f.runs.Load())
	}
	for i, a := range answers {
		if a != answers[0] || !strings.Contains(a, `"n":1`) {
			t.Errorf("answer %d: %s, the leader's: %s", i, a, answers[0])
		}
	}
}

// A request that came after a change never waits for a computation that
// started before it: it computes its own.
func TestAFlightOfAnOlderGenerationIsNotJoined(t *testing.T) {
	reg := changes.New()
	c := New(reg, Options{Entries: 10})
	release := make(chan struct{})
	f := &fake{}
	f.during = func() {
		if f.runs.Load() == 1 {
			<-release
		}
	}
	h := c.Wrap(f)
	var old string
	done := make(chan struct{})
	go func() { defer close(done); old = post(t, h, page, nil) }()
	waitFor(func() bool { return f.runs.Load() == 1 })
	reg.Announce(changes.Catalog)
	if a := post(t, h, page, nil); !strings.Contains(a, `"n":2`) {
		t.Fatalf("after the change: %s, want the second computation", a)
	}
	close(release)
	<-done
	if !strings.Contains(old, `"n":1`) || c.joined.Load() != 0 {
		t.Fatalf("the overlapping request: %s, %d joined", old, c.joined.Load())
	}
	// The second answer was stored (its generation is current), the first
	// not.
	if a := post(t, h, page, nil); !strings.Contains(a, `"n":2`) {
		t.Fatalf("afterwards: %s", a)
	}
}

// waitFor yields until cond holds (no deadline: the test's own timeout is
// the bound).
func waitFor(cond func() bool) {
	for !cond() {
		runtime.Gosched()
	}
}

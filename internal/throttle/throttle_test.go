package throttle_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"unionmall/internal/testdb"
	"unionmall/internal/throttle"
)

// A burst of parallel attempts through limiters on two connections pools
// (two instances) is limited exactly like the same attempts in a row.
func TestParallelBurstIsLimitedExactly(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		other := testdb.Reopen(t, d) // a second instance's pool
		rule := throttle.Rule{Every: time.Minute, Burst: 5}
		a, b := throttle.New(d.DB, "login-phone", rule), throttle.New(other, "login-phone", rule)
		var allowed atomic.Int32
		var wg sync.WaitGroup
		for i := range 60 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l := a
				if i%2 == 1 {
					l = b
				}
				ok, err := l.Take(context.Background(), "13800000000")
				if err != nil {
					t.Error(err)
				}
				if ok {
					allowed.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := allowed.Load(); n != 5 {
			t.Fatalf("%d of 60 parallel attempts allowed, want exactly the burst of 5", n)
		}
		// Another key has its own bucket.
		if ok, err := a.Take(context.Background(), "13800000001"); err != nil || !ok {
			t.Fatalf("another key: %v %v", ok, err)
		}
		// Another kind with the same key too.
		if ok, err := throttle.New(d.DB, "password", rule).Take(context.Background(), "13800000000"); err != nil || !ok {
			t.Fatalf("another kind: %v %v", ok, err)
		}
	})
}

// The bucket refills at the rule's rate; Refund gives one back, Reset all.
func TestRefillRefundReset(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
		l := throttle.New(d.DB, "k", throttle.Rule{Every: time.Minute, Burst: 3})
		throttle.SetClock(l, func() time.Time { return now })
		take := func(want bool, what string) {
			t.Helper()
			ok, err := l.Take(ctx, "x")
			if err != nil || ok != want {
				t.Fatalf("%s: allowed=%v err=%v, want %v", what, ok, err, want)
			}
		}
		for i := range 3 {
			take(true, "burst attempt "+string(rune('1'+i)))
		}
		take(false, "past the burst")
		now = now.Add(59 * time.Second)
		take(false, "59 s later")
		now = now.Add(time.Second)
		take(true, "a minute later: one more")
		take(false, "and no second one")
		if err := l.Refund(ctx, "x"); err != nil {
			t.Fatal(err)
		}
		take(true, "after a refund")
		if err := l.Reset(ctx, "x"); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			take(true, "after a reset")
		}
		take(false, "past the burst again")
		if n, err := throttle.Purge(ctx, d.DB, now); err != nil || n != 0 {
			t.Fatalf("purge of a bucket in use: %d %v", n, err)
		}
		if n, err := throttle.Purge(ctx, d.DB, now.Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("purge of a full bucket: %d %v", n, err)
		}
	})
}

func TestZeroRuleNeverLimits(t *testing.T) {
	var l *throttle.Limiter
	for range 10 {
		if ok, err := l.Take(context.Background(), "x"); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	l = throttle.New(nil, "off", throttle.Rule{})
	if ok, err := l.Take(context.Background(), "x"); !ok || err != nil {
		t.Fatal(ok, err)
	}
}

// Wait says how long a refused key must wait: until its next attempt would
// be allowed, exactly.
func TestWait(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
		l := throttle.New(d.DB, "wait", throttle.Rule{Every: time.Minute, Burst: 2})
		throttle.SetClock(l, func() time.Time { return now })
		if w, err := l.Wait(ctx, "k"); err != nil || w != 0 {
			t.Fatalf("unknown key: %v %v", w, err)
		}
		for range 2 {
			if ok, err := l.Take(ctx, "k"); !ok || err != nil {
				t.Fatalf("take: %v %v", ok, err)
			}
		}
		now = now.Add(10 * time.Second)
		if ok, _ := l.Take(ctx, "k"); ok {
			t.Fatal("a third attempt allowed")
		}
		w, err := l.Wait(ctx, "k")
		if err != nil || w != 50*time.Second {
			t.Fatalf("wait %v %v, want 50s", w, err)
		}
		now = now.Add(w)
		if ok, _ := l.Take(ctx, "k"); !ok {
			t.Fatal("refused after the wait")
		}
	})
}

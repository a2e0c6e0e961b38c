package ratelimit

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := New(Rule{Every: time.Hour, Burst: 3})
	for i := range 3 {
		if !l.Allow("13800000000") {
			t.Fatalf("event %d refused within the burst", i)
		}
	}
	if l.Allow("13800000000") || !l.Exhausted("13800000000") {
		t.Fatal("the fourth event within the hour must be refused")
	}
	if !l.Allow("13900000000") || l.Exhausted("13900000000") {
		t.Fatal("keys are independent")
	}
	off := New(Off)
	for range 100 {
		if !off.Allow("x") || off.Exhausted("x") {
			t.Fatal("Off never limits")
		}
	}
	fast := New(Rule{Every: 10 * time.Millisecond, Burst: 1})
	fast.Allow("k")
	time.Sleep(15 * time.Millisecond)
	if !fast.Allow("k") {
		t.Fatal("the bucket refills")
	}
}

func TestTakeSaysTheWait(t *testing.T) {
	l := New(Rule{Every: time.Minute, Burst: 1})
	if ok, w := l.Take("k"); !ok || w != 0 {
		t.Fatalf("first: %v %v", ok, w)
	}
	ok, w := l.Take("k")
	if ok || w <= 55*time.Second || w > time.Minute {
		t.Fatalf("second: %v %v, want about a minute", ok, w)
	}
}

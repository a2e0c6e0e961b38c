package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

var cheap = HashParams{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

func TestHashAndCheck(t *testing.T) {
	h, err := NewHasher(cheap, 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		pw, enc string
		want    bool
	}{
		{"correct horse", enc, true},
		{"wrong horse", enc, false},
		{"correct horse", "", false}, // unknown account: the dummy is checked
	} {
		ok, err := h.Check(ctx, tt.pw, tt.enc)
		if err != nil || ok != tt.want {
			t.Fatalf("Check(%q) = %v, %v; want %v", tt.pw, ok, err, tt.want)
		}
	}
}

// With every slot taken, a hash waits rather than running, and gives up
// when its request does: a login storm queues instead of exhausting memory.
func TestHashingIsBounded(t *testing.T) {
	h, err := NewHasher(cheap, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.slots.Acquire(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "password"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash with no free slot: %v, want deadline exceeded", err)
	}
	h.slots.Release(1)
	if _, err := h.Hash(context.Background(), "password"); err != nil {
		t.Fatalf("Hash with a free slot: %v", err)
	}
}

func TestBearerToken(t *testing.T) {
	for in, want := range map[string]string{
		"Bearer mall_abc":   "mall_abc",
		"bearer  mall_abc ": "mall_abc",
		"Basic xyz":         "",
		"mall_abc":          "",
		"":                  "",
	} {
		if got := BearerToken(in); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTokensAreRandomAndHashed(t *testing.T) {
	a, ha := newToken()
	b, hb := newToken()
	if a == b || string(ha) == string(hb) || len(a) < len(tokenPrefix)+43 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if string(hashToken(a)) != string(ha) {
		t.Fatal("hash is not deterministic")
	}
}

func TestTokenCache(t *testing.T) {
	now := time.Unix(0, 0)
	c := &tokenCache{ttl: time.Minute, now: func() time.Time { return now }}
	a := cached{v: &Viewer{MemberID: "mem_a"}}
	b := cached{v: &Viewer{MemberID: "mem_b"}}
	c.fill("a", a, c.generation())
	c.fill("b", b, c.generation())
	if got, ok := c.get("a"); !ok || got.v != a.v {
		t.Fatal("a fresh entry is found")
	}
	c.removeIf(func(x cached) bool { return x.v.MemberID == "mem_a" })
	if _, ok := c.get("a"); ok {
		t.Fatal("removeIf removed a")
	}
	now = now.Add(61 * time.Second)
	if _, ok := c.get("b"); ok {
		t.Fatal("a stale entry is not served")
	}
	c.fill("c", a, c.generation())
	now = now.Add(2 * time.Minute)
	c.sweep()
	n := 0
	c.m.Range(func(any, any) bool { n++; return true })
	if n != 0 {
		t.Fatalf("%d entries left after the sweep", n)
	}
}

// A lookup that began before a removal (a revocation) does not leave what
// it found in the cache, however the two interleave.
func TestTokenCacheFillAfterRemoval(t *testing.T) {
	c := &tokenCache{ttl: time.Minute, now: time.Now}
	v := cached{v: &Viewer{MemberID: "mem_a"}}
	g := c.generation() // the lookup begins and reads the token...
	c.remove("a")       // ...which is revoked, and forgotten...
	c.fill("a", v, g)   // ...before the lookup stores what it read.
	if _, ok := c.get("a"); ok {
		t.Fatal("a token revoked during its lookup was cached")
	}
	g = c.generation()
	c.removeIf(func(cached) bool { return true }) // a member's tokens, say
	c.fill("b", v, g)
	if _, ok := c.get("b"); ok {
		t.Fatal("a token forgotten during its lookup was cached")
	}
	c.fill("c", v, c.generation()) // no removal meanwhile: cached
	if _, ok := c.get("c"); !ok {
		t.Fatal("a lookup with no removal meanwhile was not cached")
	}
}

package changes_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"unionmall/internal/changes"
	"unionmall/internal/gid"
	"unionmall/internal/testdb"
)

func TestWireForm(t *testing.T) {
	for _, tc := range []struct {
		change changes.Change
		wire   string
	}{
		{changes.FlashSale("fls_1"), "fls:fls_1"},
		{changes.LiveEvent("lev_1"), "lev:lev_1"},
		{changes.Stats, "stats"},
		{changes.Token("00ff"), "tok:00ff"},
		{changes.Member("mem_1"), "mem:mem_1"},
	} {
		if got := tc.change.String(); got != tc.wire {
			t.Errorf("%#v.String() = %q, want %q", tc.change, got, tc.wire)
		}
		back, ok := changes.Parse(tc.wire)
		if !ok || back != tc.change {
			t.Errorf("Parse(%q) = %#v, %v; want %#v", tc.wire, back, ok, tc.change)
		}
	}
	for _, unknown := range []string{"", "xyz:1", "fl:1", "sync:abc"} {
		if c, ok := changes.Parse(unknown); ok {
			t.Errorf("Parse(%q) = %#v, want an unknown kind", unknown, c)
		}
	}
}

// recorder is a handler that remembers what it was told.
type recorder struct {
	mu      sync.Mutex
	got     []string
	resyncs int
}

func (r *recorder) handler(name string) changes.Handler {
	return changes.Handler{
		Changed: func(c changes.Change) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.got = append(r.got, name+" "+c.String())
		},
		Resync: func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.resyncs++
		},
	}
}

func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func TestDeliveryToTheKindsHandlersInRegistrationOrder(t *testing.T) {
	reg := changes.New()
	var rec recorder
	reg.On(changes.FlashSaleKind, rec.handler("gate"))
	reg.On(changes.FlashSaleKind, rec.handler("feed"))
	reg.On(changes.StatsKind, rec.handler("totals"))

	reg.Announce(changes.FlashSale("fls_1"), changes.Stats, changes.Member("mem_1"))
	want := []string{"gate fls:fls_1", "feed fls:fls_1", "totals stats"}
	if got := rec.seen(); !slices.Equal(got, want) {
		t.Fatalf("handlers saw %q, want %q", got, want)
	}
	if err := reg.AnnounceSync(context.Background(), changes.Stats); err != nil {
		t.Fatal(err)
	}
	if got := rec.seen(); len(got) != 4 || got[3] != "totals stats" {
		t.Fatalf("AnnounceSync delivered %q", got)
	}
	if !reg.Fresh() {
		t.Error("an instance alone is always fresh")
	}
	if got := reg.Unhandled(); !slices.Equal(got, []changes.Kind{changes.LiveEventKind, changes.TokenKind, changes.MemberKind, changes.OrderKind, changes.CatalogKind}) {
		t.Errorf("Unhandled() = %q", got)
	}
}

func TestANilRegistryAnnouncesNothing(t *testing.T) {
	var reg *changes.Registry
	reg.On(changes.StatsKind, changes.Handler{Changed: func(changes.Change) { t.Error("delivered") }})
	reg.Announce(changes.Stats)
	if err := reg.AnnounceSync(context.Background(), changes.Stats); err != nil {
		t.Fatal(err)
	}
	if !reg.Fresh() {
		t.Error("nil registry not fresh")
	}
}

// Two instances on one PostgreSQL database: a change announced on one
// reaches the other's handlers through the same delivery, and
// AnnounceSync returns only after it did.
func TestAnotherInstancesChangesTakeTheSamePath(t *testing.T) {
	d := testdb.Open(t, "postgres")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var here, there recorder
	a, b := changes.New(), changes.New()
	a.On(changes.TokenKind, here.handler("a"))
	b.On(changes.TokenKind, there.handler("b"))
	a.On(changes.FlashSaleKind, here.handler("a"))
	b.On(changes.FlashSaleKind, there.handler("b"))
	if err := a.Join(ctx, d.URL, d.Pool); err != nil {
		t.Fatal(err)
	}
	other := testdb.Reopen(t, d)
	if err := b.Join(ctx, d.URL, other.Pool); err != nil {
		t.Fatal(err)
	}
	awaitFresh(t, a)
	awaitFresh(t, b)

	if err := a.AnnounceSync(ctx, changes.Token("00ff")); err != nil {
		t.Fatal(err)
	}
	if got := there.seen(); !slices.Contains(got, "b tok:00ff") {
		t.Fatalf("AnnounceSync returned before the other instance handled it: %q", got)
	}
	if got := here.seen(); !slices.Contains(got, "a tok:00ff") {
		t.Fatalf("the announcing instance's own handler did not run: %q", got)
	}

	a.Announce(changes.FlashSale(gid.ID("fls_9")))
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Contains(there.seen(), "b fls:fls_9") {
		if time.Now().After(deadline) {
			t.Fatalf("the other instance never heard of the sale: %q", there.seen())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := count(here.seen(), "a fls:fls_9"); n != 1 {
		t.Errorf("the announcing instance handled its own change %d times, want once", n)
	}
}

func awaitFresh(t *testing.T, r *changes.Registry) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !r.Fresh() {
		if time.Now().After(deadline) {
			t.Fatal("never connected to the other instances")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

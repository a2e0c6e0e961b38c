package gid

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/oklog/ulid/v2"
)

func TestNew(t *testing.T) {
	id := New(Product)
	s := string(id)
	if !strings.HasPrefix(s, "prd_") {
		t.Fatalf("%q does not start with prd_", s)
	}
	rest := strings.TrimPrefix(s, "prd_")
	if len(rest) != 26 {
		t.Fatalf("%q: ULID part has %d characters", s, len(rest))
	}
	if _, err := ulid.ParseStrict(rest); err != nil {
		t.Fatalf("%q: ULID part: %v", s, err)
	}
	if id.Prefix() != Product || !id.Is(Product) || id.Is(Order) {
		t.Errorf("%q: Prefix %q", s, id.Prefix())
	}
}

func TestPrefixAndIs(t *testing.T) {
	good := string(New(Order))
	u := strings.TrimPrefix(good, "ord_")
	for _, c := range []struct {
		name, id, prefix string
	}{
		{"good", good, Order},
		{"another type", "prd_" + u, Product},
		{"empty", "", ""},
		{"no underscore", "ord" + u, ""},
		{"ULID only", u, ""},
		{"prefix only", "ord_", ""},
		{"too short", "ord_" + u[:25], ""},
		{"too long", "ord_" + u + "0", ""},
		{"bad ULID character U", "ord_" + u[:25] + "U", ""},
		{"bad ULID character I", "ord_" + u[:25] + "I", ""},
		{"bad ULID character -", "ord_" + u[:25] + "-", ""},
		{"second underscore", "ord_" + u[:25] + "_", ""},
		{"overflowing ULID", "ord_8" + u[1:], ""}, // 26 base32 characters hold 130 bits, a ULID 128
		{"the largest ULID", "ord_7ZZZZZZZZZZZZZZZZZZZZZZZZZ", Order},
		// Prefix does not check the prefix against the known ones; an
		// unknown one simply names no type.
		{"unknown prefix", "xyz_" + u, "xyz"},
		{"leading space", " ord_" + u, " ord"},
		{"empty prefix", "_" + u, ""},
	} {
		id := ID(c.id)
		if got := id.Prefix(); got != c.prefix {
			t.Errorf("%s: Prefix(%q) = %q, want %q", c.name, c.id, got, c.prefix)
		}
		if c.prefix != "" && !id.Is(c.prefix) {
			t.Errorf("%s: %q is not %q", c.name, c.id, c.prefix)
		}
		if id.Is(Order) != (c.prefix == Order) {
			t.Errorf("%s: Is(%q, Order) = %v", c.name, c.id, id.Is(Order))
		}
	}
}

func TestNewSortsAscending(t *testing.T) {
	prev := New(Member)
	for i := 0; i < 5000; i++ {
		next := New(Member)
		if next <= prev {
			t.Fatalf("ID %d: %q is not after %q", i, next, prev)
		}
		prev = next
	}
}

func TestNewConcurrentDistinct(t *testing.T) {
	const workers, each = 100, 100
	ids := make([][]ID, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				ids[w] = append(ids[w], New(Coupon))
			}
		}()
	}
	wg.Wait()
	seen := make(map[ID]bool, workers*each)
	for _, list := range ids {
		for i, id := range list {
			if seen[id] {
				t.Fatalf("duplicate ID %q", id)
			}
			seen[id] = true
			if !id.Is(Coupon) {
				t.Fatalf("malformed ID %q", id)
			}
			// Each goroutine's own IDs come out in order too.
			if i > 0 && id <= list[i-1] {
				t.Fatalf("%q is not after %q", id, list[i-1])
			}
		}
	}
	if len(seen) != workers*each {
		t.Fatalf("%d distinct IDs, want %d", len(seen), workers*each)
	}
}

func TestGQLAndSQL(t *testing.T) {
	var id ID
	if err := id.UnmarshalGQL("anything"); err != nil || id != "anything" {
		t.Errorf("UnmarshalGQL(string) = %q, %v", id, err)
	}
	if err := id.UnmarshalGQL(1); err == nil {
		t.Error("UnmarshalGQL(1) accepted")
	}
	var b bytes.Buffer
	ID("prd_x").MarshalGQL(&b)
	if b.String() != `"prd_x"` {
		t.Errorf("MarshalGQL = %s", b.String())
	}
	for _, src := range []any{"prd_x", []byte("prd_x")} {
		var s ID
		if err := s.Scan(src); err != nil || s != "prd_x" {
			t.Errorf("Scan(%#v) = %q, %v", src, s, err)
		}
	}
	if err := id.Scan(1); err == nil {
		t.Error("Scan(1) accepted")
	}
	if v, err := ID("prd_x").Value(); err != nil || v != "prd_x" {
		t.Errorf("Value = %v, %v", v, err)
	}
}

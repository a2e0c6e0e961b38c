package respcache

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	_ "github.com/lib/pq"

	"unionmall/internal/changes"
)

// fake is a GraphQL endpoint that answers {"data":{"n":<runs>}} and may
// do something while it runs.
type fake struct {
	runs   atomic.Int64
	during func()
	pad    int
}

func (f *fake) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	n := f.runs.Add(1)
	if f.during != nil {
		f.during()
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"data":{"n":%d,"pad":%q}}`, n, strings.Repeat("x", f.pad))
}

func post(t *testing.T, h http.Handler, query string, vars any) string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Body.String()
}

const page = `{ products(first: 5) { edges { node { id } } } }`

// An answer computed while a change arrived may predate it: it is
// answered but never stored.
func TestAnAnswerOverlappingAChangeIsNotStored(t *testing.T) {
	reg := changes.New()
	c := New(reg, Options{Entries: 10})
	f := &fake{}
	h := c.Wrap(f)
	f.during = func() { reg.Announce(changes.Catalog) }
	post(t, h, page, nil)
	f.during = nil
	post(t, h, page, nil)
	if f.runs.Load() != 2 {
		t.Fatalf("the overlapping answer was stored: %d runs", f.runs.Load())
	}
	post(t, h, page, nil)
	if f.runs.Load() != 2 {
		t.Fatalf("a quiet answer was not stored: %d runs", f.runs.Load())
	}
	for _, k := range Invalidating {
		reg.Announce(changes.Change{Kind: k, ID: "x"})
		post(t, h, page, nil)
		post(t, h, page, nil)
	}
	if want := int64(2 + len(Invalidating)); f.runs.Load() != want {
		t.Fatalf("%d runs, want %d: a kind did not invalidate", f.runs.Load(), want)
	}
}

// Documents that differ only in layout and comments, and variables that
// differ only in key order and spacing, share an entry.
func TestNormalizedKeys(t *testing.T) {
	c := New(changes.New(), Options{Entries: 10})
	f := &fake{}
	h := c.Wrap(f)
	post(t, h, `query($a: Int, $b: Int) { products(first: $a, last: $b) { edges { node { id } } } }`, map[string]any{"a": 1, "b": 2})
	post(t, h, "# a comment\nquery ($a:Int,$b:Int){products(first:$a,last:$b){edges{node{id}}}}", json.RawMessage(`{"b":2, "a":1}`))
	if f.runs.Load() != 1 {
		t.Fatalf("%d runs", f.runs.Load())
	}
	post(t, h, `query($a: Int, $b: Int) { products(first: $a, last: $b) { edges { node { id } } } }`, map[string]any{"a": 1, "b": 3})
	if f.runs.Load() != 2 {
		t.Fatalf("other variables shared an entry")
	}
}

// The cache holds at most its entries and bytes.
func TestBounded(t *testing.T) {
	c := New(changes.New(), Options{Entries: 3, Bytes: 4000})
	f := &fake{pad: 900}
	h := c.Wrap(f)
	for i := range 10 {
		post(t, h, page, map[string]any{"i": i})
		if c.entries.Len() > 3 || c.bytes > 4000 {
			t.Fatalf("%d entries, %d bytes", c.entries.Len(), c.bytes)
		}
	}
	c.Invalidate()
	if c.entries.Len() != 0 || c.bytes != 0 {
		t.Fatalf("after Invalidate: %d entries, %d bytes", c.entries.Len(), c.bytes)
	}
}

func TestPublicQuery(t *testing.T) {
	memo := New(changes.New(), Options{Entries: 10})
	for _, c := range []struct {
		doc, op string
		ok      bool
	}{
		{`{ products(first: 1) { edges { node { id } } } }`, "", true},
		{`{ __typename productCategories { name } counties { id } }`, "", true},
		{`query A { flashSales(first: 1) { edges { node { id } } } } query B { me { id } }`, "A", true},
		{`query A { flashSales(first: 1) { edges { node { id } } } } query B { me { id } }`, "B", false},
		{`query A { liveEvents(first: 1) { edges { node { id } } } } query B { me { id } }`, "", false},
		{`{ ...F } fragment F on Query { ...F }`, "", false},
		{`{ ...G }`, "", false},
		{`query @cached { products(first: 1) { edges { node { id } } } }`, "", false},
		{`subscription { flashSaleStock(id: "x") { remaining } }`, "", false},
		{`{`, "", false},
	} {
		norm, ok := publicQuery(c.doc, c.op)
		if ok != c.ok {
			t.Errorf("%s (%q): %v, want %v", c.doc, c.op, ok, c.ok)
		}
		// The cache's remembered answers are the same, first and again.
		for range 2 {
			if n, k := memo.publicQuery(c.doc, c.op); n != norm || k != ok {
				t.Errorf("remembered %s (%q): %q %v, want %q %v", c.doc, c.op, n, k, norm, ok)
			}
		}
	}
	// The same document under other operation names is told apart.
	two := `query A { products(first: 1) { edges { node { id } } } } query B { me { id } }`
	if _, ok := memo.publicQuery(two, "A"); !ok {
		t.Error("A of two: not public")
	}
	if _, ok := memo.publicQuery(two, "B"); ok {
		t.Error("B of two, after A: public")
	}
}

// While the instance cannot hear the others' changes, nothing is served
// from the cache or stored in it.
func TestDeafInstanceDoesNotCache(t *testing.T) {
	reg := changes.New()
	pool, err := sql.Open("postgres", "host=/nonexistent dbname=none connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if reg.Join(context.Background(), "postgres:///none?host=/nonexistent", pool) == nil || reg.Fresh() {
		t.Fatal("fixture: the registry should be deaf")
	}
	c := New(reg, Options{Entries: 10})
	f := &fake{}
	h := c.Wrap(f)
	post(t, h, page, nil)
	post(t, h, page, nil)
	if f.runs.Load() != 2 {
		t.Fatalf("a deaf instance cached: %d runs", f.runs.Load())
	}
}

package respcache

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"unionmall/internal/changes"
)

// BenchmarkHit is one cached answer of the storefront's products page (the
// query mallbench catalog sends, a 5 KB answer): what a hit costs beyond
// net/http.
func BenchmarkHit(b *testing.B) {
	const q = `{ products(first: 20) { totalCount edges { node { id name salePrice category supplier { name county { name } } county { name } } } } }`
	h := New(changes.New(), Options{Entries: 10}).Wrap(&fake{pad: 5000})
	body, _ := json.Marshal(map[string]any{"query": q})
	serve := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	first := serve().Body.String()
	b.ReportAllocs()
	for b.Loop() {
		if w := serve(); w.Body.Len() != len(first) {
			b.Fatalf("a miss: %s", w.Body)
		}
	}
}

package respcache

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/klauspost/compress/gzhttp"

	"unionmall/internal/changes"
)

// BenchmarkHit is one cached answer of the storefront's products page (the
// query mallbench catalog sends, a 5 KB answer): what a hit costs beyond
// net/http.
func BenchmarkHit(b *testing.B) { benchmarkHit(b, "") }

// BenchmarkHitGzip is a hit asked for gzip, as browsers ask.
func BenchmarkHitGzip(b *testing.B) { benchmarkHit(b, "gzip, deflate, br, zstd") }

func benchmarkHit(b *testing.B, acceptEncoding string) {
	const q = `{ products(first: 20) { totalCount edges { node { id name salePrice category supplier { name county { name } } county { name } } } } }`
	// Inside gzhttp, as internal/server serves it.
	zip, err := gzhttp.NewWrapper(gzhttp.PreferZstd(false))
	if err != nil {
		b.Fatal(err)
	}
	h := zip(New(changes.New(), Options{Entries: 10}).Wrap(&fake{pad: 5000}))
	body, _ := json.Marshal(map[string]any{"query": q})
	serve := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if acceptEncoding != "" {
			r.Header.Set("Accept-Encoding", acceptEncoding)
		}
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

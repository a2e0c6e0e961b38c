package respcache

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"unionmall/internal/changes"
)

// A cached answer is served gzip-encoded to whoever asks for gzip as
// gzhttp would choose it, and plain to everyone else; small answers stay
// plain.
func TestCachedAnswersKeepTheirGzip(t *testing.T) {
	c := New(changes.New(), Options{Entries: 10})
	f := &fake{pad: 3000}
	h := c.Wrap(f)
	get := func(ae string) *httptest.ResponseRecorder {
		b, _ := json.Marshal(map[string]any{"query": page})
		r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
		if ae != "" {
			r.Header.Set("Accept-Encoding", ae)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	plain := get("").Body.String()
	for _, ae := range []string{"gzip", "gzip, deflate, br, zstd", "br;q=1, gzip;q=0.8"} {
		for range 2 {
			w := get(ae)
			zr, err := gzip.NewReader(w.Body)
			if w.Header().Get("Content-Encoding") != "gzip" || err != nil {
				t.Fatalf("%q: %v %v", ae, w.Header(), err)
			}
			if b, err := io.ReadAll(zr); err != nil || string(b) != plain {
				t.Fatalf("%q: decoded %v %.80s", ae, err, b)
			}
		}
	}
	for _, ae := range []string{"identity", "gzip;q=0", "zstd", "zstd, gzip;q=0.5", "*"} {
		if w := get(ae); w.Header().Get("Content-Encoding") != "" || w.Body.String() != plain {
			t.Errorf("%q: %v %.80s", ae, w.Header(), w.Body)
		}
	}
	if f.runs.Load() != 1 {
		t.Errorf("%d computations", f.runs.Load())
	}
	small := New(changes.New(), Options{Entries: 10}).Wrap(&fake{})
	b, _ := json.Marshal(map[string]any{"query": page})
	for range 2 {
		r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept-Encoding", "gzip")
		w := httptest.NewRecorder()
		small.ServeHTTP(w, r)
		if w.Header().Get("Content-Encoding") != "" {
			t.Fatalf("a small answer encoded: %v", w.Header())
		}
	}
}

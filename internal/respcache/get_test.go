package respcache_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// TestGETAnswersForACDN: persisted-query GETs get an ETag and a short
// public max-age, If-None-Match a 304, and everything else no-store.
func TestGETAnswersForACDN(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{ResponseCache: 100, NoWorkers: true})
		id := m.NewProduct("10.00", 5)
		q := `query Page($n: Int) { products(first: $n) { edges { node { id price } } } }`
		ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + sha(q) + `"}}`
		vars := map[string]any{"n": 10}

		// Registration: the query with its hash.
		first := send(t, m, http.MethodGet, q, vars, nil, url.Values{"extensions": {ext}})
		etag := first.header.Get("ETag")
		if first.status != http.StatusOK || etag == "" || first.header.Get("Cache-Control") != "public, max-age=1" ||
			!strings.Contains(strings.Join(first.header.Values("Vary"), ","), "Authorization") || !strings.Contains(first.body, id) {
			t.Fatalf("first GET: %d %v %s", first.status, first.header, first.body)
		}
		// The hash alone, the variables' JSON written differently: a hit.
		h := hits(m)
		byHash := send(t, m, http.MethodGet, "", nil, nil, url.Values{"extensions": {ext}, "variables": {`{ "n" : 10 }`}})
		if byHash.body != first.body || byHash.header.Get("ETag") != etag || hits(m) != h+1 {
			t.Fatalf("by hash: %d %v %s", byHash.status, byHash.header, byHash.body)
		}
		// Revalidation.
		notModified := send(t, m, http.MethodGet, "", vars, map[string]string{"If-None-Match": etag}, url.Values{"extensions": {ext}})
		if notModified.status != http.StatusNotModified || notModified.body != "" || notModified.header.Get("ETag") != etag {
			t.Fatalf("If-None-Match: %d %v %q", notModified.status, notModified.header, notModified.body)
		}
		// A change: the old ETag no longer matches.
		m.MustDo(m.Admin, `mutation($id: ID!) { updateProduct(id: $id, input: {price: "11.00"}) { id } }`, map[string]any{"id": id}, nil)
		changed := send(t, m, http.MethodGet, "", vars, map[string]string{"If-None-Match": etag}, url.Values{"extensions": {ext}})
		if changed.status != http.StatusOK || changed.header.Get("ETag") == etag || !strings.Contains(changed.body, `"11.00"`) {
			t.Fatalf("after a change: %d %v %s", changed.status, changed.header, changed.body)
		}
		// A member's GET, and a cacheable POST: not for shared caches.
		member := send(t, m, http.MethodGet, q, vars, map[string]string{"Authorization": "Bearer " + m.Admin}, nil)
		if member.header.Get("Cache-Control") != "no-store" || member.header.Get("ETag") != "" {
			t.Fatalf("member's GET: %v", member.header)
		}
		if post := send(t, m, http.MethodPost, q, vars, nil, nil); post.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("POST: %v", post.header)
		}
		// A page big enough to be compressed (gzhttp's 1 KB minimum).
		servertest.SeedCatalogue(t, m, 20)
		for range 2 {
			big := send(t, m, http.MethodGet, q, map[string]any{"n": 30}, map[string]string{"Accept-Encoding": "gzip"}, nil)
			if big.status != http.StatusOK || big.header.Get("Content-Encoding") != "gzip" || big.header.Get("ETag") == "" {
				t.Fatalf("compressed: %d %v", big.status, big.header)
			}
			zr, err := gzip.NewReader(strings.NewReader(big.body))
			if err != nil {
				t.Fatal(err)
			}
			if b, err := io.ReadAll(zr); err != nil || !strings.Contains(string(b), `"products"`) {
				t.Fatalf("compressed body: %v %.100s", err, b)
			}
		}
		// Other endpoints' answers keep their own headers.
		res, err := m.HTTP.Client().Get(m.HTTP.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.Header.Get("ETag") != "" {
			t.Fatalf("healthz: %v", res.Header)
		}
	})
}

package respcache_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// With trusted documents only, a documentId's answer is cached, and no
// text that the server refuses is answered from the cache.
func TestTrustedDocumentsAreCachedByID(t *testing.T) {
	const cats = "query Cats { productCategories { category name } }"
	manifest, _ := json.Marshal(map[string]string{sha(cats): cats,
		sha("mutation($i: LoginInput!) { login(input: $i) { token } }"): "mutation($i: LoginInput!) { login(input: $i) { token } }"})
	path := filepath.Join(t.TempDir(), "persisted-documents.json")
	if err := os.WriteFile(path, manifest, 0o600); err != nil {
		t.Fatal(err)
	}
	m := servertest.Start(t, testdb.Open(t, "sqlite"), servertest.Options{NoWorkers: true, ResponseCache: 10, TrustedDocuments: path})
	byID := url.Values{"documentId": {"sha256:" + sha(cats)}}
	first := send(t, m, http.MethodGet, "", nil, nil, byID)
	h := hits(m)
	second := send(t, m, http.MethodGet, "", nil, nil, byID)
	if first.status != http.StatusOK || second.body != first.body || hits(m) != h+1 || second.header.Get("ETag") == "" {
		t.Fatalf("documentId: %d %s, then hits %d→%d %v", first.status, first.body, h, hits(m), second.header)
	}
	for range 2 {
		if a := send(t, m, http.MethodGet, "query Cats {productCategories {category name}}", nil, nil, nil); !strings.Contains(a.body, "errors") {
			t.Fatalf("a text not in the manifest was answered: %s", a.body)
		}
		if a := send(t, m, http.MethodGet, cats, nil, nil, nil); a.body != first.body {
			t.Fatalf("the manifest's text: %s", a.body)
		}
	}
}

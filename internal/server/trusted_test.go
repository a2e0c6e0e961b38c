package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"unionmall/internal/auth"
	"unionmall/internal/server"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

func TestTrustedDocuments(t *testing.T) {
	const (
		cats  = "query Cats { productCategories { category name } }"
		stats = "subscription Stats { platformStatsUpdated { members } }"
	)
	hash := func(doc string) string { s := sha256.Sum256([]byte(doc)); return hex.EncodeToString(s[:]) }
	// servertest.Start signs the ADMIN in with this raw query: in the
	// manifest, its text runs.
	const login = "mutation($i: LoginInput!) { login(input: $i) { token } }"
	manifest, _ := json.Marshal(map[string]string{hash(cats): cats, hash(stats): stats, hash(login): login})
	path := filepath.Join(t.TempDir(), "persisted-documents.json")
	if err := os.WriteFile(path, manifest, 0o600); err != nil {
		t.Fatal(err)
	}
	d := testdb.Open(t, "sqlite") // transport behaviour: one database kind is enough
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true, TrustedDocuments: path})

	post := func(body string) *servertest.Response {
		t.Helper()
		var r servertest.Response
		res := request(t, m, http.MethodPost, "/graphql", "", strings.NewReader(body), 0)
		if err := json.Unmarshal(res.body, &r); err != nil {
			t.Fatalf("%d %s", res.status, res.body)
		}
		return &r
	}
	get := func(params url.Values) *servertest.Response {
		t.Helper()
		var r servertest.Response
		res := request(t, m, http.MethodGet, "/graphql?"+params.Encode(), "", nil, 0)
		if err := json.Unmarshal(res.body, &r); err != nil {
			t.Fatalf("%d %s", res.status, res.body)
		}
		return &r
	}
	ok := func(name string, r *servertest.Response) {
		t.Helper()
		if len(r.Errors) > 0 || !strings.Contains(string(r.Data), "陕茶茗品") {
			t.Errorf("%s: errors %+v, data %s", name, r.Errors, r.Data)
		}
	}
	refused := func(name string, r *servertest.Response, code string) {
		t.Helper()
		if r.Code() != code || (len(r.Data) > 0 && string(r.Data) != "null") {
			t.Errorf("%s: code %q (want %s), data %s", name, r.Code(), code, r.Data)
		}
	}
	ext := func(h string) string { return `{"persistedQuery":{"version":1,"sha256Hash":"` + h + `"}}` }

	ok("POST documentId", post(`{"documentId":"`+hash(cats)+`"}`))
	ok("POST documentId with sha256: prefix", post(`{"documentId":"sha256:`+hash(cats)+`","operationName":"Cats"}`))
	ok("POST persistedQuery", post(`{"extensions":`+ext(hash(cats))+`}`))
	ok("POST the manifest's text", post(`{"query":"`+cats+`"}`))
	ok("GET documentId", get(url.Values{"documentId": {hash(cats)}}))
	ok("GET persistedQuery", get(url.Values{"extensions": {ext(hash(cats))}}))

	refused("POST unknown documentId", post(`{"documentId":"`+hash("{ me { id } }")+`"}`), "PERSISTED_QUERY_NOT_FOUND")
	refused("GET unknown documentId", get(url.Values{"documentId": {"abc"}}), "PERSISTED_QUERY_NOT_FOUND")
	refused("POST a raw query", post(`{"query":"{ me { id } }"}`), "PERSISTED_QUERY_REQUIRED")
	refused("GET a raw query", get(url.Values{"query": {"{ productCategories { name } }"}}), "PERSISTED_QUERY_REQUIRED")
	refused("introspection", post(`{"query":"{ __schema { types { name } } }"}`), "PERSISTED_QUERY_REQUIRED")
	refused("APQ cannot register a document", post(`{"query":"{ me { id } }","extensions":`+ext(hash("{ me { id } }"))+`}`), "PERSISTED_QUERY_NOT_FOUND")
	refused("a query beside another document's id", post(`{"query":"{ me { id } }","documentId":"`+hash(cats)+`"}`), "PERSISTED_QUERY_REQUIRED")

	t.Run("websocket", func(t *testing.T) {
		ws, err := servertest.DialWS(m.HTTP.URL, servertest.TransportWS, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		send := func(id string, payload map[string]any) {
			if err := ws.Conn.WriteJSON(map[string]any{"id": id, "type": "subscribe", "payload": payload}); err != nil {
				t.Fatal(err)
			}
		}
		send("raw", map[string]any{"query": "subscription { platformStatsUpdated { verifiedMembers } }"})
		id, res, err := ws.Next(10 * time.Second)
		if err != nil || id != "raw" || len(res.Errors) == 0 || res.Errors[0].Extensions["code"] != "PERSISTED_QUERY_REQUIRED" {
			t.Fatalf("raw subscription: %s %+v %v", id, res, err)
		}
		send("trusted", map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash(stats)}}})
		id, res, err = ws.Next(10 * time.Second)
		if err != nil || id != "trusted" || len(res.Errors) > 0 || !strings.Contains(string(res.Data), "members") {
			t.Fatalf("trusted subscription: %s %+v %v", id, res, err)
		}
	})
}

func TestTrustedDocumentsManifestChecked(t *testing.T) {
	d := testdb.Open(t, "sqlite")
	dir := t.TempDir()
	for name, body := range map[string]string{"empty.json": `{}`, "list.json": `[]`, "broken.json": `{"a":`} {
		p := filepath.Join(dir, name)
		_ = os.WriteFile(p, []byte(body), 0o600)
		if _, err := newServer(d, p); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, err := newServer(d, filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing manifest accepted")
	}
}

func newServer(d *testdb.DB, trusted string) (*server.Server, error) {
	return server.New(d.DB, server.Options{
		TokenTTL: time.Hour, PaymentWindow: 15 * time.Minute,
		SecretKey:        []byte("test-secret-key-of-some-length"),
		HashParams:       auth.HashParams{MemoryKiB: 64, Iterations: 1, Parallelism: 1},
		TrustedDocuments: trusted,
	})
}

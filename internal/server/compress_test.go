package server_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// fetch sends a request with Accept-Encoding set by hand (so Go's client
// does not decode it) and returns the answer and its raw body.
func fetch(t *testing.T, m *servertest.Mall, method, path, encoding, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, m.HTTP.URL+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	res, err := m.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCompression(t *testing.T) {
	d := testdb.Open(t, "sqlite") // transport behaviour: one database kind is enough
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	// Large enough to pass the 1 KB minimum: the schema's type names.
	query := `{"query":"{ __schema { types { name description } } }"}`

	t.Run("GraphQL answer, gzip", func(t *testing.T) {
		_, plain := fetch(t, m, http.MethodPost, "/graphql", "", query)
		res, zipped := fetch(t, m, http.MethodPost, "/graphql", "gzip", query)
		if res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("headers %v", res.Header)
		}
		if got := gunzip(t, zipped); !bytes.Equal(got, plain) || len(zipped) >= len(plain) {
			t.Fatalf("gzip body (%d bytes) decodes to %d bytes, plain %d", len(zipped), len(got), len(plain))
		}
	})
	t.Run("GraphQL answer over GET, gzip preferred, zstd when it is all the client takes", func(t *testing.T) {
		path := "/graphql?query=" + strings.ReplaceAll("{ __schema { types { name description } } }", " ", "%20")
		_, plain := fetch(t, m, http.MethodGet, path, "", "")
		if res, _ := fetch(t, m, http.MethodGet, path, "gzip, deflate, br, zstd", ""); res.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("offered gzip and zstd: headers %v", res.Header)
		}
		res, packed := fetch(t, m, http.MethodGet, path, "zstd", "")
		if res.Header.Get("Content-Encoding") != "zstd" {
			t.Fatalf("headers %v", res.Header)
		}
		dec, err := zstd.NewReader(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer dec.Close()
		got, err := dec.DecodeAll(packed, nil)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("zstd body decodes to %d bytes (%v), plain %d", len(got), err, len(plain))
		}
	})
	t.Run("GraphiQL's script shrinks", func(t *testing.T) {
		_, plain := fetch(t, m, http.MethodGet, "/static/graphiql-3.9.0.min.js", "", "")
		res, zipped := fetch(t, m, http.MethodGet, "/static/graphiql-3.9.0.min.js", "gzip", "")
		if res.Header.Get("Content-Encoding") != "gzip" || len(plain) < 900_000 || len(zipped) > len(plain)/3 {
			t.Fatalf("script: %d bytes plain, %d gzipped (%v)", len(plain), len(zipped), res.Header)
		}
		if !bytes.Equal(gunzip(t, zipped), plain) {
			t.Fatal("the gzipped script is not the script")
		}
	})
	t.Run("small answers and clients without gzip stay plain", func(t *testing.T) {
		if res, _ := fetch(t, m, http.MethodPost, "/graphql", "gzip", `{"query":"{ __typename }"}`); res.Header.Get("Content-Encoding") != "" {
			t.Fatalf("a tiny answer was compressed: %v", res.Header)
		}
		if res, _ := fetch(t, m, http.MethodPost, "/graphql", "identity", query); res.Header.Get("Content-Encoding") != "" {
			t.Fatalf("compressed for a client that did not ask: %v", res.Header)
		}
	})
	t.Run("websocket upgrade untouched", func(t *testing.T) {
		ws, err := servertest.DialWS(m.HTTP.URL, "graphql-transport-ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		ws.Close()
	})
}

package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

type httpResult struct {
	status      int
	contentType string
	body        []byte
}

func request(t testing.TB, m *servertest.Mall, method, path, token string, body io.Reader, contentLength int64) httpResult {
	t.Helper()
	req, err := http.NewRequest(method, m.HTTP.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentLength != 0 {
		req.ContentLength = contentLength
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
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
	return httpResult{res.StatusCode, res.Header.Get("Content-Type"), b}
}

// gqlErrors decodes a body as a GraphQL response with errors.
func gqlErrors(t testing.TB, r httpResult) servertest.Response {
	t.Helper()
	var out servertest.Response
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("body is not a GraphQL response (%d): %.300s", r.status, r.body)
	}
	return out
}

func TestHTTPEndpoints(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		mem := m.Register("会员")

		t.Run("GET query", func(t *testing.T) {
			r := request(t, m, http.MethodGet, "/graphql?query="+url.QueryEscape("{ __typename }"), "", nil, 0)
			if r.status != http.StatusOK || string(r.body) != `{"data":{"__typename":"Query"}}` {
				t.Fatalf("%d %s", r.status, r.body)
			}
			r = request(t, m, http.MethodGet, "/graphql?query="+url.QueryEscape("{ me { id } }"), mem.Token, nil, 0)
			if r.status != http.StatusOK || string(r.body) != `{"data":{"me":{"id":"`+mem.ID+`"}}}` {
				t.Fatalf("GET me: %d %s", r.status, r.body)
			}
		})
		t.Run("GET mutation", func(t *testing.T) {
			counties, tokens := servertest.Rows(t, d, "counties"), servertest.Rows(t, d, "auth_tokens")
			for _, c := range []struct{ token, query string }{
				{m.Admin, `mutation { createCounty(input: {name: "经GET", city: "西安市", povertyStatus: LIFTED}) { id } }`},
				{mem.Token, `mutation { logout }`},
				{"", `mutation { registerMember(input: {phone: "13811112222", password: "password-x", displayName: "x"}) { token } }`},
			} {
				r := request(t, m, http.MethodGet, "/graphql?query="+url.QueryEscape(c.query), c.token, nil, 0)
				if r.status == http.StatusOK || r.status >= 500 {
					t.Errorf("%s: status %d", c.query, r.status)
				}
				if out := gqlErrors(t, r); len(out.Errors) == 0 || (len(out.Data) > 0 && string(out.Data) != "null") {
					t.Errorf("%s: %s", c.query, r.body)
				}
			}
			if servertest.Rows(t, d, "counties") != counties || servertest.Rows(t, d, "auth_tokens") != tokens || servertest.MeID(t, m, mem.Token) != mem.ID {
				t.Fatal("a mutation over GET was executed")
			}
		})
		t.Run("GraphiQL", func(t *testing.T) {
			r := request(t, m, http.MethodGet, "/", "", nil, 0)
			if r.status != http.StatusOK || !strings.HasPrefix(r.contentType, "text/html") ||
				!strings.Contains(strings.ToLower(string(r.body)), "<html") {
				t.Fatalf("GET /: %d %s %.100s", r.status, r.contentType, r.body)
			}
			if strings.Contains(string(r.body), "//cdn.") || strings.Contains(string(r.body), "unpkg.com") {
				t.Fatal("GraphiQL loads from a CDN")
			}
		})
		t.Run("health", func(t *testing.T) {
			r := request(t, m, http.MethodGet, "/healthz", "", nil, 0)
			if r.status != http.StatusOK {
				t.Fatalf("healthz: %d %s", r.status, r.body)
			}
			r = request(t, m, http.MethodGet, "/readyz", "", nil, 0)
			var ready struct{ Status string }
			if r.status != http.StatusOK || json.Unmarshal(r.body, &ready) != nil || ready.Status != "ready" {
				t.Fatalf("readyz: %d %s", r.status, r.body)
			}
		})
		t.Run("body too large", func(t *testing.T) {
			members := servertest.Rows(t, d, "members")
			big := `{"query":"mutation { registerMember(input: {phone: \"13811113333\", password: \"password-y\", displayName: \"` +
				strings.Repeat("长", 1<<20) + `\"}) { token } }"}` // about 3 MiB
			r := request(t, m, http.MethodPost, "/graphql", "", strings.NewReader(big), int64(len(big)))
			if r.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413", r.status)
			}
			if out := gqlErrors(t, r); out.Code() == "" {
				t.Fatalf("413 without a code: %s", r.body)
			}
			twoMiB := `{"query":"{ __typename }","pad":"` + strings.Repeat("a", 2<<20) + `"}`
			r = request(t, m, http.MethodPost, "/graphql", "", strings.NewReader(twoMiB), int64(len(twoMiB)))
			if r.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("2 MiB: status %d, want 413", r.status)
			}
			// Without a declared length (chunked), the same.
			r = request(t, m, http.MethodPost, "/graphql", "", io.MultiReader(strings.NewReader(big)), -1)
			if r.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("chunked: status %d, want 413", r.status)
			}
			if servertest.Rows(t, d, "members") != members {
				t.Fatal("a member was registered")
			}
		})
		t.Run("malformed body", func(t *testing.T) {
			for _, body := range []string{
				`{"query": `,
				`not json`,
				``,
				`{"query": 5}`,
				`{"query": "{ __typename }", "variables": "x"}`,
				`[{"query": "{ __typename }"}]`,
				`{"query": "mutation($i: LoginInput!) { login(input: $i) { token } }", "variables": {"i": {"phone": "13800000000", "password": "hunter2-secret"}`,
			} {
				r := request(t, m, http.MethodPost, "/graphql", "", strings.NewReader(body), 0)
				if r.status >= 500 || r.status == http.StatusOK {
					t.Errorf("%q: status %d", body, r.status)
				}
				out := gqlErrors(t, r)
				if len(out.Errors) == 0 || out.Code() == "" {
					t.Errorf("%q: no error code: %s", body, r.body)
				}
				if strings.Contains(string(r.body), "hunter2-secret") {
					t.Errorf("the response quotes the body: %s", r.body)
				}
			}
		})
		t.Run("parse and validation errors", func(t *testing.T) {
			for q, code := range map[string]string{
				`{ products { `:                             "GRAPHQL_PARSE_FAILED",
				`{ products { totalCount nope } }`:          "GRAPHQL_VALIDATION_FAILED",
				`{ products(first: "ten") { totalCount } }`: "GRAPHQL_VALIDATION_FAILED",
			} {
				r := m.Do("", q, nil)
				servertest.WantCode(t, r, code)
				if r.Status >= 500 {
					t.Fatalf("%s: status %d", q, r.Status)
				}
			}
		})
	})
}

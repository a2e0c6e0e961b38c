package respcache_test

import (
	"net/http"
	"strings"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// TestNothingViewerDependentIsCached tries hard to make the cache store
// or serve an answer that depends on who asks.
func TestNothingViewerDependentIsCached(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{ResponseCache: 100, NoWorkers: true})
		shown := m.NewProduct("10.00", 5)
		hidden := m.NewProduct("20.00", 5)
		m.MustDo(m.Admin, `mutation($id: ID!) { updateProduct(id: $id, input: {onSale: false}) { id } }`, map[string]any{"id": hidden}, nil)
		member := m.Verified("会员")
		products := `{ products(first: 50) { edges { node { id } } } }`
		me := map[string]string{"Authorization": "Bearer " + member.Token}
		admin := map[string]string{"Authorization": "Bearer " + m.Admin}

		for _, c := range []struct {
			name, query, op string
			hdr             map[string]string
		}{
			{"a member's token", products, "", me},
			{"the admin's token", products, "", admin},
			{"a token that is no longer valid", products, "", map[string]string{"Authorization": "Bearer nonsense"}},
			{"a cookie", products, "", map[string]string{"Cookie": "session=abc"}},
			{"me", `{ me { id } }`, "", nil},
			{"myOrders", `{ myOrders(first: 5) { edges { node { id } } } }`, "", nil},
			{"cart", `{ cart { __typename } }`, "", nil},
			{"quote", `{ quote { __typename } }`, "", nil},
			{"platformStats", `{ platformStats { __typename } }`, "", nil},
			{"public and private root fields", `{ products(first: 1) { edges { node { id } } } me { id } }`, "", nil},
			{"a private field aliased as a public one", `{ products: me { id } }`, "", nil},
			{"a fragment hiding me", `query { ...F } fragment F on Query { me { id } }`, "", nil},
			{"a fragment beside public fields", `query { products(first: 1) { edges { node { id } } } ...F } fragment F on Query { me { id } }`, "", nil},
			{"an inline fragment", `{ ... on Query { me { id } } }`, "", nil},
			{"introspection", `{ __schema { queryType { name } } }`, "", nil},
			{"a type's introspection", `{ __type(name: "Product") { name } }`, "", nil},
			{"the private operation of two", `query Pub { products(first: 1) { edges { node { id } } } } query Priv { me { id } }`, "Priv", nil},
			{"two operations without a name", `query Pub { products(first: 1) { edges { node { id } } } } query Priv { me { id } }`, "", nil},
			{"a mutation", `mutation { logout }`, "", nil},
			{"an answer with errors", `{ products(first: 1) { edges { node { nope } } } }`, "", nil},
			{"@defer", `{ products(first: 1) { edges { node { id ... @defer { name } } } } }`, "", nil},
		} {
			for range 2 {
				before := hits(m)
				a := sendOp(t, m, c.query, c.op, c.hdr)
				if hits(m) != before || a.header.Get("Cache-Control") != "no-store" || a.header.Get("ETag") != "" {
					t.Fatalf("%s: hits %d→%d, Cache-Control %q, ETag %q: %s", c.name, before, hits(m),
						a.header.Get("Cache-Control"), a.header.Get("ETag"), a.body)
				}
			}
		}

		// The anonymous page is cached; the admin's, with the product off
		// sale, is neither taken from it nor put in it.
		anonPage := anon(t, m, products)
		if !strings.Contains(anonPage.body, shown) || strings.Contains(anonPage.body, hidden) {
			t.Fatalf("anonymous page: %s", anonPage.body)
		}
		for range 2 {
			a := send(t, m, http.MethodPost, products, nil, admin, nil)
			if !strings.Contains(a.body, hidden) {
				t.Fatalf("the admin was served the anonymous page: %s", a.body)
			}
			if a := send(t, m, http.MethodPost, products, nil, me, nil); strings.Contains(a.body, hidden) || a.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("member: %s %v", a.body, a.header)
			}
		}
		h := hits(m)
		if again := anon(t, m, products); again.body != anonPage.body || hits(m) != h+1 {
			t.Fatalf("the anonymous page was not served from the cache, or changed: %s", again.body)
		}
		// node: the admin sees the hidden product, anonymous callers never.
		node := `query($id: ID!) { node(id: $id) { id } }`
		vars := map[string]any{"id": hidden}
		for range 2 {
			if a := send(t, m, http.MethodPost, node, vars, nil, nil); strings.Contains(a.body, hidden) {
				t.Fatalf("anonymous node: %s", a.body)
			}
			if a := send(t, m, http.MethodPost, node, vars, admin, nil); !strings.Contains(a.body, hidden) {
				t.Fatalf("admin node: %s", a.body)
			}
		}
	})
}

// TestKeyHasLanguageAndMediaType: answers differ by language (messages)
// and by media type (status, Content-Type), so each is an entry of its own.
func TestKeyHasLanguageAndMediaType(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{ResponseCache: 100, NoWorkers: true})
		m.NewProduct("10.00", 5)
		q := `{ products(first: 5) { edges { node { id name } } } }`
		for _, c := range []struct {
			hdr       map[string]string
			ctype     string
			wantHit   bool
			sameAsKey string
		}{
			{map[string]string{"Accept-Language": "zh-CN"}, "application/json", false, ""},
			{map[string]string{"Accept-Language": "zh-CN"}, "application/json", true, ""},
			{nil, "application/json", true, ""}, // Chinese is the default
			{map[string]string{"Accept-Language": "en"}, "application/json", false, ""},
			{map[string]string{"Accept-Language": "en-US,en;q=0.9"}, "application/json", true, ""},
			{map[string]string{"Accept": "application/graphql-response+json"}, "application/graphql-response+json", false, ""},
			{map[string]string{"Accept": "application/graphql-response+json"}, "application/graphql-response+json", true, ""},
			{map[string]string{"Accept": "application/json"}, "application/json", false, ""},
		} {
			h := hits(m)
			a := send(t, m, http.MethodPost, q, nil, c.hdr, nil)
			if got := hits(m) == h+1; got != c.wantHit || !strings.HasPrefix(a.header.Get("Content-Type"), c.ctype) {
				t.Fatalf("%v: hit %v, Content-Type %q", c.hdr, got, a.header.Get("Content-Type"))
			}
		}
	})
}

func sendOp(t *testing.T, m *servertest.Mall, query, op string, hdr map[string]string) answer {
	t.Helper()
	if op == "" {
		return send(t, m, http.MethodPost, query, nil, hdr, nil)
	}
	return sendJSON(t, m, map[string]any{"query": query, "operationName": op}, hdr)
}

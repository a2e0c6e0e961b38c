package respcache_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"unionmall/internal/changes"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// The cache end to end: real HTTP on both databases. Hits are proven by
// the counting database (no statement at all) and the cache's counters.

const productsQuery = `query Page { products(first: 50) { edges { node { id name price stock } } } }`

type answer struct {
	status int
	header http.Header
	body   string
}

// send sends one request to /graphql: a POST of query and vars, or with
// get a GET of the given URL parameters (query may then be empty).
func send(t *testing.T, m *servertest.Mall, method, query string, vars map[string]any, hdr map[string]string, params url.Values) answer {
	t.Helper()
	var req *http.Request
	if method == http.MethodGet {
		if params == nil {
			params = url.Values{}
		}
		if query != "" {
			params.Set("query", query)
		}
		if vars != nil {
			b, _ := json.Marshal(vars)
			params.Set("variables", string(b))
		}
		req, _ = http.NewRequest(method, m.HTTP.URL+"/graphql?"+params.Encode(), nil)
	} else {
		b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, _ = http.NewRequest(method, m.HTTP.URL+"/graphql", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
	}
	return do(t, m, req, hdr)
}

// do sends req with the headers hdr and reads the whole answer.
func do(t *testing.T, m *servertest.Mall, req *http.Request, hdr map[string]string) answer {
	t.Helper()
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := m.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, string(b)}
}

func anon(t *testing.T, m *servertest.Mall, query string) answer {
	t.Helper()
	return send(t, m, http.MethodPost, query, nil, nil, nil)
}

func hits(m *servertest.Mall) int64 {
	h, _ := m.Server.ResponseCache.Stats()
	return h
}

// price is the product's price in a products page.
func productOf(t *testing.T, body, id string) map[string]any {
	t.Helper()
	var out struct {
		Data struct {
			Products struct {
				Edges []struct{ Node map[string]any }
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	for _, e := range out.Data.Products.Edges {
		if e.Node["id"] == id {
			return e.Node
		}
	}
	return nil
}

// cachedPage asks twice and checks the second came from the cache: no
// statement ran and the hit counter moved.
func cachedPage(t *testing.T, m *servertest.Mall, c *testdb.Counter) string {
	t.Helper()
	first := anon(t, m, productsQuery)
	h := hits(m)
	if c != nil {
		c.Reset()
	}
	second := anon(t, m, productsQuery)
	if second.body != first.body || hits(m) != h+1 || (c != nil && c.Count() != 0) {
		t.Fatalf("second read not from the cache: hits %d→%d", h, hits(m))
	}
	return second.body
}

func TestChangesDropCachedAnswers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		o := servertest.Options{ResponseCache: 100, NoWorkers: true}
		var c *testdb.Counter
		if d.Name == "sqlite" { // PostgreSQL's purchases need what the counting Tx lacks
			o.DB, c = d.Counted()
		}
		m := servertest.Start(t, d, o)
		id := m.NewProduct("10.00", 10)
		if p := productOf(t, cachedPage(t, m, c), id); p["price"] != "10.00" || p["stock"] != 10.0 {
			t.Fatalf("product %v", p)
		}

		// An admin's price change.
		m.MustDo(m.Admin, `mutation($id: ID!) { updateProduct(id: $id, input: {price: "12.00"}) { id } }`, map[string]any{"id": id}, nil)
		if p := productOf(t, cachedPage(t, m, c), id); p["price"] != "12.00" {
			t.Fatalf("after the price change: %v", p)
		}

		// A purchase takes stock.
		buyer := m.Verified("买家")
		ord := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: id, Qty: 3}}, nil)
		if p := productOf(t, cachedPage(t, m, c), id); p["stock"] != 7.0 {
			t.Fatalf("after the purchase: %v", p)
		}

		// Cancelling gives it back.
		m.MustDo(buyer.Token, `mutation($id: ID!) { cancelOrder(id: $id) { id } }`, map[string]any{"id": ord.ID}, nil)
		if p := productOf(t, cachedPage(t, m, c), id); p["stock"] != 10.0 {
			t.Fatalf("after the cancellation: %v", p)
		}

		// An image, and a live event.
		imagesQ := `query($id: ID!) { product(id: $id) { images { id } } }`
		idv := map[string]any{"id": id}
		for range 2 {
			if a := send(t, m, http.MethodPost, imagesQ, idv, nil, nil); !strings.Contains(a.body, `"images":[]`) {
				t.Fatalf("images: %s", a.body)
			}
		}
		if r := m.DoMultipart(m.Admin, servertest.UploadProductImageQ, map[string]any{"p": id},
			servertest.Upload{Var: "f", Filename: "a.png", ContentType: "image/png", Data: servertest.PNG(2, 2)}); len(r.Errors) > 0 {
			t.Fatalf("upload: %+v", r.Errors)
		}
		if a := send(t, m, http.MethodPost, imagesQ, idv, nil, nil); strings.Contains(a.body, `"images":[]`) {
			t.Fatalf("after an upload: %s", a.body)
		}
		eventsQ := `{ liveEvents(first: 10) { totalCount } }`
		before := anon(t, m, eventsQ)
		anon(t, m, eventsQ)
		now := time.Now().UTC()
		m.MustDo(m.Admin, `mutation($i: CreateLiveEventInput!) { createLiveEvent(input: $i) { id } }`,
			map[string]any{"i": map[string]any{"title": "直播", "startsAt": now.Format(time.RFC3339), "endsAt": now.Add(time.Hour).Format(time.RFC3339)}}, nil)
		if after := anon(t, m, eventsQ); after.body == before.body {
			t.Fatalf("after a new live event: %s", after.body)
		}

		// A flash sale's purchase.
		sale := m.NewFlashSale(id, "5.00", 4, 2)
		saleQ := `query($id: ID!) { flashSale(id: $id) { id remaining } }`
		vars := map[string]any{"id": sale}
		before = send(t, m, http.MethodPost, saleQ, vars, nil, nil)
		if again := send(t, m, http.MethodPost, saleQ, vars, nil, nil); again.body != before.body {
			t.Fatalf("sale: %s then %s", before.body, again.body)
		}
		m.MustDo(buyer.Token, `mutation($i: BuyFlashSaleInput!) { buyFlashSale(input: $i) { id } }`,
			map[string]any{"i": map[string]any{"flashSaleID": sale, "quantity": 1}}, nil)
		after := send(t, m, http.MethodPost, saleQ, vars, nil, nil)
		if !strings.Contains(after.body, `"remaining":3`) {
			t.Fatalf("after buying: %s (before %s)", after.body, before.body)
		}
	})
}

// TestAnotherInstancesChangeIsNeverServedStale: B caches a page, A changes
// a price, and once B has heard the announcement its answer is the new one.
func TestAnotherInstancesChangeIsNeverServedStale(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		if d.Name != "postgres" {
			t.Skip("instances share changes over PostgreSQL")
		}
		a := servertest.Start(t, d, servertest.Options{ResponseCache: 100})
		own := *d
		own.DB = testdb.Reopen(t, d)
		h, c := own.Counted()
		b := servertest.Start(t, d, servertest.Options{DB: h, ResponseCache: 100, NoWorkers: true})
		// A probe announced on A after a change reaches B after it (a
		// notice's topics are sorted, "cat" before "mem:", and notices
		// arrive in order); the cache ignores members' changes.
		probes := make(chan string, 100)
		b.Server.Changes.On(changes.MemberKind, changes.Handler{Changed: func(c changes.Change) { probes <- c.ID }})
		probe := func(id string) {
			t.Helper()
			a.Server.Changes.Announce(changes.Change{Kind: changes.MemberKind, ID: id})
			for {
				select {
				case got := <-probes:
					if got == id {
						return
					}
				case <-time.After(30 * time.Second):
					t.Fatal("the announcement never arrived")
				}
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		if err := b.Server.Changes.Join(ctx, d.URL, h.Pool); err != nil {
			t.Fatal(err)
		}

		id := a.NewProduct("10.00", 10)
		probe("probe-fixtures")
		if p := productOf(t, cachedPage(t, b, c), id); p["price"] != "10.00" {
			t.Fatalf("B: %v", p)
		}
		a.MustDo(a.Admin, `mutation($id: ID!) { updateProduct(id: $id, input: {price: "12.50"}) { id } }`, map[string]any{"id": id}, nil)
		probe("probe-price")
		if p := productOf(t, cachedPage(t, b, c), id); p["price"] != "12.50" {
			t.Fatalf("B served a stale price after the announcement: %v", p)
		}
	})
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// sendJSON posts body as it is.
func sendJSON(t *testing.T, m *servertest.Mall, body map[string]any, hdr map[string]string) answer {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, m.HTTP.URL+"/graphql", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	return do(t, m, req, hdr)
}

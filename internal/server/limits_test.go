package server_test

import (
	"bytes"
	"crypto/sha256"

	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

func TestQueryShapeLimits(t *testing.T) {
	d := testdb.Open(t, "sqlite")
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	nest := func(n int) string {
		return "{ unionOrganizations { " + strings.Repeat("parent { ", n-2) + "name" + strings.Repeat(" }", n-2) + " } }"
	}
	if r := m.Do("", nest(15), nil); len(r.Errors) > 0 {
		t.Fatalf("15 levels: %+v", r.Errors)
	}
	servertest.WantCode(t, m.Do("", nest(16), nil), "GRAPHQL_VALIDATION_FAILED")
	servertest.WantCode(t, m.Do("", nest(200), nil), "GRAPHQL_VALIDATION_FAILED")

	page := `products(first: 100) { edges { node { id name salePrice supplier { id name county { id name city } } county { id name } } } }`
	if r := m.Do("", "{ "+page+" }", nil); len(r.Errors) > 0 {
		t.Fatalf("one full page: %+v", r.Errors)
	}
	var many strings.Builder
	many.WriteString("{ ")
	for i := range 6 {
		many.WriteString("p" + string(rune('a'+i)) + ": " + page + " ")
	}
	many.WriteString("}")
	servertest.WantCode(t, m.Do("", many.String(), nil), "COMPLEXITY_LIMIT_EXCEEDED")

	// The standard introspection query (the contract check's) passes.
	introspection := `query { __schema { queryType { name } types { name kind fields(includeDeprecated: true) { name args { name type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } } type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } } } } }`
	if r := m.Do("", introspection, nil); len(r.Errors) > 0 {
		t.Fatalf("introspection: %+v", r.Errors)
	}
}

func TestMutationOverGETRefused(t *testing.T) {
	d := testdb.Open(t, "sqlite")
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	before := servertest.Rows(t, d, "members")
	q := url.Values{"query": {`mutation { registerMember(input: {phone: "13811112222", password: "password-1", displayName: "x"}) { token } }`}}
	res, err := http.Get(m.HTTP.URL + "/graphql?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out servertest.Response
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != http.StatusMethodNotAllowed || out.Code() != "BAD_USER_INPUT" {
		t.Fatalf("status %d, code %q", res.StatusCode, out.Code())
	}
	if servertest.Rows(t, d, "members") != before {
		t.Fatal("a GET mutation ran")
	}
}

// Failed sign-ins are counted per phone: past five the phone is refused
// with RATE_LIMITED, even with the right password; other phones are not.
func TestFailedLoginsAreSlowed(t *testing.T) {
	d := testdb.Open(t, "sqlite")
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	mem := m.Register("被猜")
	other := m.Register("旁人")
	const login = `mutation($p: String!, $w: String!) { login(input: {phone: $p, password: $w}) { token } }`
	for i := range 5 {
		servertest.WantCode(t, m.Do("", login, map[string]any{"p": mem.Phone, "w": "wrong-password"}), "INVALID_CREDENTIALS")
		_ = i
	}
	servertest.WantCode(t, m.Do("", login, map[string]any{"p": mem.Phone, "w": "wrong-password"}), "RATE_LIMITED")
	servertest.WantCode(t, m.Do("", login, map[string]any{"p": mem.Phone, "w": mem.Password}), "RATE_LIMITED")
	if r := m.Do("", login, map[string]any{"p": other.Phone, "w": other.Password}); len(r.Errors) > 0 {
		t.Fatalf("another phone is limited too: %+v", r.Errors)
	}
}

// A member hammering buyFlashSale is slowed down (per member: everyone
// behind one office address still buys).
func TestBuyingIsRateLimitedPerMember(t *testing.T) {
	d := testdb.Open(t, "sqlite")
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	oil := servertest.OilProduct(t, m, 100)
	now := time.Now().UTC()
	sale := servertest.CreateSale(t, m, oil, "1", 50, 1, now.Add(-time.Second), now.Add(time.Hour))
	buyers := m.BulkVerified(2)
	codes := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := servertest.Post(m.HTTP.Client(), m.HTTP.URL, buyers[0].Token, `mutation($s: ID!) { buyFlashSale(input: {flashSaleID: $s}) { id } }`,
				map[string]any{"s": sale.ID})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				codes["transport"]++
				return
			}
			codes[r.Code()]++
		}()
	}
	wg.Wait()
	if codes["RATE_LIMITED"] == 0 || codes[""] != 1 {
		t.Fatalf("answers %v: want one purchase and some RATE_LIMITED", codes)
	}
	// Someone else is not affected.
	if r := m.Do(buyers[1].Token, `mutation($s: ID!) { buyFlashSale(input: {flashSaleID: $s}) { id } }`, map[string]any{"s": sale.ID}); len(r.Errors) > 0 {
		t.Fatalf("another member: %+v", r.Errors)
	}
}

// The answers an instance gives from its copy of a sale (here SOLD_OUT)
// come before the rate limit: they cost nothing, and a buyer hammering a
// sold-out sale learns that it is sold out.
func TestSoldOutComesBeforeTheRateLimit(t *testing.T) {
	d := testdb.Open(t, "sqlite")
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	oil := servertest.OilProduct(t, m, 100)
	now := time.Now().UTC()
	sale := servertest.CreateSale(t, m, oil, "1", 1, 1, now.Add(-time.Second), now.Add(time.Hour))
	buyers := m.BulkVerified(2)
	const buy = `mutation($s: ID!) { buyFlashSale(input: {flashSaleID: $s}) { id } }`
	if r := m.Do(buyers[1].Token, buy, map[string]any{"s": sale.ID}); len(r.Errors) > 0 {
		t.Fatalf("the only unit: %+v", r.Errors)
	}
	codes := map[string]int{}
	for range 60 { // three times the burst
		r, err := servertest.Post(m.HTTP.Client(), m.HTTP.URL, buyers[0].Token, buy, map[string]any{"s": sale.ID})
		if err != nil {
			t.Fatal(err)
		}
		codes[r.Code()]++
	}
	if codes["SOLD_OUT"] != 60 {
		t.Fatalf("answers %v: want 60 SOLD_OUT", codes)
	}
	if orders := d.Int(t, `SELECT COUNT(*) FROM orders`); orders != 1 {
		t.Fatalf("%d orders, want 1", orders)
	}
}

// Every ADMIN mutation leaves an audit line naming the admin, the
// operation and the outcome.
func TestAuditLog(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(syncWriter{&buf, &mu}, nil)))
	defer slog.SetDefault(prev)
	d := testdb.Open(t, "sqlite")
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	county := servertest.CreateCounty(t, m, "紫阳县", "安康市", "LIFTED")
	servertest.WantCode(t, m.Do(m.Admin, `mutation { createCounty(input: {name: " ", city: "安康市", povertyStatus: LIFTED}) { id } }`, nil), "BAD_USER_INPUT")
	mu.Lock()
	defer mu.Unlock()
	var ok, refused bool
	for _, line := range strings.Split(buf.String(), "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) != nil || e["msg"] != "audit" {
			continue
		}
		if e["operation"] != "createCounty" || e["admin"] == nil {
			t.Fatalf("audit line %v", e)
		}
		switch e["outcome"] {
		case "ok":
			ok = true
		case "BAD_USER_INPUT":
			refused = true
		}
	}
	if !ok || !refused || county == "" {
		t.Fatalf("audit lines for the admin's success and refusal: ok=%v refused=%v\n%s", ok, refused, buf.String())
	}

}

type syncWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// Automatic persisted queries: a query sent once with its hash can then be
// sent as the hash alone (also over GET); an unknown hash is
// PERSISTED_QUERY_NOT_FOUND.
func TestPersistedQueries(t *testing.T) {
	d := testdb.Open(t, "sqlite")
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	const q = `{ counties { id } }`
	sum := sha256.Sum256([]byte(q))
	hash := hex.EncodeToString(sum[:])
	ext := func(h string) string {
		return `{"persistedQuery":{"version":1,"sha256Hash":"` + h + `"}}`
	}
	post := func(body string) *servertest.Response {
		res, err := http.Post(m.HTTP.URL+"/graphql", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out servertest.Response
		_ = json.NewDecoder(res.Body).Decode(&out)
		return &out
	}
	servertest.WantCode(t, post(`{"extensions":`+ext(hash)+`}`), "PERSISTED_QUERY_NOT_FOUND")
	if r := post(`{"query":"` + q + `","extensions":` + ext(hash) + `}`); len(r.Errors) > 0 {
		t.Fatalf("register: %+v", r.Errors)
	}
	if r := post(`{"extensions":` + ext(hash) + `}`); len(r.Errors) > 0 || len(r.Data) == 0 {
		t.Fatalf("by hash: %+v", r.Errors)
	}
	res, err := http.Get(m.HTTP.URL + "/graphql?extensions=" + url.QueryEscape(ext(hash)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out servertest.Response
	_ = json.NewDecoder(res.Body).Decode(&out)
	if len(out.Errors) > 0 || len(out.Data) == 0 {
		t.Fatalf("by hash over GET: %+v", out.Errors)
	}
}

func TestIntrospectionSwitch(t *testing.T) {
	d := testdb.Open(t, "sqlite")
	on := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	off := servertest.Start(t, d, servertest.Options{NoWorkers: true, NoIntrospection: true})
	const q = `{ __schema { queryType { name } } }`
	if r := on.Do("", q, nil); len(r.Errors) > 0 {
		t.Fatalf("introspection on: %+v", r.Errors)
	}
	if r := off.Do("", q, nil); len(r.Errors) == 0 || r.Code() == "" {
		t.Fatalf("introspection off answered: %s", r.Data)
	}
}

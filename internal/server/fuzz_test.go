package server_test

// Hostile input against the real handler: a fuzz target for GraphQL
// request bodies (its seeds run as an ordinary test) and a table of
// oversized, deeply nested, malformed and NUL-laden requests and websocket
// messages.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// fzWatch is a slog handler that counts what must never happen while
// hostile input is served: a panic (a resolver's, recovered and logged by
// the server, or net/http's "http: panic serving", which the log package
// sends through slog) and internal errors. Everything else is dropped, so
// long fuzz runs do not pile up logs.
type fzWatch struct {
	panics, internals atomic.Int64
	mu                sync.Mutex
	last              string
}

func (h *fzWatch) Enabled(context.Context, slog.Level) bool { return true }
func (h *fzWatch) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *fzWatch) WithGroup(string) slog.Handler            { return h }

func (h *fzWatch) Handle(_ context.Context, r slog.Record) error {
	panicked := strings.Contains(r.Message, "panic")
	internal := r.Message == "internal error"
	if !panicked && !internal {
		return nil
	}
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	h.last = b.String()
	h.mu.Unlock()
	if panicked {
		h.panics.Add(1)
	} else {
		h.internals.Add(1)
	}
	return nil
}

func (h *fzWatch) lastRecord() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// fzWatchLogs installs a watch as slog's default until the test ends.
func fzWatchLogs(t testing.TB) *fzWatch {
	t.Helper()
	h := &fzWatch{}
	prev, prevOut, prevFlags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(slog.New(h))
	t.Cleanup(func() {
		slog.SetDefault(prev)
		log.SetOutput(prevOut)
		log.SetFlags(prevFlags)
	})
	return h
}

// fzTables are counted before and after each input.
var fzTables = []string{"members", "auth_tokens", "counties", "suppliers", "products", "purchasing_units",
	"coupon_campaigns", "coupons", "live_events", "flash_sales", "orders", "order_items", "procurement_records"}

func fzCounts(t testing.TB, d *testdb.DB) string {
	t.Helper()
	var q strings.Builder
	q.WriteString("SELECT ")
	for i, table := range fzTables {
		if i > 0 {
			q.WriteString(" || ',' || ")
		}
		fmt.Fprintf(&q, "CAST((SELECT COUNT(*) FROM %s) AS TEXT)", table)
	}
	var out string
	if err := d.Pool.QueryRow(q.String()).Scan(&out); err != nil {
		t.Fatalf("counts: %v", err)
	}
	return out
}

// fzPost posts a raw body to /graphql.
func fzPost(client *http.Client, base, token string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// fzResponse is a GraphQL response as sent, every field optional.
type fzResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string          `json:"message"`
		Path       json.RawMessage `json:"path"`
		Extensions map[string]any  `json:"extensions"`
	} `json:"errors"`
}

func (r *fzResponse) hasData() bool {
	d := strings.TrimSpace(string(r.Data))
	return d != "" && d != "null"
}

// fzCheckResponse fails unless the answer is a GraphQL response (any
// status below 500) whose errors all carry a code, none of them internal.
func fzCheckResponse(t testing.TB, status int, body []byte) *fzResponse {
	t.Helper()
	if status >= 500 {
		t.Fatalf("status %d: %.500s", status, body)
	}
	var r fzResponse
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&r); err != nil || dec.More() {
		t.Fatalf("status %d, the body is not one JSON object (%v): %.500s", status, err, body)
	}
	if len(r.Errors) == 0 && !r.hasData() {
		t.Fatalf("status %d, neither data nor errors: %.500s", status, body)
	}
	if status != http.StatusOK && len(r.Errors) == 0 {
		t.Fatalf("status %d without errors: %.500s", status, body)
	}
	for _, e := range r.Errors {
		code, _ := e.Extensions["code"].(string)
		if code == "" {
			t.Fatalf("status %d, an error without a code: %.500s", status, body)
		}
		if code == "INTERNAL_SERVER_ERROR" {
			t.Fatalf("status %d, an internal error: %.500s", status, body)
		}
	}
	return &r
}

// fzTarget is a running mall with a member and an admin signed in.
type fzTarget struct {
	m      *servertest.Mall
	d      *testdb.DB
	watch  *fzWatch
	tokens [3]string // anonymous, a verified member, the admin
	client *http.Client
	sale   string
	member servertest.Member
	shop   *servertest.Shop
}

func fzStart(t testing.TB, d *testdb.DB) *fzTarget {
	t.Helper()
	watch := fzWatchLogs(t)
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	member := m.Verified("模糊")
	s := servertest.NewShop(t, m)
	oil := s.Product(t, "菜籽油", "79.90", "", 1000)
	now := time.Now().UTC()
	sale := servertest.CreateSale(t, m, oil, "1", 500, 1, now.Add(-time.Second), now.Add(24*time.Hour))
	return &fzTarget{m: m, d: d, watch: watch, tokens: [3]string{"", member.Token, m.Admin},
		client: &http.Client{Timeout: 30 * time.Second}, sale: sale.ID, member: member, shop: s}
}

// run sends one body as one of the callers and checks the properties:
// no panic, no 500, a GraphQL response with coded errors, and no write
// unless something succeeded (or, for a mutation of several root fields,
// an earlier field may have).
func (z *fzTarget) run(t testing.TB, body []byte, who uint8) *fzResponse {
	t.Helper()
	return z.runAs(t, body, z.tokens[int(who)%len(z.tokens)])
}

// runAs is run with a token of the caller's choosing.
func (z *fzTarget) runAs(t testing.TB, body []byte, token string) *fzResponse {
	t.Helper()
	panics, internals := z.watch.panics.Load(), z.watch.internals.Load()
	before := fzCounts(t, z.d)
	status, resp, err := fzPost(z.client, z.m.HTTP.URL, token, body)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	if z.watch.panics.Load() != panics {
		t.Fatalf("the server panicked: %s", z.watch.lastRecord())
	}
	if z.watch.internals.Load() != internals {
		t.Fatalf("an internal error was logged: %s", z.watch.lastRecord())
	}
	r := fzCheckResponse(t, status, resp)
	if after := fzCounts(t, z.d); after != before && len(r.Errors) > 0 && !r.hasData() {
		t.Fatalf("a refused request wrote: counts %s → %s (%s); response %.300s", before, after, strings.Join(fzTables, ","), resp)
	}
	return r
}

// refresh signs the member or the admin in again, should an input have
// signed them out; a refusal (say, RATE_LIMITED) leaves the old token.
func (z *fzTarget) refresh(who uint8) {
	phone, password := z.member.Phone, z.member.Password
	if who == 2 {
		phone, password = servertest.AdminPhone, servertest.AdminPassword
	}
	status, resp, err := fzPost(z.client, z.m.HTTP.URL, "", fzBody(servertest.LoginQ, map[string]any{"i": map[string]any{"phone": phone, "password": password}}))
	if err != nil || status != http.StatusOK {
		return
	}
	var out struct {
		Data struct{ Login *struct{ Token string } }
	}
	if json.Unmarshal(resp, &out) == nil && out.Data.Login != nil {
		z.tokens[who] = out.Data.Login.Token
	}
}

func fzBody(query string, vars map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return b
}

// fzNest is a selection set of field nested n levels deep around leaf:
// fzNest("parent", 2, "id") is `{ parent { parent { id } } }`.
func fzNest(field string, n int, leaf string) string {
	return strings.Repeat("{ "+field+" ", n) + "{ " + leaf + " }" + strings.Repeat(" }", n)
}

// fzAliases is a query of n aliases of one selection.
func fzAliases(sel string, n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " a%d: %s", i, sel)
	}
	b.WriteString(" }")
	return b.String()
}

func FuzzGraphQLBody(f *testing.F) {
	z := fzStart(f, testdb.Open(f, "sqlite"))

	const (
		anon   = 0
		member = 1
		admin  = 2
	)
	q := func(query string) []byte { return fzBody(query, nil) }
	seeds := []struct {
		body []byte
		who  uint8
	}{
		// Valid requests, writes among them.
		{fzBody(servertest.RegisterQ, map[string]any{"i": map[string]any{"phone": "13912345678", "password": "password-123", "displayName": "种子"}}), anon},
		{fzBody(servertest.LoginQ, map[string]any{"i": map[string]any{"phone": z.member.Phone, "password": z.member.Password}}), anon},
		{fzBody(servertest.LoginQ, map[string]any{"i": map[string]any{"phone": z.member.Phone, "password": "not-the-password"}}), anon},
		{q(`{ products(first: 5) { totalCount edges { node { id name price salePrice supplier { name county { name } } } } } }`), anon},
		{fzBody(`mutation($i: BuyFlashSaleInput!) { buyFlashSale(input: $i) { id status total } }`,
			map[string]any{"i": map[string]any{"flashSaleID": z.sale, "quantity": 1, "idempotencyKey": "seed-1"}}), member},
		{fzBody(`mutation($i: BuyFlashSaleInput!) { buyFlashSale(input: $i) { id } }`,
			map[string]any{"i": map[string]any{"flashSaleID": z.sale, "quantity": "1"}}), member},
		{q(`{ me { id phone roles } myOrders { totalCount } myCoupons { id } }`), member},
		{q(`{ orders { totalCount } pendingVerifications { totalCount } platformStats { members totalProcurement } }`), admin},
		{q(`{ counties { id name } couponCampaigns(activeOnly: false) { id tiers { threshold } } liveEvents { totalCount } unionOrganizations { id parent { id } } }`), anon},
		{fzBody(`query($id: ID!) { flashSale(id: $id) { id remaining status product { name } } node(id: $id) { id } }`, map[string]any{"id": z.sale}), anon},
		// Two registrations in one mutation, the second refused.
		{q(`mutation { a: registerMember(input: {phone: "13912340001", password: "password-123", displayName: "一"}) { token }
			b: registerMember(input: {phone: "1391234000", password: "password-123", displayName: "二"}) { token } }`), anon},
		// Money that is no Money, on a mutation an admin may run.
		{fzBody(servertest.CreateProductQ, servertest.ProductIn{Name: "一百元", Category: "TEA", Price: "1e2", Stock: 1, OnSale: true, SupplierID: "sup_01JD5Z8Q5V8N4W3X2Y1Z0A9B8C"}.Vars()), admin},
		{[]byte(`{"query":"mutation($i: CreateProductInput!) { createProduct(input: $i) { id } }","variables":{"i":{"name":"x","category":"TEA","price":100,"stock":1,"supplierID":"sup_x"}}}`), admin},
		{[]byte(`{"query":"mutation($i: ConfirmPaymentInput!) { confirmPayment(input: $i) { id } }","variables":{"i":{"orderID":"ord_x","paymentReference":"r","amount":"01.00"}}}`), admin},
		// Malformed JSON and requests.
		{[]byte(``), anon},
		{[]byte(`{`), anon},
		{[]byte(`{"query": `), anon},
		{[]byte(`not json`), anon},
		{[]byte(`null`), anon},
		{[]byte(`"{ __typename }"`), anon},
		{[]byte(`{"query": 5}`), anon},
		{[]byte(`{"query": null}`), anon},
		{[]byte(`{"query": ""}`), anon},
		{[]byte(`{"query": "{ __typename }", "variables": "x"}`), anon},
		{[]byte(`{"query": "{ __typename }", "variables": [1]}`), anon},
		{[]byte(`{"query": "{ __typename }", "operationName": 7}`), anon},
		{[]byte(`{"query": "query A { __typename } query B { __typename }"}`), anon},
		{[]byte(`{"query": "query A { __typename }", "operationName": "B"}`), anon},
		{[]byte(`{"query": "{ __typename }"} trailing`), anon},
		{[]byte(`{"query": "{ __typename }"}{"query": "{ __typename }"}`), anon},
		{[]byte(`[{"query": "{ __typename }"}, {"query": "{ me { id } }"}]`), member},
		{[]byte(`[]`), anon},
		{[]byte(`{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}`), anon},
		{[]byte(`{"query": "{ __typename }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0000"}}}`), anon},
		{[]byte(`{"query": "{ __typename }", "extensions": {"persistedQuery": "x"}}`), anon},
		// Wrong types in variables.
		{[]byte(`{"query": "query($f: Int) { products(first: $f) { totalCount } }", "variables": {"f": "ten"}}`), anon},
		{[]byte(`{"query": "query($f: Int) { products(first: $f) { totalCount } }", "variables": {"f": 1e300}}`), anon},
		{[]byte(`{"query": "query($f: Int) { products(first: $f) { totalCount } }", "variables": {"f": -1}}`), anon},
		{[]byte(`{"query": "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", "variables": {"ids": [null, 1, {}]}}`), anon},
		{[]byte(`{"query": "query($a: Cursor) { products(after: $a) { totalCount } }", "variables": {"a": "not-a-cursor"}}`), anon},
		{[]byte(`{"query": "mutation($i: LoginInput!) { login(input: $i) { token } }", "variables": {"i": {"phone": ["1"], "password": {}}}}`), anon},
		{[]byte(`{"query": "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }", "variables": {"i": {"items": [{"productID": "prd_x", "quantity": 1e10}]}}}`), member},
		// Invalid UTF-8 and NUL.
		{[]byte("{\"query\": \"{ \xff\xfe __typename }\"}"), anon},
		{[]byte("{\"query\": \"mutation($i: LoginInput!) { login(input: $i) { token } }\", \"variables\": {\"i\": {\"phone\": \"\xc3\x28\", \"password\": \"\xed\xa0\x80\"}}}"), anon},
		{[]byte(`{"query": "{ products(where: {nameContains: \"\u0000\"}) { totalCount } }"}`), anon},
		{[]byte("\x00\x01\x02"), anon},
		// Deep nesting, huge aliases, fragment cycles, big introspection.
		{q(fzNest("a", 1000, "a")), anon},
		{q("{ unionOrganizations " + fzNest("parent", 1000, "id") + " }"), anon},
		{[]byte(`{"query": "` + strings.Repeat("{", 5000) + `"}`), anon},
		{[]byte(`{"query": "` + strings.Repeat("[", 5000) + `"}`), anon},
		{[]byte(`{"query": "query($v: Int = ` + strings.Repeat("[", 3000) + `) { __typename }"}`), anon},
		{q(fzAliases("__typename", 10000)), anon},
		{q(fzAliases("counties { id }", 3000)), anon},
		{q(`{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`), anon},
		{q(`{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } }`), anon},
		{q(`{ products(first: 100) { edges { node { supplier { county { name } } county { name } } } } suppliers(first: 100) { edges { node { county { id } } } } }`), anon},
		{q(`{ products(first: 100000) { totalCount } }`), anon},
		{q(`mutation { logout }`), anon},
	}
	for _, s := range seeds {
		f.Add(s.body, s.who)
	}
	f.Fuzz(func(t *testing.T, body []byte, who uint8) {
		z.run(t, body, who)
		if who%3 != anon && (bytes.Contains(body, []byte("logout")) || bytes.Contains(body, []byte("changePassword"))) {
			z.refresh(who % 3)
		}
	})
}

// hostileWS dials /graphql with the subprotocol, sends the frames in
// order and reads until the server closes the connection or until is
// true of the messages so far (nil: only a close ends it); it returns the
// close (nil if none) and the messages read.
func hostileWS(t *testing.T, base, proto string, until func([]servertest.Message) bool, frames ...[]byte) (*websocket.CloseError, []servertest.Message) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{proto}, HandshakeTimeout: 5 * time.Second}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+"/graphql", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	for _, f := range frames {
		if err := c.WriteMessage(websocket.TextMessage, f); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	var msgs []servertest.Message
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce, msgs
			}
			t.Fatalf("%s: the connection ended without a close frame: %v (messages %+v)", proto, err, msgs)
		}
		var m servertest.Message
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: the server sent no JSON: %q", proto, b)
		}
		if m.Type == "ka" || m.Type == "ping" {
			continue
		}
		msgs = append(msgs, m)
		if until != nil && until(msgs) {
			return nil, msgs
		}
	}
}

// TestHostileInput: oversized, deeply nested, alias-heavy and NUL-laden
// requests, and malformed websocket messages, get their status, code or
// close frame; none is a 500, a panic or an internal error, none writes,
// and the server keeps serving afterwards.
func TestHostileInput(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		z := fzStart(t, d)
		m := z.m
		alive := func(t *testing.T) {
			t.Helper()
			if id := servertest.MeID(t, m, z.member.Token); id != z.member.ID {
				t.Fatalf("the server stopped serving: me = %q", id)
			}
		}

		t.Run("2 MiB body", func(t *testing.T) {
			before := fzCounts(t, d)
			body := fzBody(servertest.RegisterQ, map[string]any{"i": map[string]any{"phone": "13912349999", "password": "password-123",
				"displayName": strings.Repeat("长", 700<<10)}}) // over 2 MiB of UTF-8
			if len(body) < 2<<20 {
				t.Fatalf("body of %d bytes", len(body))
			}
			status, resp, err := fzPost(z.client, m.HTTP.URL, "", body)
			if err != nil {
				t.Fatal(err)
			}
			if status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413", status)
			}
			r := fzCheckResponse(t, status, resp)
			t.Logf("2 MiB: %d, code %v", status, r.Errors[0].Extensions["code"])
			if fzCounts(t, d) != before {
				t.Fatal("an oversized request wrote")
			}
			alive(t)
		})

		t.Run("200 levels deep", func(t *testing.T) {
			depthCodes := []string{"GRAPHQL_VALIDATION_FAILED", "COMPLEXITY_LIMIT_EXCEEDED", "BAD_USER_INPUT"}
			for name, query := range map[string]string{
				// Valid all the way down: a union's parent's parent's ...
				"schema-valid":  "{ unionOrganizations " + fzNest("parent", 199, "id") + " }",
				"unknown field": fzNest("a", 199, "a"),
				"through fragments": `{ unionOrganizations { ...P } } fragment P on UnionOrganization ` +
					fzNest("parent", 199, "id"),
			} {
				r := z.run(t, fzBody(query, nil), 0)
				code, _ := r.Errors[0].Extensions["code"].(string)
				if !slices.Contains(depthCodes, code) {
					t.Fatalf("%s: code %s, want one of %v", name, code, depthCodes)
				}
				t.Logf("200 levels (%s): %s: %s", name, code, r.Errors[0].Message)
			}
			// Within the limit, the same query runs.
			r := z.run(t, fzBody("{ unionOrganizations "+fzNest("parent", 4, "id")+" }", nil), 0)
			if len(r.Errors) > 0 {
				t.Fatalf("5 levels: %+v", r.Errors)
			}
			alive(t)
		})

		t.Run("10000 aliases", func(t *testing.T) {
			for _, sel := range []string{"__typename", "platformStats { members }", "counties { id }", "me { id }"} {
				start := time.Now()
				r := z.run(t, fzBody(fzAliases(sel, 10000), nil), 1)
				took := time.Since(start)
				code := ""
				if len(r.Errors) > 0 {
					code, _ = r.Errors[0].Extensions["code"].(string)
				}
				t.Logf("10000 × %s: code %q in %v", sel, code, took.Round(time.Millisecond))
				if sel != "__typename" && code == "" {
					t.Errorf("10000 × %s ran in full (%v): no complexity limit", sel, took)
				}
			}
			alive(t)
		})

		t.Run("NUL and control characters in every kind of string input", func(t *testing.T) {
			nul := "名\x00字"
			s := z.shop
			tea := s.Product(t, "紫阳富硒茶", "30.00", "", 100)
			order := servertest.PlaceOrder(t, m, z.member.Token, []servertest.Line{{ID: tea, Qty: 1}}, map[string]any{"shippingAddress": servertest.ValidAddress})
			paid := servertest.Pay(t, m, servertest.PlaceOrder(t, m, z.member.Token, []servertest.Line{{ID: tea, Qty: 1}}, map[string]any{"shippingAddress": servertest.ValidAddress}), "WX-NUL-1")
			unit := secUnit(t, m, "采购单位NUL")
			now := time.Now().UTC()
			addr := func(field string) map[string]any {
				a := map[string]any{"recipient": "王小明", "phone": "13812345678", "region": "陕西省咸阳市秦都区", "detail": "人民路1号"}
				a[field] = nul
				return a
			}
			cases := []struct {
				name, token, query string
				vars               map[string]any
			}{
				{"registerMember.displayName", "", servertest.RegisterQ, map[string]any{"i": map[string]any{"phone": "13912348888", "password": "password-123", "displayName": nul}}},
				{"registerMember.password", "", servertest.RegisterQ, map[string]any{"i": map[string]any{"phone": "13912348889", "password": "pass\x00word-123", "displayName": "x"}}},
				{"login.phone", "", servertest.LoginQ, map[string]any{"i": map[string]any{"phone": "1391234\x008888", "password": "password-123"}}},
				{"submitRealNameVerification.realName", m.Register("NUL").Token, servertest.SubmitRealNameQ, map[string]any{"i": map[string]any{"realName": nul, "idNumber": servertest.NextIDNumber()}}},
				{"placeOrder.shippingAddress.recipient", z.member.Token, servertest.PlaceOrderQ, servertest.OrderInput([]servertest.Line{{ID: tea, Qty: 1}}, map[string]any{"shippingAddress": addr("recipient")})},
				{"placeOrder.shippingAddress.region", z.member.Token, servertest.PlaceOrderQ, servertest.OrderInput([]servertest.Line{{ID: tea, Qty: 1}}, map[string]any{"shippingAddress": addr("region")})},
				{"placeOrder.shippingAddress.detail", z.member.Token, servertest.PlaceOrderQ, servertest.OrderInput([]servertest.Line{{ID: tea, Qty: 1}}, map[string]any{"shippingAddress": addr("detail")})},
				{"placeOrder.idempotencyKey", z.member.Token, servertest.PlaceOrderQ, servertest.OrderInput([]servertest.Line{{ID: tea, Qty: 1}}, map[string]any{"idempotencyKey": nul})},
				{"setShippingAddress.detail", z.member.Token, servertest.SetAddressQ, map[string]any{"id": order.ID, "a": addr("detail")}},
				{"buyFlashSale.idempotencyKey", z.member.Token, servertest.BuyQ, map[string]any{"i": map[string]any{"flashSaleID": z.sale, "idempotencyKey": nul}}},
				{"confirmPayment.paymentReference", m.Admin, servertest.ConfirmPaymentQ, map[string]any{"i": map[string]any{"orderID": order.ID, "paymentReference": nul, "amount": order.Total}}},
				{"shipOrder.trackingNumber", m.Admin, servertest.ShipOrderQ, map[string]any{"i": map[string]any{"orderID": paid.ID, "trackingNumber": nul}}},
				{"refundOrder.reason", m.Admin, servertest.RefundOrderQ, map[string]any{"i": map[string]any{"orderID": paid.ID, "reason": nul}}},
				{"createCounty.name", m.Admin, servertest.CreateCountyQ, map[string]any{"i": map[string]any{"name": nul, "city": "安康市", "povertyStatus": "LIFTED"}}},
				{"createSupplier.name", m.Admin, servertest.CreateSupplierQ, map[string]any{"i": map[string]any{"name": nul, "countyID": servertest.CreateCounty(t, m, "宁陕县"+servertest.NextPhone(), "安康市", "LIFTED"), "beneficiaries": 1}}},
				{"createProduct.description", m.Admin, servertest.CreateProductQ, map[string]any{"i": map[string]any{"name": "x", "description": nul, "category": "TEA", "price": "1", "stock": 1, "supplierID": s.Supplier}}},
				{"updateProduct.name", m.Admin, servertest.UpdateProductQ, map[string]any{"id": tea, "i": map[string]any{"name": nul}}},
				{"createLiveEvent.streamURL", m.Admin, servertest.CreateLiveEventQ, map[string]any{"i": map[string]any{"title": "直播", "streamURL": "https://x/" + nul,
					"startsAt": servertest.FormatTime(now.Add(time.Hour)), "endsAt": servertest.FormatTime(now.Add(2 * time.Hour))}}},
				{"createCouponCampaign.name", m.Admin, servertest.CreateCampaignQ, map[string]any{"i": map[string]any{"name": nul, "budget": "100.00",
					"claimStartsAt": servertest.FormatTime(now), "claimEndsAt": servertest.FormatTime(now.Add(time.Hour)), "validFrom": servertest.FormatTime(now), "validUntil": servertest.FormatTime(now.Add(time.Hour)),
					"tiers": []map[string]any{{"threshold": "20", "discount": "10"}}}}},
				{"registerPurchasingUnit.name", m.Admin, servertest.RegisterUnitQ, map[string]any{"i": map[string]any{"name": nul}}},
				{"reviewRealNameVerifications.reason", m.Admin, servertest.ReviewQ, map[string]any{"i": map[string]any{"memberIDs": []string{z.member.ID}, "approve": false, "reason": nul}}},
				{"recordOfflineProcurement.note", m.Admin, secProQ, map[string]any{"i": map[string]any{"purchasingUnitID": unit, "supplierID": s.Supplier,
					"amount": "1.00", "occurredOn": servertest.FormatTime(now.Add(-time.Hour)), "note": nul}}},
				{"products.where.nameContains", "", `query($w: ProductWhereInput) { products(where: $w) { totalCount } }`, map[string]any{"w": map[string]any{"nameContains": nul}}},
				{"suppliers.where.nameContains", "", `query($w: SupplierWhereInput) { suppliers(where: $w) { totalCount } }`, map[string]any{"w": map[string]any{"nameContains": nul}}},
				{"node.id", "", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "prd_\x00"}},
				{"products.after", "", `query($a: Cursor) { products(after: $a) { totalCount } }`, map[string]any{"a": "\x00"}},
			}
			var accepted []string
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					if r := z.runAs(t, fzBody(c.query, c.vars), c.token); len(r.Errors) == 0 {
						accepted = append(accepted, c.name)
					}
				})
			}
			t.Logf("NUL accepted (no error) by: %v", accepted)
			alive(t)
		})

		// Enum values are case-sensitive; gqlparser checks variables'
		// enums without regard to case, so "tea" passes validation and
		// then fails to unmarshal. Found by FuzzGraphQLBody.
		t.Run("enum value in the wrong case", func(t *testing.T) {
			refusals := []string{"GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"}
			product := servertest.ProductIn{Name: "x", Category: "tea", Price: "1", Stock: 1, OnSale: true, SupplierID: z.shop.Supplier}.Vars()
			for _, c := range []struct {
				name, token, query string
				vars               map[string]any
				also               string // a further acceptable code
			}{
				{"createProduct input.category as ADMIN", m.Admin, servertest.CreateProductQ, product, ""},
				{"createProduct input.category anonymous", "", servertest.CreateProductQ, product, "UNAUTHENTICATED"},
				{"createCounty input.povertyStatus", m.Admin, servertest.CreateCountyQ, map[string]any{"i": map[string]any{"name": "x", "city": "y", "povertyStatus": "lifted"}}, ""},
				{"grantRole input.role", m.Admin, servertest.GrantRoleQ, map[string]any{"i": map[string]any{"memberID": z.member.ID, "role": "Admin"}}, ""},
				{"products where.category", "", `query($w: ProductWhereInput) { products(where: $w) { totalCount } }`, map[string]any{"w": map[string]any{"category": "Tea"}}, ""},
				{"orders status", m.Admin, `query($s: OrderStatus) { orders(status: $s) { totalCount } }`, map[string]any{"s": "paid"}, ""},
				{"myCoupons status", z.member.Token, `query($s: CouponStatus) { myCoupons(status: $s) { id } }`, map[string]any{"s": "available"}, ""},
			} {
				t.Run(c.name, func(t *testing.T) {
					r := z.runAs(t, fzBody(c.query, c.vars), c.token)
					code := ""
					if len(r.Errors) > 0 {
						code, _ = r.Errors[0].Extensions["code"].(string)
					}
					if !slices.Contains(refusals, code) && code != c.also {
						t.Fatalf("code %q, want one of %v %s", code, refusals, c.also)
					}
				})
			}
		})

		t.Run("websocket", func(t *testing.T) {
			panics, internals := z.watch.panics.Load(), z.watch.internals.Load()
			big := []byte(`{"type":"connection_init","payload":{"pad":"` + strings.Repeat("x", 70<<10) + `"}}`)
			init := []byte(`{"type":"connection_init"}`)
			for _, proto := range []string{servertest.TransportWS, servertest.LegacyWS} {
				subscribe := "subscribe"
				if proto == servertest.LegacyWS {
					subscribe = "start"
				}
				sub := func(id, payload string) []byte {
					return []byte(`{"id":"` + id + `","type":"` + subscribe + `","payload":` + payload + `}`)
				}
				for _, c := range []struct {
					name   string
					frames [][]byte
					close  []int // acceptable close codes
				}{
					{"not JSON", [][]byte{[]byte("hello")}, []int{websocket.CloseProtocolError, 4400}},
					{"JSON of the wrong shape", [][]byte{[]byte(`{"type": 5, "id": {}}`)}, []int{websocket.CloseProtocolError, 4400}},
					{"a JSON array", [][]byte{[]byte(`[1, 2, 3]`)}, []int{websocket.CloseProtocolError, 4400}},
					{"an unknown type", [][]byte{[]byte(`{"type": "bogus"}`)}, []int{websocket.CloseProtocolError, 4400}},
					{"subscribe before connection_init", [][]byte{sub("1", `{"query":"{ __typename }"}`)}, []int{websocket.CloseProtocolError, 4401}},
					// gqlgen gives up without a close frame; the adapter then closes
					// the abandoned connection with 1011 after its linger.
					{"connection_init payload not an object", [][]byte{[]byte(`{"type":"connection_init","payload":"x"}`)}, []int{websocket.CloseProtocolError, 4400, websocket.CloseInternalServerErr}},
					{"over 64 KiB before init", [][]byte{big}, []int{websocket.CloseMessageTooBig}},
					{"over 64 KiB after init", [][]byte{init, sub("1", `{"query":"{ __typename }","pad":"`+strings.Repeat("y", 70<<10)+`"}`)}, []int{websocket.CloseMessageTooBig}},
					// After init gqlgen ends its read loop and closes 1000.
					{"not JSON after init", [][]byte{init, []byte("hello")}, []int{websocket.CloseNormalClosure, websocket.CloseProtocolError, 4400}},
					{"unknown type after init", [][]byte{init, []byte(`{"type":"bogus"}`)}, []int{websocket.CloseNormalClosure, websocket.CloseProtocolError, 4400}},
				} {
					t.Run(proto+"/"+c.name, func(t *testing.T) {
						ce, msgs := hostileWS(t, m.HTTP.URL, proto, nil, c.frames...)
						if ce == nil || !slices.Contains(c.close, ce.Code) {
							t.Fatalf("close %v, want one of %v (messages %+v)", ce, c.close, msgs)
						}
						t.Logf("close %d %q; messages %d", ce.Code, ce.Text, len(msgs))
						alive(t)
					})
				}
				// Bad subscriptions on a live connection: an error for that
				// subscription, with a code where the query was read; the
				// connection goes on.
				for _, c := range []struct {
					name, payload string
					code          string // "" when the error may carry none (undecodable payload)
				}{
					{"payload not an object", `"x"`, ""},
					{"query not a string", `{"query": 5}`, ""},
					{"parse error", `{"query": "subscription { "}`, "GRAPHQL_PARSE_FAILED"},
					{"unknown field", `{"query": "subscription { nope }"}`, "GRAPHQL_VALIDATION_FAILED"},
					{"200 levels deep", `{"query": "{ unionOrganizations ` + fzNest("parent", 199, "id") + ` }"}`, "GRAPHQL_VALIDATION_FAILED"},
					{"unknown flash sale", `{"query": "subscription { flashSaleStock(flashSaleID: \"fls_01JD5Z8Q5V8N4W3X2Y1Z0A9B8C\") { sold } }"}`, "NOT_FOUND"},
					{"a mutation", `{"query": "mutation { logout }"}`, ""},
				} {
					t.Run(proto+"/subscription: "+c.name, func(t *testing.T) {
						before := fzCounts(t, d)
						both := func(msgs []servertest.Message) bool {
							var done7, next8 bool
							for _, msg := range msgs {
								done7 = done7 || msg.ID == "7" && msg.Type == "complete"
								next8 = next8 || msg.ID == "8" && (msg.Type == "next" || msg.Type == "data")
							}
							return done7 && next8
						}
						ce, msgs := hostileWS(t, m.HTTP.URL, proto, both, init, sub("7", c.payload), sub("8", `{"query":"subscription($id: ID!) { flashSaleStock(flashSaleID: $id) { sold } }","variables":{"id":"`+z.sale+`"}}`))
						if ce != nil {
							t.Fatalf("the connection closed: %v (messages %+v)", ce, msgs)
						}
						var errs []servertest.Error
						gotNext := false
						for _, msg := range msgs {
							switch {
							case msg.ID == "8" && (msg.Type == "next" || msg.Type == "data"):
								gotNext = true
							case msg.ID == "7" && msg.Type == "error":
								var list []servertest.Error
								if json.Unmarshal(msg.Payload, &list) != nil {
									var one servertest.Error
									_ = json.Unmarshal(msg.Payload, &one)
									list = []servertest.Error{one}
								}
								errs = append(errs, list...)
							case msg.ID == "7" && (msg.Type == "next" || msg.Type == "data"):
								var res servertest.Result
								_ = json.Unmarshal(msg.Payload, &res)
								errs = append(errs, res.Errors...)
							}
						}
						if len(errs) == 0 {
							t.Fatalf("no error for subscription 7: %+v", msgs)
						}
						code, _ := errs[0].Extensions["code"].(string)
						if c.code != "" && code != c.code {
							t.Fatalf("code %q, want %s: %+v", code, c.code, errs)
						}
						if code == "INTERNAL_SERVER_ERROR" {
							t.Fatalf("internal error: %+v", errs)
						}
						t.Logf("code %q: %s; the connection's other subscription answered: %v", code, errs[0].Message, gotNext)
						if fzCounts(t, d) != before {
							t.Fatal("a subscription message wrote")
						}
					})
				}
			}
			if z.watch.panics.Load() > panics || z.watch.internals.Load() > internals {
				t.Fatalf("panics %d, internal errors %d: %s", z.watch.panics.Load()-panics, z.watch.internals.Load()-internals, z.watch.lastRecord())
			}
			alive(t)
		})
	})
}

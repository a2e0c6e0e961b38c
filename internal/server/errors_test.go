package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// send posts body to /graphql with the headers and decodes the answer.
func send(t *testing.T, m *servertest.Mall, method, contentType, body string, headers map[string]string) (*http.Response, servertest.Response) {
	t.Helper()
	req, err := http.NewRequest(method, m.HTTP.URL+"/graphql", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := m.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out servertest.Response
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: not a GraphQL answer (%d): %.300s", method, body, res.StatusCode, b)
	}
	return res, out
}

func gql(query string) string {
	b, _ := json.Marshal(map[string]any{"query": query})
	return string(b)
}

// The GraphQL-over-HTTP specification's status codes: application/json
// answers 200 to every GraphQL request (gqlgen alone says 422 for parse
// and validation errors, which Apollo cannot read);
// application/graphql-response+json answers 400 to requests refused
// before they ran (no data) and 200 to those that ran.
func TestStatusPerMediaType(t *testing.T) {
	d := testdb.Open(t, "sqlite")
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	const gqlResponse = "application/graphql-response+json"
	requests := []struct {
		name, body, code string
		ran              bool
	}{
		{"parse error", gql("{ products("), "GRAPHQL_PARSE_FAILED", false},
		{"validation error", gql("{ noSuchField }"), "GRAPHQL_VALIDATION_FAILED", false},
		{"two root mutations", gql(`mutation { a: logout b: logout }`), "BAD_USER_INPUT", false},
		{"refused in a resolver", gql(`mutation { login(input: {phone: "13800009999", password: "wrong-password"}) { token } }`), "INVALID_CREDENTIALS", true},
		{"fine", gql("{ __typename }"), "", true},
	}
	for _, accept := range []string{"", "application/json", "*/*", gqlResponse, gqlResponse + ", application/json;q=0.9"} {
		modern := strings.HasPrefix(accept, gqlResponse)
		for _, rq := range requests {
			t.Run(accept+"/"+rq.name, func(t *testing.T) {
				res, out := send(t, m, http.MethodPost, "application/json", rq.body, map[string]string{"Accept": accept})
				want := http.StatusOK
				if modern && !rq.ran {
					want = http.StatusBadRequest
				}
				if res.StatusCode != want || out.Code() != rq.code {
					t.Fatalf("status %d code %q, want %d %q (%+v)", res.StatusCode, out.Code(), want, rq.code, out.Errors)
				}
				wantType := "application/json"
				if modern {
					wantType = gqlResponse
				}
				if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, wantType) {
					t.Fatalf("Content-Type %q, want %s", ct, wantType)
				}
			})
		}
	}
	// GET too.
	for _, accept := range []string{"", gqlResponse} {
		req, _ := http.NewRequest(http.MethodGet, m.HTTP.URL+"/graphql?query="+strings.ReplaceAll("{ noSuchField }", " ", "+"), nil)
		req.Header.Set("Accept", accept)
		res, err := m.HTTP.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		want := map[string]int{"": http.StatusOK, gqlResponse: http.StatusBadRequest}[accept]
		if res.StatusCode != want {
			t.Errorf("GET %q: status %d, want %d", accept, res.StatusCode, want)
		}
	}
}

// Requests that are no GraphQL request at all are refused as the
// specification says, with a code.
func TestNotGraphQLRequests(t *testing.T) {
	d := testdb.Open(t, "sqlite")
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	for _, tc := range []struct {
		name, method, contentType, body string
		status                          int
	}{
		{"PUT", http.MethodPut, "application/json", gql("{ __typename }"), http.StatusMethodNotAllowed},
		{"DELETE", http.MethodDelete, "", "", http.StatusMethodNotAllowed},
		{"text/plain", http.MethodPost, "text/plain", gql("{ __typename }"), http.StatusUnsupportedMediaType},
		{"no content type", http.MethodPost, "", gql("{ __typename }"), http.StatusUnsupportedMediaType},
		{"not JSON", http.MethodPost, "application/json", "{query", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, out := send(t, m, tc.method, tc.contentType, tc.body, nil)
			if res.StatusCode != tc.status || out.Code() != "BAD_USER_INPUT" {
				t.Fatalf("status %d code %q, want %d BAD_USER_INPUT", res.StatusCode, out.Code(), tc.status)
			}
			if tc.status == http.StatusMethodNotAllowed && res.Header.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
		})
	}
}

type fieldProblem struct{ Field, Message string }

func fieldsOf(t *testing.T, e servertest.Error) []fieldProblem {
	t.Helper()
	b, _ := json.Marshal(e.Extensions["fields"])
	var out []fieldProblem
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("extensions.fields %s: %v", b, err)
	}
	return out
}

// A form with three bad fields hears of all three at once, in Chinese by
// default and in English when asked; nothing is written.
func TestEveryBadFieldReported(t *testing.T) {
	d := testdb.Open(t, "sqlite")
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	before := servertest.Rows(t, d, "members")
	body := gql(`mutation { registerMember(input: {phone: "12345", password: "short", displayName: "   "}) { token } }`)
	for _, tc := range []struct {
		lang string
		want []fieldProblem
	}{
		{"", []fieldProblem{
			{"phone", "手机号须为以 1 开头的 11 位中国大陆手机号"},
			{"password", "密码至少 8 个字符"},
			{"displayName", "长度须为 1 到 32 个字符"},
		}},
		{"en-US,en;q=0.9", []fieldProblem{
			{"phone", "the phone must be an 11-digit mainland mobile number starting with 1"},
			{"password", "the password needs at least 8 characters"},
			{"displayName", "displayName must have 1 to 32 characters"},
		}},
	} {
		_, out := send(t, m, http.MethodPost, "application/json", body, map[string]string{"Accept-Language": tc.lang})
		if out.Code() != "BAD_USER_INPUT" || out.Errors[0].Extensions["field"] != "phone" {
			t.Fatalf("%q: %+v", tc.lang, out.Errors)
		}
		got := fieldsOf(t, out.Errors[0])
		if len(got) != 3 {
			t.Fatalf("%q: fields %+v, want 3", tc.lang, got)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%q: field %d = %+v, want %+v", tc.lang, i, got[i], tc.want[i])
			}
		}
	}
	if servertest.Rows(t, d, "members") != before {
		t.Fatal("a refused registration wrote a member")
	}
	// One bad field: fields holds it alone.
	_, out := send(t, m, http.MethodPost, "application/json",
		gql(`mutation { registerMember(input: {phone: "13800001111", password: "short", displayName: "张三"}) { token } }`), nil)
	if got := fieldsOf(t, out.Errors[0]); len(got) != 1 || got[0].Field != "password" || out.Errors[0].Extensions["field"] != "password" {
		t.Fatalf("one bad field: %+v", out.Errors)
	}
}

// RATE_LIMITED says when to retry: extensions.retryAfter, and on HTTP
// the Retry-After header, in whole seconds.
func TestRateLimitedSaysWhenToRetry(t *testing.T) {
	d := testdb.Open(t, "sqlite")
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	mem := m.Register("被猜")
	body := gql(`mutation { login(input: {phone: "` + mem.Phone + `", password: "wrong-password"}) { token } }`)
	for range 5 {
		if _, out := send(t, m, http.MethodPost, "application/json", body, nil); out.Code() != "INVALID_CREDENTIALS" {
			t.Fatalf("%+v", out.Errors)
		}
	}
	res, out := send(t, m, http.MethodPost, "application/json", body, nil)
	if out.Code() != "RATE_LIMITED" {
		t.Fatalf("%+v", out.Errors)
	}
	secs, ok := out.Errors[0].Extensions["retryAfter"].(float64)
	if !ok || secs < 1 || secs > 60 || secs != float64(int(secs)) {
		t.Fatalf("retryAfter %v", out.Errors[0].Extensions["retryAfter"])
	}
	if h := res.Header.Get("Retry-After"); h != strconv.Itoa(int(secs)) {
		t.Fatalf("Retry-After %q, retryAfter %v", h, secs)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if msg := out.Errors[0].Message; msg != "登录失败次数过多，请稍后再试" {
		t.Fatalf("message %q", msg)
	}
	// Answers without a refusal carry no Retry-After.
	if res, _ := send(t, m, http.MethodPost, "application/json", gql("{ __typename }"), nil); res.Header.Get("Retry-After") != "" {
		t.Fatal("Retry-After on a plain answer")
	}
}

// Messages: Chinese by default, English for Accept-Language en, the codes
// the same; gqlgen's own messages get a Chinese lead.
func TestLanguages(t *testing.T) {
	d := testdb.Open(t, "sqlite")
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	for _, tc := range []struct {
		body, lang, code, message string
	}{
		{gql(`mutation { logout }`), "", "UNAUTHENTICATED", "请先登录"},
		{gql(`mutation { logout }`), "zh-CN,zh;q=0.9", "UNAUTHENTICATED", "请先登录"},
		{gql(`mutation { logout }`), "en", "UNAUTHENTICATED", "sign in first"},
		{gql(`mutation { logout }`), "en-GB;q=0.8", "UNAUTHENTICATED", "sign in first"},
		{gql(`mutation { logout }`), "fr", "UNAUTHENTICATED", "请先登录"},
		{gql(`{ noSuchField }`), "", "GRAPHQL_VALIDATION_FAILED", `查询不符合接口定义：Cannot query field "noSuchField" on type "Query".`},
		{gql(`{ noSuchField }`), "en", "GRAPHQL_VALIDATION_FAILED", `Cannot query field "noSuchField" on type "Query".`},
		{gql(`mutation { a: logout b: logout }`), "", "BAD_USER_INPUT", "一个变更请求只能包含一个根字段，而不是 2 个：请分别发送"},
	} {
		_, out := send(t, m, http.MethodPost, "application/json", tc.body, map[string]string{"Accept-Language": tc.lang})
		if out.Code() != tc.code || out.Errors[0].Message != tc.message {
			t.Errorf("%s %q: %q %q, want %q %q", tc.body, tc.lang, out.Code(), out.Errors[0].Message, tc.code, tc.message)
		}
	}
}

// A websocket's messages are in the language of its upgrade request.
func TestWebsocketLanguage(t *testing.T) {
	d := testdb.Open(t, "sqlite")
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	for lang, want := range map[string]string{"": "秒杀活动不存在", "en": "no flash sale has that ID"} {
		u := "ws" + strings.TrimPrefix(m.HTTP.URL, "http") + "/graphql"
		dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
		c, _, err := dialer.Dial(u, http.Header{"Accept-Language": {lang}})
		if err != nil {
			t.Fatal(err)
		}
		w := &servertest.WS{Conn: c, Protocol: "graphql-transport-ws"}
		if err := c.WriteJSON(map[string]any{"type": "connection_init"}); err != nil {
			t.Fatal(err)
		}
		if msg, err := w.Read(5 * time.Second); err != nil || msg.Type != "connection_ack" {
			t.Fatalf("ack: %v %+v", err, msg)
		}
		if _, err := w.Subscribe(`subscription { flashSaleStock(flashSaleID: "FlashSale:1") { remaining } }`, nil); err != nil {
			t.Fatal(err)
		}
		_, r, err := w.Next(5 * time.Second)
		if err != nil || len(r.Errors) == 0 || r.Errors[0].Message != want {
			t.Fatalf("%q: %v %+v, want %q", lang, err, r, want)
		}
		w.Close()
	}
}

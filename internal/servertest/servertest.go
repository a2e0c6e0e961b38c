// Package servertest runs the real mall handler over HTTP against a real
// database, for end-to-end tests.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"unionmall/ent"
	"unionmall/ent/member"
	"unionmall/internal/auth"
	"unionmall/internal/db"
	"unionmall/internal/media"
	"unionmall/internal/payments"
	"unionmall/internal/role"
	"unionmall/internal/server"
	"unionmall/internal/testdb"
)

// Admin's credentials in every test server.
const (
	AdminPhone    = "13900000000"
	AdminPassword = "admin-password-1"
)

// Cheap hashing keeps tests fast; production uses argon2id's defaults.
var cheapHash = auth.HashParams{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// Mall is a running test server.
type Mall struct {
	T      testing.TB
	DB     *testdb.DB
	Server *server.Server
	HTTP   *httptest.Server
	// Admin is a token of the ADMIN.
	Admin string
}

// Options tweak a test server.
type Options struct {
	TokenTTL time.Duration
	// PaymentWindow defaults to 15 minutes.
	PaymentWindow time.Duration
	// NoWorkers leaves the background workers (order expiry) off.
	NoWorkers bool
	// NoIntrospection turns GraphQL introspection off.
	NoIntrospection bool
	// DB replaces the database handle (e.g. a statement-counting one).
	DB *db.DB
	// WeChatPay takes payments by WeChat Pay (see StartWithWeChatPay); its
	// notify URLs are pointed at the test server.
	WeChatPay *payments.WeChat
	// PaymentSandbox offers the SANDBOX channel.
	PaymentSandbox bool
	// RefundPoll: see server.Options.
	RefundPoll time.Duration
	// Media stores product images (default: a directory of the test's);
	// MediaMaxBytes: see server.Options.
	Media         media.Store
	MediaMaxBytes int64
	// AllowedOrigins, AllowedHeaders, TrustedDocuments: see server.Options.
	AllowedOrigins, AllowedHeaders []string
	TrustedDocuments               string
	// ResponseCache: see server.Options (zero: off, as most tests read
	// what they changed underneath).
	ResponseCache int
}

// Start runs a mall on d with an ADMIN signed in.
func Start(t testing.TB, d *testdb.DB, o Options) *Mall {
	t.Helper()
	if o.TokenTTL == 0 {
		o.TokenTTL = time.Hour
	}
	if o.PaymentWindow == 0 {
		o.PaymentWindow = 15 * time.Minute
	}
	if o.Media == nil {
		dir, err := media.NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		o.Media = dir
	}
	h := d.DB
	if o.DB != nil {
		h = o.DB
	}
	srv, err := server.New(h, server.Options{
		TokenTTL:         o.TokenTTL,
		PaymentWindow:    o.PaymentWindow,
		SecretKey:        []byte("test-secret-key-of-some-length"),
		HashParams:       cheapHash,
		Introspection:    !o.NoIntrospection,
		DatabaseURL:      d.URL,
		WeChatPay:        o.WeChatPay,
		PaymentSandbox:   o.PaymentSandbox,
		RefundPoll:       o.RefundPoll,
		AllowedOrigins:   o.AllowedOrigins,
		AllowedHeaders:   o.AllowedHeaders,
		TrustedDocuments: o.TrustedDocuments,
		Media:            o.Media,
		MediaMaxBytes:    o.MediaMaxBytes,
		ResponseCache:    o.ResponseCache,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Accounts.EnsureAdmin(context.Background(), AdminPhone, AdminPassword); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler)
	t.Cleanup(ts.Close)
	if w := o.WeChatPay; w != nil && w.NotifyURL == "" {
		w.NotifyURL, w.RefundNotifyURL = ts.URL+payments.NotifyPath, ts.URL+payments.RefundNotifyPath
	}
	if !o.NoWorkers {
		ctx, cancel := context.WithCancel(context.Background())
		srv.RunWorkers(ctx)
		t.Cleanup(cancel)
	}
	m := &Mall{T: t, DB: d, Server: srv, HTTP: ts}
	m.Admin = m.Login(AdminPhone, AdminPassword)
	return m
}

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Response is a GraphQL response.
type Response struct {
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
	Status int             `json:"-"`
}

// Code is the first error's code, "" when there is none.
func (r *Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// Decode unmarshals data into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
}

// Do posts a GraphQL request with the token ("" for anonymous).
func (m *Mall) Do(token, query string, vars map[string]any) *Response {
	m.T.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, m.HTTP.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := m.HTTP.Client().Do(req)
	if err != nil {
		m.T.Fatalf("post: %v", err)
	}
	defer res.Body.Close()
	var out Response
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		m.T.Fatalf("decode response (%d): %v", res.StatusCode, err)
	}
	out.Status = res.StatusCode
	return &out
}

// MustDo is Do that fails the test on any GraphQL error and decodes data
// into v (when v is not nil).
func (m *Mall) MustDo(token, query string, vars map[string]any, v any) {
	m.T.Helper()
	r := m.Do(token, query, vars)
	if len(r.Errors) > 0 {
		m.T.Fatalf("%s\nerrors: %+v", firstLine(query), r.Errors)
	}
	if v != nil {
		r.Decode(m.T, v)
	}
}

func firstLine(q string) string {
	q = strings.TrimSpace(q)
	if i := strings.IndexByte(q, '\n'); i > 0 {
		return q[:i]
	}
	return q
}

// Login signs in and returns the token.
func (m *Mall) Login(phone, password string) string {
	m.T.Helper()
	var out struct {
		Login struct{ Token string }
	}
	m.MustDo("", `mutation($i: LoginInput!) { login(input: $i) { token } }`,
		map[string]any{"i": map[string]any{"phone": phone, "password": password}}, &out)
	return out.Login.Token
}

// Member is a registered member in a test.
type Member struct {
	ID, Phone, Password, Token string
}

var phoneSeq = make(chan int, 1)

func init() { phoneSeq <- 0 }

// NextPhone returns a phone number not used before in this process.
func NextPhone() string {
	n := <-phoneSeq
	phoneSeq <- n + 1
	return fmt.Sprintf("137%08d", n)
}

// Register creates an UNVERIFIED member.
func (m *Mall) Register(name string) Member {
	m.T.Helper()
	mem := Member{Phone: NextPhone(), Password: "password-" + name}
	var out struct {
		RegisterMember struct {
			Token  string
			Member struct{ ID string }
		}
	}
	m.MustDo("", `mutation($i: RegisterMemberInput!) { registerMember(input: $i) { token member { id } } }`,
		map[string]any{"i": map[string]any{"phone": mem.Phone, "password": mem.Password, "displayName": name}}, &out)
	mem.ID, mem.Token = out.RegisterMember.Member.ID, out.RegisterMember.Token
	return mem
}

// Verified registers a member, submits a valid identity number and has the
// admin approve it.
func (m *Mall) Verified(name string) Member {
	m.T.Helper()
	mem := m.Register(name)
	m.MustDo(mem.Token, `mutation($i: RealNameInput!) { submitRealNameVerification(input: $i) { id } }`,
		map[string]any{"i": map[string]any{"realName": "张" + name, "idNumber": NextIDNumber()}}, nil)
	m.MustDo(m.Admin, `mutation($ids: [ID!]!) { reviewRealNameVerifications(input: {memberIDs: $ids, approve: true}) { id } }`,
		map[string]any{"ids": []string{mem.ID}}, nil)
	return mem
}

var idSeq = make(chan int, 1)

func init() { idSeq <- 0 }

// NextIDNumber returns a valid identity number (GB 11643) not used before in
// this process.
func NextIDNumber() string {
	n := <-idSeq
	idSeq <- n + 1
	first17 := fmt.Sprintf("610102%s%03d", "19900101", n%1000)
	// Vary the birth date beyond 1000 numbers.
	if n >= 1000 {
		day := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n/1000)
		first17 = fmt.Sprintf("610102%s%03d", day.Format("20060102"), n%1000)
	}
	return first17 + string(CheckDigit(first17))
}

// CheckDigit computes GB 11643's check character of the first 17 digits.
func CheckDigit(first17 string) byte {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(first17[i]-'0') * w
	}
	return "10X98765432"[sum%11]
}

// BulkVerified creates n VERIFIED members straight in the database (fast:
// no password hashing, no review) and signs each in. For load and race
// tests that need many buyers.
func (m *Mall) BulkVerified(n int) []Member {
	m.T.Helper()
	ctx := context.Background()
	client := m.Server.DB.Client
	out := make([]Member, 0, n)
	for start := 0; start < n; start += 500 {
		size := min(500, n-start)
		creates := make([]*ent.MemberCreate, size)
		phones := make([]string, size)
		for i := range creates {
			phones[i] = NextPhone()
			creates[i] = client.Member.Create().
				SetPhone(phones[i]).
				SetPasswordHash("not-a-hash").
				SetDisplayName("买家" + phones[i][7:]).
				SetRoles(role.Set{role.Member}).
				SetVerificationStatus(member.VerificationStatusVERIFIED)
		}
		members, err := client.Member.CreateBulk(creates...).Save(ctx)
		if err != nil {
			m.T.Fatalf("bulk members: %v", err)
		}
		tokens, err := m.Server.Sessions.IssueMany(ctx, client, members)
		if err != nil {
			m.T.Fatalf("tokens: %v", err)
		}
		for i, mem := range members {
			out = append(out, Member{ID: string(mem.ID), Phone: phones[i], Token: tokens[i]})
		}
	}
	return out
}

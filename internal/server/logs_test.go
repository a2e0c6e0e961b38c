package server_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// logsBuffer collects log output; handlers write from many goroutines.
type logsBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logsBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logsBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logsCapture sends slog's default logger (and with it the log package)
// to w as JSON at level DEBUG until the test ends.
func logsCapture(t testing.TB, w *logsBuffer) {
	t.Helper()
	prev, prevOut, prevFlags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() {
		// Restoring slog's own default leaves the log package writing
		// through our handler: put its output back too.
		slog.SetDefault(prev)
		log.SetOutput(prevOut)
		log.SetFlags(prevFlags)
	})
}

func logsRandom(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// logsIDNumberX returns a valid identity number whose check character is
// X, so that its lower-case variant can be submitted too.
func logsIDNumberX(t testing.TB) string {
	t.Helper()
	for seq := 100; seq < 1000; seq++ {
		first17 := fmt.Sprintf("11010519491231%03d", seq)
		if servertest.CheckDigit(first17) == 'X' {
			return first17 + "X"
		}
	}
	t.Fatal("no identity number with check character X")
	return ""
}

// TestLogsHoldNoSecrets captures the server's logs (slog at DEBUG, as
// JSON) through a whole session — registration, sign-in, a failed sign-in,
// malformed requests quoting a password, real-name verification, review,
// a coupon claim, an order, payment, a flash-sale purchase, websockets with
// a good and a bad token, a password change, logout, an internal error —
// and finds no password, no token (whole or its random part) and no full
// identity number in them, while the masked forms are there.
func TestLogsHoldNoSecrets(t *testing.T) {
	var logs logsBuffer
	logsCapture(t, &logs)
	d := testdb.Open(t, "sqlite")
	m := servertest.Start(t, d, servertest.Options{})

	password := "Pw-" + logsRandom(t, 10)
	wrong := "Wrong-" + logsRandom(t, 10)
	newPassword := "NewPw-" + logsRandom(t, 10)
	idNumber := logsIDNumberX(t)
	badToken := "mall_" + logsRandom(t, 32)
	phone := servertest.NextPhone()
	tokens := []string{m.Admin, badToken}

	// Register and sign in; fail to sign in.
	var reg struct{ RegisterMember struct{ Token string } }
	servertest.MustDo(t, m, "", servertest.RegisterQ, map[string]any{"i": map[string]any{"phone": phone, "password": password, "displayName": "日志会员"}}, &reg)
	token := reg.RegisterMember.Token
	session := m.Login(phone, password)
	tokens = append(tokens, token, session)
	login := func(phone, password string) *servertest.Response {
		return m.Do("", servertest.LoginQ, map[string]any{"i": map[string]any{"phone": phone, "password": password}})
	}
	servertest.WantCode(t, login(phone, wrong), "INVALID_CREDENTIALS")
	servertest.WantCode(t, login(servertest.NextPhone(), wrong), "INVALID_CREDENTIALS")

	// Requests that quote the password but cannot be run.
	for _, body := range []string{
		`{"query": "mutation { login(input: {phone: \"` + phone + `\", password: \"` + password + `\"}) { token } }", `,
		`{"query": "mutation { login(input: {phone: \"` + phone + `\", password: \"` + password + `\"}) { token } `,
		`{"query": "mutation { login(input: {phone: \"` + phone + `\", password: \"` + password + `\", otp: 1}) { token } }"}`,
		`{"query": "mutation($i: LoginInput!) { login(input: $i) { token } }", "variables": {"i": {"phone": 13800000000, "password": "` + password + `"}}}`,
		`{"query": "mutation($i: LoginInput!) { login(input: $i) { token } }", "variables": {"i": {"phone": "` + phone + `", "password": ["` + password + `"]}}}`,
		`[{"query": "mutation { login(input: {phone: \"` + phone + `\", password: \"` + password + `\"}) { token } }"}]`,
	} {
		res, err := http.Post(m.HTTP.URL+"/graphql", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("%s: status %d", body, res.StatusCode)
		}
	}

	// Real-name verification with the lower-case check character; review.
	var me struct {
		SubmitRealNameVerification struct{ ID, VerificationStatus string }
	}
	servertest.MustDo(t, m, session, servertest.SubmitRealNameQ, map[string]any{"i": map[string]any{
		"realName": "欧阳日志", "idNumber": strings.ToLower(idNumber)}}, &me)
	memberID := me.SubmitRealNameVerification.ID
	servertest.MustDo(t, m, m.Admin, servertest.ReviewQ, map[string]any{"i": map[string]any{"memberIDs": []string{memberID}, "approve": true}}, nil)

	// Shop: a coupon pack, an order with the coupon, payment, a flash sale.
	s := servertest.NewShop(t, m)
	tea := s.Product(t, "紫阳富硒茶", "30.00", "", 100)
	coupons := servertest.ClaimPack(t, m, session, servertest.NewCampaign(t, m, time.Now().Add(time.Hour)))
	o := servertest.PlaceOrder(t, m, session, []servertest.Line{{ID: tea, Qty: 1}}, map[string]any{"shippingAddress": servertest.ValidAddress, "couponID": coupons["20.00"]})
	servertest.Pay(t, m, o, "WX-LOGS-1")
	now := time.Now().UTC()
	sale := servertest.CreateSale(t, m, tea, "1", 10, 1, now.Add(-time.Second), now.Add(time.Hour))
	servertest.MustDo(t, m, session, servertest.BuyQ, map[string]any{"i": map[string]any{"flashSaleID": sale.ID}}, nil)

	// Websockets: the token, then a bad one; HTTP with the bad one.
	ws := servertest.WatchStock(t, m.HTTP.URL, servertest.TransportWS, map[string]any{"Authorization": "Bearer " + session}, sale.ID)
	servertest.WaitSold(t, ws, 1, 3*time.Second)
	ws.Close()
	for _, proto := range []string{servertest.TransportWS, servertest.LegacyWS} {
		if code := secWSInit(t, m, proto, map[string]any{"Authorization": "Bearer " + badToken}); code != 4403 {
			t.Fatalf("%s with a bad token: close %d", proto, code)
		}
	}
	if servertest.MeID(t, m, badToken) != "" {
		t.Fatal("the bad token signs in")
	}

	// A password change, sign-in with the new one, throttled sign-ins, logout.
	servertest.MustDo(t, m, session, servertest.ChangePasswordQ, map[string]any{"i": map[string]any{"oldPassword": password, "newPassword": newPassword}}, nil)
	third := m.Login(phone, newPassword)
	tokens = append(tokens, third)
	for range 8 {
		login(phone, wrong)
	}
	for _, tok := range []string{third, session} {
		servertest.MustDo(t, m, tok, `mutation { logout }`, nil, nil)
	}

	// An internal error (not a panic): a table the server needs is gone.
	if _, err := d.Pool.Exec(`ALTER TABLE live_events RENAME TO live_events_gone`); err != nil {
		t.Fatal(err)
	}
	r := m.Do(token, `{ liveEvents { totalCount } }`, nil)
	servertest.WantCode(t, r, "INTERNAL_SERVER_ERROR")
	if b, _ := json.Marshal(r.Errors); strings.Contains(string(b), "live_events") {
		t.Fatalf("the internal error reaches the client: %s", b)
	}
	time.Sleep(100 * time.Millisecond) // background log lines, if any

	out := logs.String()
	for _, want := range []string{`"msg":"member registered"`, `"msg":"login refused"`, `"msg":"login throttled"`,
		`"msg":"real name submitted"`, `"msg":"internal error"`, `"level":"DEBUG"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the logs lack %s (is the capture working?)", want)
		}
	}
	if strings.Contains(out, "panic in resolver") {
		t.Error("a resolver panicked")
	}

	secrets := map[string]string{
		"the password":                         password,
		"the wrong password":                   wrong,
		"the new password":                     newPassword,
		"the identity number":                  idNumber,
		"the identity number (lower-case x)":   strings.ToLower(idNumber),
		"the identity number's first 17 chars": idNumber[:17],
	}
	for i, tok := range tokens {
		secrets[fmt.Sprintf("token %d", i)] = tok
		secrets[fmt.Sprintf("token %d's random part", i)] = strings.TrimPrefix(tok, "mall_")
	}
	for what, secret := range secrets {
		if i := strings.Index(out, secret); i >= 0 {
			line := out[strings.LastIndexByte(out[:i], '\n')+1:]
			if j := strings.IndexByte(line, '\n'); j >= 0 {
				line = line[:j]
			}
			t.Errorf("the logs hold %s: %s", what, line)
		}
	}
	// The masked forms are what is logged.
	maskedPhone := phone[:3] + "****" + phone[7:]
	maskedID := idNumber[:2] + strings.Repeat("*", 14) + idNumber[16:]
	for what, want := range map[string]string{"masked phone": maskedPhone, "masked identity number": maskedID} {
		if !strings.Contains(out, want) {
			t.Errorf("the logs lack the %s %s", what, want)
		}
	}
	// Personal data beyond the brief: report, do not fail.
	for what, pii := range map[string]string{"full phone": phone, "real name": "欧阳日志", "address phone": "13812345678"} {
		if strings.Contains(out, pii) {
			t.Logf("note: the logs hold the %s", what)
		}
	}
	if t.Failed() {
		t.Logf("captured logs:\n%s", out)
	}
}

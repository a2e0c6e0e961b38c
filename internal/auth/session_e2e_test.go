package auth_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// Unusable Authorization headers make a request anonymous, not an error.
func TestBadAuthorizationHeaders(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		mem := m.Register("会员")
		get := func(header string) (status int, body string) {
			req, _ := http.NewRequest(http.MethodGet, m.HTTP.URL+"/graphql?query=%7Bme%7Bid%7D%7D", nil)
			if header != "" {
				req.Header.Set("Authorization", header)
			}
			res, err := m.HTTP.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var b [4096]byte
			n, _ := res.Body.Read(b[:])
			return res.StatusCode, string(b[:n])
		}
		for _, h := range []string{
			"Bearer garbage",
			"Bearer mall_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			"Bearer " + mem.Token + "x",
			"Bearer ",
			"Bearer",
			"Basic dXNlcjpwYXNz",
			mem.Token,
			"Bearer mall_" + strings.Repeat("A", 300),
		} {
			status, body := get(h)
			if status != http.StatusOK || body != `{"data":{"me":null}}` {
				t.Fatalf("Authorization %.30q: %d %s", h, status, body)
			}
		}
		// The scheme is case-insensitive.
		if status, body := get("bearer " + mem.Token); status != http.StatusOK || body != `{"data":{"me":{"id":"`+mem.ID+`"}}}` {
			t.Fatalf("lower-case bearer: %d %s", status, body)
		}
	})
}

// A token unused for longer than the TTL stops working. The only test that
// sleeps; its two databases sleep at the same time.
func TestTokenTTL(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		t.Parallel()
		m := servertest.Start(t, d, servertest.Options{TokenTTL: 2 * time.Second})
		mem := m.Register("会员")
		if servertest.MeID(t, m, mem.Token) != mem.ID {
			t.Fatal("a fresh token does not work")
		}
		tokens := servertest.Rows(t, d, "auth_tokens")
		time.Sleep(3 * time.Second)
		if id := servertest.MeID(t, m, mem.Token); id != "" {
			t.Fatalf("me with an expired token: %q", id)
		}
		servertest.WantCode(t, m.Do(mem.Token, `mutation { logout }`, nil), "UNAUTHENTICATED")
		servertest.WantCode(t, m.Do(m.Admin, `{ pendingVerifications { totalCount } }`, nil), "UNAUTHENTICATED")
		if n := servertest.Rows(t, d, "auth_tokens"); n >= tokens {
			t.Errorf("expired tokens are kept: %d before, %d after", tokens, n)
		}
		// Signing in again gives a working token.
		if servertest.MeID(t, m, m.Login(mem.Phone, mem.Password)) != mem.ID {
			t.Fatal("a new token after expiry does not work")
		}
	})
}

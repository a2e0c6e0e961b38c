package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"unionmall/internal/auth"
	"unionmall/internal/server"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// Behind a trusted proxy, failed sign-ins are counted per the address the
// proxy appended to X-Forwarded-For: a client that writes a new address of
// its own before it every time is still limited after 50 failures, and
// another client behind the same proxy is not.
func TestSignInLimitBehindProxyIgnoresClientsForwardedFor(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		srv, err := server.New(d.DB, server.Options{
			TokenTTL:      time.Hour,
			PaymentWindow: 15 * time.Minute,
			SecretKey:     []byte("test-secret-key-of-some-length"),
			HashParams:    auth.HashParams{MemoryKiB: 64, Iterations: 1, Parallelism: 1},
			TrustProxy:    true,
		})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv.Handler)
		defer ts.Close()
		login := func(xff string) string {
			t.Helper()
			body, _ := json.Marshal(map[string]any{"query": servertest.LoginQ, "variables": map[string]any{
				"i": map[string]any{"phone": servertest.NextPhone(), "password": "wrong-password"}}})
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", xff)
			res, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var out servertest.Response
			if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
			return out.Code()
		}
		// Each attempt a new phone, so that only the address limit applies.
		for i := range 50 {
			if code := login(fmt.Sprintf("10.%d.%d.1, 203.0.113.7", i/250, i%250)); code != "INVALID_CREDENTIALS" {
				t.Fatalf("attempt %d: %s", i+1, code)
			}
		}
		if code := login("10.99.99.1, 203.0.113.7"); code != "RATE_LIMITED" {
			t.Fatalf("the 51st failure behind the same proxy address: %s, want RATE_LIMITED", code)
		}
		if code := login("10.99.99.1, 203.0.113.8"); code != "INVALID_CREDENTIALS" {
			t.Fatalf("another client behind the proxy: %s, want INVALID_CREDENTIALS", code)
		}
	})
}

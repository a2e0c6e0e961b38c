package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// preflight sends a browser's CORS preflight for a POST with headers.
func preflight(t *testing.T, m *servertest.Mall, origin string, headers ...string) http.Header {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, m.HTTP.URL+"/graphql", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", http.MethodPost)
	// As browsers send it: lower case, sorted, no spaces.
	headers = slices.Sorted(slices.Values(headers))
	req.Header.Set("Access-Control-Request-Headers", strings.Join(headers, ","))
	res, err := m.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.Header
}

// corsPost sends a query from origin and returns Access-Control-Allow-Origin.
func corsPost(t *testing.T, m *servertest.Mall, origin string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, m.HTTP.URL+"/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", origin)
	res, err := m.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST from %s: %d", origin, res.StatusCode)
	}
	return res.Header.Get("Access-Control-Allow-Origin")
}

// wsStatus opens a websocket from origin: 101 when the upgrade succeeds,
// else the refusal's HTTP status.
func wsStatus(t *testing.T, m *servertest.Mall, origin string) int {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	c, res, err := d.Dial("ws"+strings.TrimPrefix(m.HTTP.URL, "http")+"/graphql", h)
	if err == nil {
		c.Close()
		return http.StatusSwitchingProtocols
	}
	if res == nil {
		t.Fatalf("dial from %q: %v", origin, err)
	}
	return res.StatusCode
}

func TestCORSAndWebsocketOrigins(t *testing.T) {
	d := testdb.Open(t, "sqlite") // transport behaviour: one database kind is enough
	apollo := []string{"content-type", "authorization", "apollographql-client-name", "apollographql-client-version"}
	tests := []struct {
		name     string
		patterns []string
		origin   string
		allowed  bool
	}{
		{"exact", []string{"https://shop.example.org"}, "https://shop.example.org", true},
		{"exact, other host", []string{"https://shop.example.org"}, "https://evil.example.org", false},
		{"subdomain pattern", []string{"https://*.example.org"}, "https://m.shop.example.org", true},
		{"subdomain pattern, the domain itself", []string{"https://*.example.org"}, "https://example.org", false},
		{"subdomain pattern, suffix trick", []string{"https://*.example.org"}, "https://example.org.evil.example", false},
		{"subdomain pattern, other scheme", []string{"https://*.example.org"}, "http://shop.example.org", false},
		{"any port", []string{"http://localhost:*"}, "http://localhost:5173", true},
		{"any port, other host", []string{"http://localhost:*"}, "http://127.0.0.1:5173", false},
		{"star", []string{"*"}, "https://anything.example", true},
		{"star, null origin", []string{"*"}, "null", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := servertest.Start(t, d, servertest.Options{NoWorkers: true, AllowedOrigins: tt.patterns})
			pre := preflight(t, m, tt.origin, apollo...)
			post := corsPost(t, m, tt.origin)
			ws := wsStatus(t, m, tt.origin)
			if tt.allowed {
				if pre.Get("Access-Control-Allow-Origin") != tt.origin || post != tt.origin {
					t.Errorf("HTTP refused %s: preflight %v, POST %q", tt.origin, pre, post)
				}
				for _, h := range apollo {
					if !strings.Contains(strings.ToLower(pre.Get("Access-Control-Allow-Headers")), h) {
						t.Errorf("preflight does not allow %s: %v", h, pre)
					}
				}
				if ws != http.StatusSwitchingProtocols {
					t.Errorf("websocket from %s refused with %d", tt.origin, ws)
				}
			} else {
				if pre.Get("Access-Control-Allow-Origin") != "" || post != "" {
					t.Errorf("HTTP allowed %s: preflight %v, POST %q", tt.origin, pre, post)
				}
				if ws != http.StatusForbidden {
					t.Errorf("websocket from %s: %d, want 403", tt.origin, ws)
				}
			}
		})
	}
}

// ALLOWED_HEADERS replaces the defaults.
func TestCORSAllowedHeadersConfigured(t *testing.T) {
	d := testdb.Open(t, "sqlite") // transport behaviour: one database kind is enough
	origin := "https://shop.example.org"
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true, AllowedOrigins: []string{origin}, AllowedHeaders: []string{"Content-Type", "X-Shop-Token"}})
	if h := preflight(t, m, origin, "content-type", "x-shop-token"); h.Get("Access-Control-Allow-Origin") != origin {
		t.Errorf("configured header refused: %v", h)
	}
	if h := preflight(t, m, origin, "content-type", "apollographql-client-name"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a header not configured was allowed: %v", h)
	}
}

// Without ALLOWED_ORIGINS there is no CORS, and websockets are same-origin only.
func TestNoOriginsSameOriginOnly(t *testing.T) {
	d := testdb.Open(t, "sqlite") // transport behaviour: one database kind is enough
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	if h := preflight(t, m, "https://shop.example.org", "content-type"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS answered without ALLOWED_ORIGINS: %v", h)
	}
	if ws := wsStatus(t, m, "https://shop.example.org"); ws != http.StatusForbidden {
		t.Errorf("cross-origin websocket: %d", ws)
	}
	if ws := wsStatus(t, m, m.HTTP.URL); ws != http.StatusSwitchingProtocols {
		t.Errorf("same-origin websocket: %d", ws)
	}
}

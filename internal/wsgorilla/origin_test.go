package wsgorilla

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAllowOrigins(t *testing.T) {
	req := func(host, origin string) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, "http://"+host+"/query", nil)
		r.Host = host
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		return r
	}
	cases := []struct {
		name    string
		allowed []string
		host    string
		origin  string
		want    bool
	}{
		// Empty list: same origin only; no Origin header is a non-browser client.
		{"same: no origin", nil, "api.mall.example", "", true},
		{"same: equal host", nil, "api.mall.example", "https://api.mall.example", true},
		{"same: equal host and port", nil, "localhost:8080", "http://localhost:8080", true},
		{"same: case folded", nil, "API.Mall.example", "https://api.MALL.example", true},
		{"same: other host", nil, "api.mall.example", "https://evil.example", false},
		{"same: other port", nil, "localhost:8080", "http://localhost:3000", false},
		{"same: port missing", nil, "localhost:8080", "http://localhost", false},
		{"same: null", nil, "api.mall.example", "null", false},
		{"same: garbage", nil, "api.mall.example", "%zz", false},
		{"same: suffix trick", nil, "mall.example", "https://mall.example.evil.example", false},
		{"same: empty list slice", []string{}, "a.example", "https://b.example", false},

		// A list: the Origin must be listed exactly (scheme://host[:port]).
		{"list: listed", []string{"https://shop.example"}, "api.example", "https://shop.example", true},
		{"list: second", []string{"https://shop.example", "http://localhost:3000"}, "api.example", "http://localhost:3000", true},
		{"list: no origin", []string{"https://shop.example"}, "api.example", "", true},
		{"list: case", []string{"https://Shop.Example"}, "api.example", "https://shop.example", true},
		{"list: trailing slash in config", []string{"https://shop.example/"}, "api.example", "https://shop.example", true},
		{"list: other scheme", []string{"https://shop.example"}, "api.example", "http://shop.example", false},
		{"list: other port", []string{"http://localhost:3000"}, "api.example", "http://localhost:3001", false},
		{"list: implicit port not equal", []string{"https://shop.example"}, "api.example", "https://shop.example:443", false},
		{"list: subdomain", []string{"https://shop.example"}, "api.example", "https://a.shop.example", false},
		{"list: prefix", []string{"https://shop.example"}, "api.example", "https://shop.example.evil", false},
		{"list: path", []string{"https://shop.example"}, "api.example", "https://shop.example/x", false},
		{"list: same origin not listed", []string{"https://shop.example"}, "api.example", "https://api.example", false},
		{"list: null", []string{"https://shop.example"}, "api.example", "null", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := AllowOrigins(tc.allowed)(req(tc.host, tc.origin)); got != tc.want {
				t.Fatalf("AllowOrigins(%q) host=%q origin=%q = %v, want %v", tc.allowed, tc.host, tc.origin, got, tc.want)
			}
		})
	}
}

func TestTruncateReason(t *testing.T) {
	if got := truncateReason("short"); got != "short" {
		t.Fatal(got)
	}
	ascii := strings.Repeat("a", 300)
	if got := truncateReason(ascii); len(got) != maxCloseReason {
		t.Fatalf("len %d", len(got))
	}
	multi := strings.Repeat("€", 100) // 3 bytes each
	got := truncateReason(multi)
	if len(got) > maxCloseReason || !utf8.ValidString(got) || len(got) != 123 {
		t.Fatalf("len %d valid %v", len(got), utf8.ValidString(got))
	}
	two := strings.Repeat("é", 100) // 2 bytes each: cut to 122
	if got := truncateReason(two); len(got) != 122 || !utf8.ValidString(got) {
		t.Fatalf("len %d", len(got))
	}
}

func TestNewDefaults(t *testing.T) {
	impl := New(Options{})
	u := impl.upgrader
	if u.ReadBufferSize != DefaultReadBufferSize || u.WriteBufferSize != DefaultWriteBufferSize ||
		u.WriteBufferPool == nil || u.EnableCompression || u.CheckOrigin == nil ||
		u.HandshakeTimeout != DefaultHandshakeTimeout || impl.writeTimeout != DefaultWriteTimeout {
		t.Fatalf("defaults: %+v %+v", u, impl)
	}
	impl = New(Options{HandshakeTimeout: -1, WriteTimeout: -1, ReadBufferSize: 256})
	if impl.upgrader.HandshakeTimeout != 0 || impl.writeTimeout != 0 || impl.closeTimeout != DefaultWriteTimeout ||
		impl.upgrader.ReadBufferSize != 256 {
		t.Fatalf("negative: %+v", impl)
	}
}

func TestOriginPatterns(t *testing.T) {
	cases := []struct {
		pattern, origin string
		want            bool
	}{
		{"*", "https://any.example", true},
		{"*", "http://localhost:3000", true},
		{"*", "null", false},
		{"*", "https://a.example/path", false},
		{"https://*.example.com", "https://shop.example.com", true},
		{"https://*.example.com", "https://a.b.example.com", true},
		{"https://*.EXAMPLE.com/", "https://Shop.example.com", true},
		{"https://*.example.com", "https://example.com", false},
		{"https://*.example.com", "https://evilexample.com", false},
		{"https://*.example.com", "https://shop.example.com.evil", false},
		{"https://*.example.com", "http://shop.example.com", false},
		{"https://*.example.com", "https://shop.example.com:8443", false},
		{"https://*.example.com:8443", "https://shop.example.com:8443", true},
		{"http://localhost:*", "http://localhost:5173", true},
		{"http://localhost:*", "http://localhost", true},
		{"http://localhost:*", "http://localhost.evil:5173", false},
		{"http://[::1]:*", "http://[::1]:3000", true},
		{"https://shop.example", "https://*.example", false}, // a star in an Origin matches nothing
	}
	for _, tc := range cases {
		o, err := ParseOrigins([]string{tc.pattern})
		if err != nil {
			t.Fatalf("%q: %v", tc.pattern, err)
		}
		if got := o.Match(tc.origin); got != tc.want {
			t.Errorf("%q matches %q: %v, want %v", tc.pattern, tc.origin, got, tc.want)
		}
	}
	for _, bad := range []string{"shop.example", "https://", "https://a*.example", "https://*.*.example", "https://x.example:8*", "https://x.example/path", "*.example.com"} {
		if _, err := ParseOrigins([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"unionmall/internal/auth"
)

// Behind trusted proxies the client's address is the entry the outermost
// trusted proxy appended: the hops-th from the right of all
// X-Forwarded-For lines together, whatever the client wrote before it.
func TestClientAddr(t *testing.T) {
	const peer = "192.0.2.1"
	tests := []struct {
		name   string
		hops   int
		remote string // default peer:34567
		xff    []string
		want   string
	}{
		{name: "proxy not trusted", hops: 0, xff: []string{"203.0.113.7"}, want: peer},
		{name: "no header", hops: 1, want: peer},
		{name: "peer without a port", hops: 0, remote: peer, want: peer},
		{name: "one entry", hops: 1, xff: []string{"203.0.113.7"}, want: "203.0.113.7"},
		{name: "client's own entry is ignored", hops: 1, xff: []string{"6.6.6.6, 203.0.113.7"}, want: "203.0.113.7"},
		{name: "many spoofed entries", hops: 1, xff: []string{"1.1.1.1, 2.2.2.2,3.3.3.3 , 203.0.113.7"}, want: "203.0.113.7"},
		{name: "several header lines are one list", hops: 1, xff: []string{"6.6.6.6", "203.0.113.7"}, want: "203.0.113.7"},
		{name: "lines of several entries", hops: 1, xff: []string{"6.6.6.6, 7.7.7.7", "8.8.8.8, 203.0.113.7"}, want: "203.0.113.7"},
		{name: "two hops", hops: 2, xff: []string{"6.6.6.6, 198.51.100.9, 10.0.0.2"}, want: "198.51.100.9"},
		{name: "two hops over two lines", hops: 2, xff: []string{"6.6.6.6, 198.51.100.9", "10.0.0.2"}, want: "198.51.100.9"},
		{name: "fewer entries than hops: the leftmost", hops: 3, xff: []string{"198.51.100.9, 10.0.0.2"}, want: "198.51.100.9"},
		{name: "empty entries skipped", hops: 1, xff: []string{"6.6.6.6,, 203.0.113.7,"}, want: "203.0.113.7"},
		{name: "IPv4 with a port", hops: 1, xff: []string{"203.0.113.7:4711"}, want: "203.0.113.7"},
		{name: "IPv6", hops: 1, xff: []string{"2001:DB8::1"}, want: "2001:db8::1"},
		{name: "IPv6 in brackets", hops: 1, xff: []string{"[2001:db8::1]"}, want: "2001:db8::1"},
		{name: "IPv6 with a port", hops: 1, xff: []string{"[2001:db8::1]:443"}, want: "2001:db8::1"},
		{name: "IPv4-mapped IPv6", hops: 1, xff: []string{"::ffff:203.0.113.7"}, want: "203.0.113.7"},
		{name: "zone dropped", hops: 1, xff: []string{"fe80::1%eth0"}, want: "fe80::1"},
		{name: "unparsable entry: the peer", hops: 1, xff: []string{"203.0.113.7, unknown"}, want: peer},
		{name: "obfuscated identifier: the peer", hops: 1, xff: []string{"_hidden"}, want: peer},
		{name: "host name: the peer", hops: 1, xff: []string{"proxy.example"}, want: peer},
		{name: "only commas: the peer", hops: 1, xff: []string{" , ,"}, want: peer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			h := clientAddr(tt.hops, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				got = auth.ClientAddr(r.Context())
			}))
			r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
			r.RemoteAddr = peer + ":34567"
			if tt.remote != "" {
				r.RemoteAddr = tt.remote
			}
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got != tt.want {
				t.Fatalf("client address %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTrustedHops(t *testing.T) {
	for _, tt := range []struct {
		o    Options
		want int
	}{
		{Options{}, 0},
		{Options{TrustedProxyHops: 2}, 0},
		{Options{TrustProxy: true}, 1},
		{Options{TrustProxy: true, TrustedProxyHops: 3}, 3},
	} {
		if got := trustedHops(tt.o); got != tt.want {
			t.Errorf("trustedHops(%+v) = %d, want %d", tt.o, got, tt.want)
		}
	}
}

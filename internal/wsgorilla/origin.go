package wsgorilla

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Origins is a parsed list of allowed origins. The same value answers the
// websocket handshake (CheckOrigin) and CORS (Match, e.g. as rs/cors's
// AllowOriginFunc), so a pattern means the same for both. Each pattern is
//
//   - "*": any origin but "null";
//   - scheme://host[:port], matched exactly (ASCII case and a trailing slash
//     in the list are ignored; no port matches only no port);
//   - scheme://*.domain[:port]: any host below domain (not domain itself);
//   - scheme://host:*: host on any port, or none.
type Origins struct {
	patterns []originPattern
}

type originPattern struct {
	any          bool
	scheme, host string // host without "*." for subdomains
	port         string
	subdomains   bool
	anyPort      bool
}

// ParseOrigins reads patterns as Origins describes.
func ParseOrigins(patterns []string) (*Origins, error) {
	o := &Origins{}
	for _, raw := range patterns {
		s := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(raw), "/"))
		if s == "" {
			continue
		}
		if s == "*" {
			o.patterns = append(o.patterns, originPattern{any: true})
			continue
		}
		scheme, host, port, ok := splitOrigin(s)
		if !ok || strings.Contains(strings.TrimPrefix(host, "*."), "*") || (strings.Contains(port, "*") && port != "*") {
			return nil, fmt.Errorf("origin %q: want *, scheme://host[:port], scheme://*.domain or scheme://host:*", raw)
		}
		p := originPattern{scheme: scheme, host: host, port: port}
		if strings.HasPrefix(host, "*.") {
			p.subdomains, p.host = true, host[1:] // keep the dot: ".example.com"
		}
		if port == "*" {
			p.anyPort, p.port = true, ""
		}
		o.patterns = append(o.patterns, p)
	}
	return o, nil
}

// Empty reports whether no pattern was given (then only the same origin
// may use websockets, and CORS is off).
func (o *Origins) Empty() bool { return o == nil || len(o.patterns) == 0 }

// Match reports whether a browser's Origin header value is allowed.
func (o *Origins) Match(origin string) bool {
	if o == nil {
		return false
	}
	origin = strings.ToLower(origin)
	scheme, host, port, ok := splitOrigin(origin)
	if !ok || strings.Contains(host, "*") || strings.Contains(port, "*") {
		return false
	}
	for _, p := range o.patterns {
		switch {
		case p.any:
			return true
		case p.scheme != scheme || (!p.anyPort && p.port != port):
		case p.subdomains && strings.HasSuffix(host, p.host) && len(host) > len(p.host):
			return true
		case !p.subdomains && p.host == host:
			return true
		}
	}
	return false
}

// CheckOrigin is an Options.CheckOrigin function. A request without an
// Origin header (a non-browser client, which could send any Origin it likes
// anyway) is always allowed. With no patterns, the Origin's host[:port] must
// equal the request's Host (same origin, ASCII case folded); otherwise the
// Origin must match (same-origin requests then only if they match).
func (o *Origins) CheckOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if o.Empty() {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" {
			return false
		}
		return strings.EqualFold(u.Host, r.Host)
	}
	return o.Match(origin)
}

// AllowOrigins returns an Options.CheckOrigin function for patterns (see
// Origins). A list with an invalid pattern allows no Origin at all (use
// ParseOrigins to report it).
func AllowOrigins(patterns []string) func(r *http.Request) bool {
	o, err := ParseOrigins(patterns)
	if err != nil {
		return func(r *http.Request) bool { return r.Header.Get("Origin") == "" }
	}
	return o.CheckOrigin
}

// splitOrigin splits a lower-cased scheme://host[:port]: nothing else
// (no path, query, fragment or user), an IPv6 host in brackets.
func splitOrigin(s string) (scheme, host, port string, ok bool) {
	scheme, rest, found := strings.Cut(s, "://")
	if !found || scheme == "" || strings.ContainsAny(scheme, "/?#@:") || strings.ContainsAny(rest, "/?#@\\ ") {
		return "", "", "", false
	}
	host = rest
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		host, port = rest[:i], rest[i+1:]
		if port == "" {
			return "", "", "", false
		}
	}
	if host == "" || host == "*." {
		return "", "", "", false
	}
	return scheme, host, port, true
}

package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"unionmall/internal/apperr"
	"unionmall/internal/auth"
)

// clientAddr records the client's address for rate limits: the peer's, or
// behind trustedHops proxies (0: none trusted) the address the outermost
// trusted proxy appended to X-Forwarded-For. Entries to the left of it
// come from the client, who may write anything there.
func clientAddr(trustedHops int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := peerAddr(r.RemoteAddr)
		if trustedHops > 0 {
			if a, ok := forwardedFor(r.Header.Values("X-Forwarded-For"), trustedHops); ok {
				addr = a
			}
		}
		next.ServeHTTP(w, r.WithContext(auth.WithClientAddr(r.Context(), addr)))
	})
}

// peerAddr is the host of the connection's remote address.
func peerAddr(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	return remote
}

// forwardedFor picks the client's address from X-Forwarded-For header
// lines (together one comma-separated list, each proxy appending the
// address it saw): the hops-th entry from the right, or the leftmost when
// there are fewer. It reports false when there is none or it is no address.
func forwardedFor(lines []string, hops int) (string, bool) {
	var entries []string
	for _, line := range lines {
		for _, e := range strings.Split(line, ",") {
			if e = strings.TrimSpace(e); e != "" {
				entries = append(entries, e)
			}
		}
	}
	if len(entries) == 0 {
		return "", false
	}
	return parseAddr(entries[max(len(entries)-hops, 0)])
}

// parseAddr reads one entry: an IPv4 or IPv6 address, possibly with a port
// ("203.0.113.7:4711", "[2001:db8::1]:443") or in brackets, written in its
// canonical form (IPv4-mapped IPv6 as IPv4, no zone).
func parseAddr(entry string) (string, bool) {
	if ap, err := netip.ParseAddrPort(entry); err == nil {
		return canonical(ap.Addr()), true
	}
	entry = strings.TrimSuffix(strings.TrimPrefix(entry, "["), "]")
	if a, err := netip.ParseAddr(entry); err == nil {
		return canonical(a), true
	}
	return "", false
}

func canonical(a netip.Addr) string { return a.Unmap().WithZone("").String() }

// queriesOnlyOverGET refuses a mutation or subscription sent over plain GET
// with a GraphQL error carrying a code (gqlgen answers 406 without one).
// GET may be cached and prefetched, so it must never change anything.
func queriesOnlyOverGET(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("query")
		if r.Method != http.MethodGet || q == "" || r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		doc, err := parser.ParseQuery(&ast.Source{Input: q})
		if err != nil {
			next.ServeHTTP(w, r) // gqlgen reports the parse error
			return
		}
		name := r.URL.Query().Get("operationName")
		for _, op := range doc.Operations {
			if (name == "" || op.Name == name) && op.Operation != ast.Query {
				w.Header().Set("Allow", "POST")
				writeJSON(w, http.StatusMethodNotAllowed, map[string]any{
					"errors": []map[string]any{{
						"message":    apperr.Message(r.Context(), apperr.New(apperr.BadUserInput, "only queries may be sent with GET; send %ss with POST", op.Operation)),
						"extensions": map[string]string{"code": "BAD_USER_INPUT"},
					}},
				})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// trustedHops is how many proxies' X-Forwarded-For entries to trust: none
// without TrustProxy, else TrustedProxyHops, at least one.
func trustedHops(o Options) int {
	if !o.TrustProxy {
		return 0
	}
	return max(o.TrustedProxyHops, 1)
}

package server

import (
	"net"
	"net/http"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"unionmall/internal/auth"
)

// clientAddr records the client's address for rate limits: the peer's, or
// behind a trusted proxy the first X-Forwarded-For entry.
func clientAddr(trustProxy bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			addr = r.RemoteAddr
		}
		if trustProxy {
			if f := r.Header.Get("X-Forwarded-For"); f != "" {
				first, _, _ := strings.Cut(f, ",")
				addr = strings.TrimSpace(first)
			}
		}
		next.ServeHTTP(w, r.WithContext(auth.WithClientAddr(r.Context(), addr)))
	})
}

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
				writeJSON(w, http.StatusMethodNotAllowed, map[string]any{
					"errors": []map[string]any{{
						"message":    "only queries may be sent with GET; send " + string(op.Operation) + "s with POST",
						"extensions": map[string]string{"code": "BAD_USER_INPUT"},
					}},
				})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

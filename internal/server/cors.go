package server

import (
	"net/http"

	"github.com/rs/cors"

	"unionmall/internal/wsgorilla"
)

// DefaultAllowedHeaders are the request headers a browser on an allowed
// origin may send: the token, the JSON and event-stream media types urql,
// Apollo Client 3 and graphql-sse send, Apollo's client awareness
// (apollographql-client-name/-version) and the headers Apollo's CSRF
// protection and upload link have clients add, and Accept-Language for
// the messages' language.
var DefaultAllowedHeaders = []string{
	"Authorization", "Content-Type", "Accept", "Accept-Language",
	"apollographql-client-name", "apollographql-client-version",
	"apollo-require-preflight", "X-Apollo-Operation-Name",
}

// withCORS answers cross-origin browsers whose Origin matches origins (the
// same matcher the websocket handshake uses); with no origins it adds
// nothing (same origin only).
func withCORS(origins *wsgorilla.Origins, headers []string, next http.Handler) http.Handler {
	if origins.Empty() {
		return next
	}
	if len(headers) == 0 {
		headers = DefaultAllowedHeaders
	}
	return cors.New(cors.Options{
		AllowOriginFunc: origins.Match,
		AllowedMethods:  []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders:  headers,
		MaxAge:          600,
	}).Handler(next)
}

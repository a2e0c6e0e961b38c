package server

import (
	"net/http"

	"github.com/rs/cors"

	"unionmall/internal/wsgorilla"
)

// DefaultAllowedHeaders are the request headers a browser on an allowed
// origin may send: what Apollo Client 3 (its client awareness and CSRF
// headers), urql, graphql-ws and graphql-sse clients send, plus
// Accept-Language for the messages' language.
var DefaultAllowedHeaders = []string{
	"Authorization", "Content-Type", "Accept", "Accept-Language",
	"apollographql-client-name", "apollographql-client-version",
	"apollo-require-preflight", "X-Apollo-Operation-Name", "X-Apollo-Operation-Type",
	"graphql-client-name", "graphql-client-version",
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

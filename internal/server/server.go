// Package server assembles the mall: its services on one database and the
// HTTP handler that serves them (GraphQL, GraphiQL, health).
package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/rs/cors"

	"unionmall/graph"
	"unionmall/internal/account"
	"unionmall/internal/auth"
	"unionmall/internal/catalog"
	"unionmall/internal/db"
	"unionmall/internal/idcard"
	"unionmall/internal/web"
	"unionmall/migrations"
)

// Options are the settings the services need.
type Options struct {
	TokenTTL      time.Duration
	PaymentWindow time.Duration
	SecretKey     []byte
	HashParams    auth.HashParams
	Introspection bool
	// MaxBodyBytes bounds a request body (413 beyond it).
	MaxBodyBytes int64
	// AllowedOrigins may call the API from browsers on other origins; none
	// means same origin only.
	AllowedOrigins []string
}

// Server is the assembled mall.
type Server struct {
	DB       *db.DB
	Sessions *auth.Sessions
	Accounts *account.Service
	Catalog  *catalog.Service
	Handler  http.Handler
	// migrated is set once the schema was seen current; it cannot go back.
	migrated atomic.Bool
}

// New wires the services to the database and builds the handler.
func New(d *db.DB, o Options) (*Server, error) {
	hasher, err := auth.NewHasher(o.HashParams, 0)
	if err != nil {
		return nil, err
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	s := &Server{DB: d, Sessions: auth.NewSessions(d, o.TokenTTL), Catalog: catalog.New(d)}
	s.Accounts = account.New(d, hasher, s.Sessions, idcard.NewKeyer(o.SecretKey))
	gql := graph.NewHandler(&graph.Resolver{
		DB:       d,
		Accounts: s.Accounts,
		Catalog:  s.Catalog,
		Now:      time.Now,
	}, graph.HandlerOptions{Introspection: o.Introspection})

	mux := http.NewServeMux()
	var api http.Handler = limitBody(o.MaxBodyBytes, s.Sessions.Middleware(gql))
	if len(o.AllowedOrigins) > 0 {
		api = cors.New(cors.Options{
			AllowedOrigins: o.AllowedOrigins,
			AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
			AllowedHeaders: []string{"Authorization", "Content-Type"},
			MaxAge:         600,
		}).Handler(api)
	}
	mux.Handle("/graphql", api)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("/", web.Handler())
	s.Handler = mux
	return s, nil
}

// ready answers 200 only when the database answers and its schema is
// current, so a load balancer sends no traffic to an instance that would fail.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.DB.Pool.PingContext(ctx); err != nil {
		slog.WarnContext(ctx, "not ready: database unreachable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
		return
	}
	if !s.migrated.Load() {
		pending, err := migrations.Pending(ctx, s.DB.Pool, s.DB.Dialect)
		if err != nil || pending {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "migrations pending"})
			return
		}
		s.migrated.Store(true)
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// limitBody refuses bodies above max with 413 before GraphQL reads them.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{
				"errors": []map[string]any{{
					"message":    "the request body is too large",
					"extensions": map[string]string{"code": "BAD_USER_INPUT"},
				}},
			})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

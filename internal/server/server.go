// Package server assembles the mall: its services on one database, wired
// to one change registry (internal/changes), the HTTP handler that serves
// them (GraphQL, GraphiQL and the overlays, health and readiness, metrics),
// and the background work every instance runs (RunWorkers).
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"unionmall/graph"
	"unionmall/internal/account"
	"unionmall/internal/apperr"
	"unionmall/internal/auth"
	"unionmall/internal/cart"
	"unionmall/internal/catalog"
	"unionmall/internal/changes"
	"unionmall/internal/coupons"
	"unionmall/internal/db"
	"unionmall/internal/flashsales"
	"unionmall/internal/idcard"
	"unionmall/internal/live"
	"unionmall/internal/media"
	"unionmall/internal/metrics"
	"unionmall/internal/orders"
	"unionmall/internal/orderwatch"
	"unionmall/internal/payhttp"
	"unionmall/internal/payments"
	"unionmall/internal/procurement"
	"unionmall/internal/ratelimit"
	"unionmall/internal/respcache"
	"unionmall/internal/stats"
	"unionmall/internal/submux"
	"unionmall/internal/throttle"
	"unionmall/internal/web"
	"unionmall/internal/wsgorilla"
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
	// AllowedHeaders are the request headers allowed origins may send
	// (empty: DefaultAllowedHeaders).
	AllowedHeaders []string
	// TrustedDocuments, when set, is the path of a persisted-documents
	// manifest: only its documents run (graph.TrustedDocuments).
	TrustedDocuments string
	// DatabaseURL, for PostgreSQL, lets RunWorkers listen for other
	// instances' changes.
	DatabaseURL string
	// NoRateLimits turns off the limits on sign-in failures and on
	// buying (for load tests that replay one member).
	NoRateLimits bool
	// TrustProxy takes the client's address from X-Forwarded-For (set it
	// behind a load balancer that sets that header).
	TrustProxy bool
	// TrustedProxyHops, with TrustProxy, is how many proxies in front of
	// the server append to X-Forwarded-For (zero means one).
	TrustedProxyHops int
	// MaxDepth and Complexity bound a GraphQL request's shape; zero means
	// graph's defaults.
	MaxDepth, Complexity int
	// WeChatPay, when set, takes payments by WeChat Pay and serves its
	// notification endpoints.
	WeChatPay *payments.WeChat
	// PaymentSandbox offers the SANDBOX channel and its cashier page.
	PaymentSandbox bool
	// PublicURL is this server's public base URL (the sandbox cashier's
	// links); empty: links are paths.
	PublicURL string
	// RefundPoll is how long an accepted refund waits before the provider
	// is asked about it (zero: a minute).
	RefundPoll time.Duration
	// Media stores product images (nil: uploads fail); MediaMaxBytes
	// bounds one image (zero: media.DefaultLimits), and multipart
	// requests may be that much larger than MaxBodyBytes.
	Media         media.Store
	MediaMaxBytes int64
	// ResponseCache is how many anonymous public answers to keep
	// (internal/respcache); zero: no cache.
	ResponseCache int
}

// Server is the assembled mall.
type Server struct {
	DB          *db.DB
	Sessions    *auth.Sessions
	Accounts    *account.Service
	Catalog     *catalog.Service
	Coupons     *coupons.Service
	Orders      *orders.Service
	Cart        *cart.Service
	FlashSales  *flashsales.Service
	Procurement *procurement.Service
	Stats       *stats.Cache
	Live        *live.Hub
	Media       *media.Service
	OrderWatch  *orderwatch.Watcher
	// Submux multiplexes the public feeds' subscribers.
	Submux      *submux.Mux
	Changes     *changes.Registry
	Metrics     *metrics.Metrics
	Handler     http.Handler
	databaseURL string
	// migrated is set once the schema was seen current; it cannot go back.
	migrated atomic.Bool

	// ResponseCache is nil when off.
	ResponseCache *respcache.Cache
}

// New wires the services to the database and builds the handler.
func New(d *db.DB, o Options) (*Server, error) {
	hasher, err := auth.NewHasher(o.HashParams, 0)
	if err != nil {
		return nil, err
	}
	origins, err := wsgorilla.ParseOrigins(o.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	var trusted *graph.TrustedDocuments
	if o.TrustedDocuments != "" {
		if trusted, err = graph.LoadTrustedDocuments(o.TrustedDocuments); err != nil {
			return nil, err
		}
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	buyLimit := flashsales.DefaultBuyLimit
	if o.NoRateLimits {
		buyLimit = ratelimit.Off
	}
	// Each service registers the consequences of others' changes with reg
	// when it is built, and announces its own changes to it after commit.
	reg := changes.New()
	totals := stats.NewCache(d.Client, statsTTL, reg)
	sessions := auth.NewSessions(d, o.TokenTTL, reg)
	flash := flashsales.New(d, o.PaymentWindow, reg, flashsales.LimitBuyers(buyLimit))
	instruments := metrics.New()
	providers := payments.Providers{}
	if o.WeChatPay != nil {
		providers.WeChat = o.WeChatPay
	}
	if o.PaymentSandbox {
		providers.Sandbox = payments.SandboxProvider{BaseURL: o.PublicURL}
	}
	orderOpts := []orders.Option{orders.WithPayments(providers, instruments.Payments())}
	if o.RefundPoll > 0 {
		orderOpts = append(orderOpts, orders.RefundPoll(o.RefundPoll))
	}
	s := &Server{
		DB:          d,
		Changes:     reg,
		Sessions:    sessions,
		Accounts:    account.New(d, hasher, sessions, idcard.NewKeyer(o.SecretKey), reg),
		Catalog:     catalog.New(d, reg),
		Coupons:     coupons.New(d, reg),
		Orders:      orders.New(d, o.PaymentWindow, reg, orderOpts...),
		Cart:        cart.New(d),
		FlashSales:  flash,
		Procurement: procurement.New(d, reg),
		Stats:       totals,
		Live:        live.New(reg, d.Client, flash, totals),
		Media:       media.New(d, o.Media, media.Limits{MaxBytes: o.MediaMaxBytes}, reg),
		OrderWatch:  orderwatch.New(reg, d.Client, sessions),
		Submux:      submux.New(submux.PublicFeeds...),
		Metrics:     instruments,
		databaseURL: o.DatabaseURL,
	}
	if o.NoRateLimits {
		s.Accounts.LimitLogins(account.LoginLimits{})
	}
	s.instrument(d)
	gql := graph.NewHandler(&graph.Resolver{
		DB:          d,
		Accounts:    s.Accounts,
		Catalog:     s.Catalog,
		Coupons:     s.Coupons,
		Orders:      s.Orders,
		Cart:        s.Cart,
		FlashSales:  s.FlashSales,
		Procurement: s.Procurement,
		Stats:       s.Stats,
		Live:        s.Live,
		Media:       s.Media,
		OrderWatch:  s.OrderWatch,
		Now:         time.Now,
	}, graph.HandlerOptions{
		Introspection:    o.Introspection,
		Websocket:        websocket(s.Sessions, origins, s.Metrics),
		Observe:          s.Metrics.Operation,
		MaxDepth:         o.MaxDepth,
		AroundOperations: recheckWebsocketToken(s.Sessions),
		Subscriptions:    s.Submux,
		Complexity:       o.Complexity,
		MaxUploadBytes:   uploadBodyMax(o.MaxBodyBytes, s.Media),
		TrustedDocuments: trusted,
	})

	mux := http.NewServeMux()
	var docs http.Handler = gql
	if trusted != nil {
		docs = trusted.DocumentIDs(gql)
	}
	var api http.Handler = graph.ServeHTTP(clientAddr(trustedHops(o), limitBodies(o.MaxBodyBytes, uploadBodyMax(o.MaxBodyBytes, s.Media), s.Sessions, queriesOnlyOverGET(s.Sessions.Middleware(docs)))))
	rc := respcache.Options{Entries: o.ResponseCache, MaxBody: o.MaxBodyBytes}
	if trusted != nil {
		rc.Lookup = trusted.Document
	}
	s.ResponseCache = respcache.New(reg, rc)
	s.Metrics.ResponseCache(s.ResponseCache.Stats)
	api = withCORS(origins, o.AllowedHeaders, s.ResponseCache.Wrap(api))
	mux.Handle("/graphql", wsgorilla.RefuseOrigins(origins.CheckOrigin, wsgorilla.Detach(api)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET "+media.Route+"{name}", media.Handler(o.Media))
	mux.Handle("GET /metrics", s.Metrics.Handler())
	(&payhttp.Handler{Orders: s.Orders, WeChat: o.WeChatPay, Sandbox: o.PaymentSandbox, Obs: instruments.Payments()}).Register(mux)
	mux.Handle("/", web.Handler())
	if s.Handler, err = compress(mux); err != nil {
		return nil, err
	}
	return s, nil
}

// statsTTL is how stale the platform totals may be when another instance
// changed them; this instance's own changes show at once.
const statsTTL = 2 * time.Second

// RunWorkers runs the background work every instance does until ctx ends:
// expiring orders whose payment window has passed (polled every second, so
// within a few seconds of the deadline), the provider calls payments owe
// (asking before expiring an order with a started payment, closing it,
// pursuing refunds), and purging expired tokens.
func (s *Server) RunWorkers(ctx context.Context) {
	if s.DB.Postgres() && s.databaseURL != "" {
		if err := s.Changes.Join(ctx, s.databaseURL, s.DB.Pool); err != nil {
			slog.ErrorContext(ctx, "listening for other instances' changes failed; subscribers see this instance's changes only", "err", err)
		}
	}
	context.AfterFunc(ctx, s.Live.Close)
	context.AfterFunc(ctx, s.OrderWatch.Close)
	go every(ctx, time.Second, func() {
		for {
			n, err := s.Orders.ExpireDue(ctx, 100)
			if err != nil && ctx.Err() == nil {
				slog.WarnContext(ctx, "expiring orders failed", "err", err)
			}
			if n > 0 {
				slog.InfoContext(ctx, "orders expired", "count", n)
			}
			if n < 100 {
				return
			}
		}
	})
	go every(ctx, time.Second, func() {
		for {
			n, err := s.Orders.CheckPayments(ctx, 100)
			if err != nil && ctx.Err() == nil {
				slog.WarnContext(ctx, "a payment's provider call failed; it is tried again later", "err", err)
			}
			if n < 100 {
				return
			}
		}
	})
	go every(ctx, time.Second, func() {
		if _, err := s.FlashSales.SettleDue(ctx); err != nil && ctx.Err() == nil {
			slog.WarnContext(ctx, "settling ended flash sales failed", "err", err)
		}
	})
	go every(ctx, time.Minute, s.Sessions.Sweep)
	go every(ctx, time.Hour, func() {
		n, err := s.Sessions.PurgeExpired(ctx)
		if err != nil && ctx.Err() == nil {
			slog.WarnContext(ctx, "purging expired tokens failed", "err", err)
		} else if n > 0 {
			slog.InfoContext(ctx, "expired tokens purged", "count", n)
		}
		if _, err := throttle.Purge(ctx, s.DB, time.Now()); err != nil && ctx.Err() == nil {
			slog.WarnContext(ctx, "purging rate-limit buckets failed", "err", err)
		}
	})
}

// every runs fn now and then every d until ctx ends.
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
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

var errTooLarge = apperr.New(apperr.BadUserInput, "the request body is too large")

// limitBody refuses bodies above max with 413 before GraphQL sees them,
// whether or not the client declared the length.
func limitBody(max int64, next http.Handler) http.Handler {
	tooLarge := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{
			"errors": []map[string]any{{
				"message":    apperr.Message(r.Context(), errTooLarge),
				"extensions": map[string]string{"code": "BAD_USER_INPUT"},
			}},
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			tooLarge(w, r)
			return
		}
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength < 0 {
			// Unknown length (chunked): read up to the limit now.
			body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
			if err != nil {
				http.Error(w, "cannot read the request body", http.StatusBadRequest)
				return
			}
			if int64(len(body)) > max {
				tooLarge(w, r)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		} else {
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
		next.ServeHTTP(w, r)
	})
}

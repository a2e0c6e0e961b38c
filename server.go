// Command unionmall is the GraphQL server of the trade union's consumer
// poverty-alleviation mall (工会消费扶贫商城).
//
//	unionmall [flags]              serve (the default)
//	unionmall migrate [up|status]  apply or list the schema migrations
//	unionmall reconcile -date YYYY-MM-DD
//	                               compare WeChat Pay's trade bill of that day
//	                               (China time) with the payments recorded here
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"unionmall/internal/auth"
	"unionmall/internal/config"
	"unionmall/internal/db"
	"unionmall/internal/demo"
	"unionmall/internal/payments"
	"unionmall/internal/reconcile"
	"unionmall/internal/server"
	"unionmall/internal/wechatpay"
	"unionmall/migrations"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		slog.Error("unionmall stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	cfg, rest, err := config.Load(args, os.Getenv, os.Stderr)
	if err != nil {
		return err
	}
	slog.SetDefault(newLogger(cfg))
	target, err := db.Parse(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	target.MaxConns = cfg.DatabaseMaxConns
	newFile := false
	if target.File != "" {
		_, statErr := os.Stat(target.File)
		newFile = errors.Is(statErr, fs.ErrNotExist)
	}
	d, err := db.Open(ctx, target)
	if err != nil {
		return err
	}
	defer d.Close()

	cmd := "serve"
	if len(rest) > 0 {
		cmd = rest[0]
	}
	switch cmd {
	case "serve":
		return serve(ctx, cfg, target, d, newFile)
	case "migrate":
		sub := "up"
		if len(rest) > 1 {
			sub = rest[1]
		}
		return migrate(ctx, d, sub)
	case "reconcile":
		return reconcileDay(ctx, cfg, d, rest[1:], os.Stdout)
	default:
		return fmt.Errorf("unknown command %q (serve, migrate, reconcile)", cmd)
	}
}

func migrate(ctx context.Context, d *db.DB, sub string) error {
	switch sub {
	case "up":
		n, err := migrations.Up(ctx, d.Pool, d.Dialect)
		if err != nil {
			return err
		}
		fmt.Printf("applied %d migration(s)\n", n)
		return nil
	case "status":
		lines, err := migrations.Status(ctx, d.Pool, d.Dialect)
		for _, l := range lines {
			fmt.Println(l)
		}
		return err
	default:
		return fmt.Errorf("unknown migrate command %q (up, status)", sub)
	}
}

// errDifferences makes reconcile exit 1: the bill and the payments differ.
var errDifferences = errors.New("the trade bill and the payments recorded here differ")

// reconcileDay downloads WeChat Pay's trade bill of a day, compares it with
// the payments recorded here and writes every difference to out.
func reconcileDay(ctx context.Context, cfg config.Config, d *db.DB, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	date := fs.String("date", "", "the bill's day, YYYY-MM-DD (China time); WeChat Pay has it ready after 10:00 the next day")
	if err := fs.Parse(args); err != nil {
		return err
	}
	day, err := time.ParseInLocation(time.DateOnly, *date, wechatpay.China)
	if err != nil {
		return fmt.Errorf("reconcile: -date must be a day such as 2026-11-30")
	}
	if cfg.WeChatPay.MchID == "" {
		return fmt.Errorf("reconcile: WeChat Pay is not configured (WECHATPAY_MCH_ID and the other WECHATPAY_ settings)")
	}
	w, err := payments.NewWeChat(cfg.WeChatPay, cfg.PublicURL)
	if err != nil {
		return err
	}
	text, err := w.Client.TradeBill(ctx, day)
	var apiErr *wechatpay.APIError
	if errors.As(err, &apiErr) && apiErr.Code == wechatpay.NoStatement {
		text, err = nil, nil // no payment that day: compared with an empty bill
	}
	if err != nil {
		return fmt.Errorf("reconcile: download the bill of %s: %w", *date, err)
	}
	bill := &wechatpay.Bill{}
	if text != nil {
		if bill, err = wechatpay.ParseTradeBill(text); err != nil {
			return fmt.Errorf("reconcile: the bill of %s: %w", *date, err)
		}
	}
	recs, err := reconcile.Load(ctx, d.Client, day, wechatpay.China)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	report := reconcile.Compare(bill, recs)
	fmt.Fprintf(out, "WeChat Pay trade bill of %s (merchant %s)\n%s", *date, cfg.WeChatPay.MchID, report.String())
	if !report.OK() {
		return errDifferences
	}
	return nil
}

// defaultGCPercent is the garbage collector's target when GOGC is not set.
// A request's allocations are short-lived garbage, and at Go's default of
// 100 the collector is the largest single cost of a flash sale; at 400 the
// heap may grow to five times its live size between collections, in
// exchange for fewer of them. The figures (the collector's
// share of the CPU, purchases and refusals per second at 100 and 400, the
// bytes allocated per refusal) are in BENCHMARKS.md, section "Flash sale:
// purchases per second and the cost of a refusal (issue 4)"; the live heap
// per subscriber in "Subscribers: memory per connection and
// commit-to-receipt latency (issue 4)". Set GOGC (and GOMEMLIMIT in a
// small container) to choose otherwise.
const defaultGCPercent = 400

func serve(ctx context.Context, cfg config.Config, target db.Target, d *db.DB, newFile bool) error {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	n, err := migrations.Up(ctx, d.Pool, d.Dialect)
	if err != nil {
		return err
	}
	if n > 0 {
		slog.Info("migrations applied", "count", n, "dialect", d.Dialect)
	}
	key, generated, err := config.SecretKey(cfg, target.File)
	if err != nil {
		return err
	}
	if generated {
		slog.Warn("SECRET_KEY is not set: generated one and kept it in mall.key beside the database; back it up with the database, and set SECRET_KEY in production")
	}
	loadDemo := newFile
	if cfg.DemoData != nil {
		loadDemo = *cfg.DemoData
	}
	pay, err := paymentOptions(cfg)
	if err != nil {
		return err
	}
	store, err := mediaStore(ctx, cfg, target)
	if err != nil {
		return err
	}
	srv, err := server.New(d, server.Options{
		TokenTTL:      cfg.TokenTTL,
		PaymentWindow: cfg.PaymentWindow,
		SecretKey:     key,
		HashParams: auth.HashParams{
			MemoryKiB:   uint32(cfg.PasswordHashMemoryKiB),
			Iterations:  auth.DefaultHashParams.Iterations,
			Parallelism: auth.DefaultHashParams.Parallelism,
		},
		Introspection:    cfg.Introspection,
		AllowedOrigins:   cfg.AllowedOrigins,
		AllowedHeaders:   cfg.AllowedHeaders,
		TrustedDocuments: cfg.TrustedDocuments,
		DatabaseURL:      cfg.DatabaseURL,
		NoRateLimits:     !cfg.RateLimits,
		TrustProxy:       cfg.TrustProxy,
		TrustedProxyHops: cfg.TrustedProxyHops,
		MaxDepth:         cfg.MaxQueryDepth,
		Complexity:       cfg.ComplexityLimit,
		WeChatPay:        pay.WeChatPay,
		PaymentSandbox:   pay.PaymentSandbox,
		PublicURL:        pay.PublicURL,
		RefundPoll:       cfg.PaymentRefundPoll,
		Media:            store,
		MediaMaxBytes:    cfg.Media.MaxBytes,
		ResponseCache:    cfg.ResponseCache,
	})
	if err != nil {
		return err
	}
	if cfg.AdminPhone != "" {
		created, err := srv.Accounts.EnsureAdmin(ctx, cfg.AdminPhone, cfg.AdminPassword)
		if err != nil {
			return fmt.Errorf("admin: %w", err)
		}
		if created {
			slog.Info("admin created from ADMIN_PHONE")
		}
	}
	if loadDemo {
		loaded, err := demo.Load(ctx, d, time.Now())
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if loaded {
			n, err := demo.Images(ctx, d.Client, srv.Media)
			if err != nil {
				return fmt.Errorf("demo data: %w", err)
			}
			slog.Info("demo catalogue loaded", "images", n)
		}
	}

	srv.RunWorkers(ctx)
	if cfg.DebugAddr != "" {
		go servePprof(cfg.DebugAddr)
	}

	hs := &http.Server{
		Addr:              cfg.Addr,
		Handler:           srv.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() {
		slog.Info("listening", "addr", cfg.Addr, "database", d.Dialect, "graphiql", "http://"+displayAddr(cfg.Addr)+"/")
		errc <- hs.ListenAndServe()
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// paymentOptions reads the payment settings: WeChat Pay's keys from their
// files (a bad setting stops the server here, naming it), and the sandbox,
// on by default only for the embedded database (DATABASE_URL empty) with
// demo data (DEMO_DATA not false), before and after its first start.
func paymentOptions(cfg config.Config) (server.Options, error) {
	var o server.Options
	o.PublicURL = cfg.PublicURL
	if o.PublicURL == "" {
		o.PublicURL = "http://" + displayAddr(cfg.Addr)
	}
	if cfg.WeChatPay.MchID != "" {
		w, err := payments.NewWeChat(cfg.WeChatPay, cfg.PublicURL)
		if err != nil {
			return o, err
		}
		o.WeChatPay = w
		slog.Info("WeChat Pay configured", "mchid", cfg.WeChatPay.MchID, "notify_url", w.NotifyURL, "public_keys", cfg.WeChatPay.PublicKeyIDs)
	}
	o.PaymentSandbox = cfg.DatabaseURL == "" && (cfg.DemoData == nil || *cfg.DemoData)
	if cfg.PaymentSandbox != nil {
		o.PaymentSandbox = *cfg.PaymentSandbox
	}
	if o.PaymentSandbox {
		slog.Warn("PAYMENT_SANDBOX is on: the SANDBOX channel pays orders without money (development and demos only)")
	}
	return o, nil
}

// servePprof serves Go's profiles on their own listener, never on the
// public one.
func servePprof(addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	slog.Info("pprof listening", "addr", addr)
	if err := http.ListenAndServe(addr, mux); err != nil {
		slog.Error("pprof stopped", "err", err)
	}
}

// displayAddr is a browsable address for a listen address: localhost for
// every interface (":8080", "0.0.0.0:8080", "[::]:8080").
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func newLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

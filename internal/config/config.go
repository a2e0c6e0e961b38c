// Package config reads the server's settings: each one an environment
// variable and also a command-line flag (the flag wins).
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is everything the server is told from outside.
type Config struct {
	Addr        string
	DatabaseURL string
	// DatabaseMaxConns bounds the PostgreSQL pool.
	DatabaseMaxConns int
	AdminPhone       string
	AdminPassword    string
	// DemoData is nil when not set: then it is on for a new embedded
	// database and off otherwise.
	DemoData       *bool
	PaymentWindow  time.Duration
	SecretKey      string
	TokenTTL       time.Duration
	AllowedOrigins []string
	// AllowedHeaders are the CORS request headers (empty: the server's
	// defaults for Apollo and urql).
	AllowedHeaders []string
	// TrustedDocuments is the path of a persisted-documents manifest; when
	// set, only its documents run.
	TrustedDocuments string
	Introspection    bool
	// PasswordHashMemoryKiB is argon2id's memory per hash.
	PasswordHashMemoryKiB uint
	LogFormat             string
	LogLevel              string
	// DebugAddr, when set, serves Go's pprof on a listener of its own.
	DebugAddr string
	// TrustProxy takes client addresses from X-Forwarded-For.
	TrustProxy bool
	// TrustedProxyHops is how many proxies append to X-Forwarded-For
	// (with TrustProxy).
	TrustedProxyHops int
	// RateLimits limits failed sign-ins and buying attempts.
	RateLimits bool
	// MaxQueryDepth and ComplexityLimit bound a GraphQL request's shape.
	MaxQueryDepth, ComplexityLimit int
	// ResponseCache is how many public answers to keep (0: none).
	ResponseCache int
	// PublicURL is this server's public base URL (no trailing slash).
	PublicURL string
	// WeChatPay is empty (MchID "") when WeChat Pay is not configured.
	WeChatPay WeChatPay
	// PaymentRefundPoll: see server.Options.RefundPoll.
	PaymentRefundPoll time.Duration
	// PaymentSandbox is nil when not set: then it is on for a new embedded
	// database with demo data and off otherwise.
	PaymentSandbox *bool
	// Media is where product images are kept (media.go).
	Media Media
}

// WeChatPay is the merchant's WeChat Pay (API v3) settings. Keys are read
// from files by internal/payments when the server starts.
type WeChatPay struct {
	MchID, AppID, CertSerial string
	PrivateKeyFile           string
	APIV3Key                 string
	// PublicKeyFiles and PublicKeyIDs pair up: WeChat Pay's public keys by
	// ID, two while WeChat Pay switches keys.
	PublicKeyFiles, PublicKeyIDs []string
	BaseURL                      string
}

// setting is one variable: its name, flag, default and meaning.
type setting struct {
	env, flag, def, usage string
}

var settings = []setting{
	{"ADDR", "addr", ":8080", "listen address"},
	{"DATABASE_URL", "database-url", "", "postgres://... for PostgreSQL, file:... for another SQLite file; empty: the embedded SQLite file mall.db"},
	{"DATABASE_MAX_CONNS", "database-max-conns", "32", "PostgreSQL connections this instance may open (plus one for LISTEN); instances × (this + 1) must stay below the server's max_connections"},
	{"ADMIN_PHONE", "admin-phone", "", "with ADMIN_PASSWORD: create this ADMIN at start unless a member has the phone"},
	{"ADMIN_PASSWORD", "admin-password", "", "the ADMIN's password (at least 8 characters)"},
	{"DEMO_DATA", "demo-data", "", "load the demo catalogue into an empty database (default: true on a new embedded database)"},
	{"PAYMENT_WINDOW", "payment-window", "15m", "how long an order may await payment before it expires"},
	{"SECRET_KEY", "secret-key", "", "keys the HMAC that stands for identity numbers; required with PostgreSQL, else kept in mall.key"},
	{"TOKEN_TTL", "token-ttl", "720h", "a token unused for this long stops working"},
	{"ALLOWED_ORIGINS", "allowed-origins", "", "CORS and websocket origins, comma-separated: `https://shop.example.org`, `https://*.example.org` (any subdomain), `http://localhost:*` (any port) or `*`, meaning the same for HTTP and websockets; empty: same origin only"},
	{"ALLOWED_HEADERS", "allowed-headers", "", "request headers allowed origins may send, comma-separated (`*`: any); empty: what Apollo Client 3 and urql send (Authorization, Content-Type, Accept, Accept-Language, apollographql-client-name/-version, apollo-require-preflight, X-Apollo-Operation-Name)"},
	{"TRUSTED_DOCUMENTS", "trusted-documents", "", "path of a persisted-documents manifest (GraphQL Code Generator's persisted-documents.json: {\"sha256 hash\": \"document\"}); when set, only its documents run (see Trusted documents); empty: any document"},
	{"INTROSPECTION", "introspection", "true", "answer GraphQL introspection queries"},
	{"PASSWORD_HASH_MEMORY", "password-hash-memory", "65536", "argon2id memory per password hash, in KiB"},
	{"LOG_FORMAT", "log-format", "text", "text or json"},
	{"LOG_LEVEL", "log-level", "info", "debug, info, warn or error"},
	{"DEBUG_ADDR", "debug-addr", "", "serve Go's pprof profiles here (e.g. 127.0.0.1:6060); keep it off public networks"},
	{"TRUST_PROXY", "trust-proxy", "false", "take the client's address from X-Forwarded-For (only behind a load balancer that sets it)"},
	{"TRUSTED_PROXY_HOPS", "trusted-proxy-hops", "1", "with TRUST_PROXY: how many proxies append to X-Forwarded-For; the client's address is the entry that many from the right (what the client wrote left of it is ignored)"},
	{"RATE_LIMITS", "rate-limits", "true", "refuse with RATE_LIMITED: a phone after 5 failed sign-ins (an address after 50), a member after 5 wrong old passwords (`changePassword`), each then one a minute (an address one every 6 s), counted before any password is hashed and shared by every instance through the database; a member buying more than 10 times a second"},
	{"MAX_QUERY_DEPTH", "max-query-depth", "15", "deepest nesting of a GraphQL selection"},
	{"COMPLEXITY_LIMIT", "complexity-limit", "5000", "largest estimated cost of one GraphQL operation (lists count their page size)"},
	{"RESPONSE_CACHE", "response-cache", "10000", "how many answers to anonymous public reads (catalogue, flash sales, live events) each instance keeps in memory (at most 64 MiB), dropped on every announced change of them on any instance; GET answers get an ETag and `Cache-Control: public, max-age=1`; 0: no cache"},
	{"PUBLIC_URL", "public-url", "", "this server's public base URL, such as https://mall.example.org: WeChat Pay notifies PUBLIC_URL/payments/wechat/notify and /payments/wechat/refund-notify (required with WeChat Pay); empty: http://localhost and ADDR's port, for the sandbox cashier's links"},
	{"WECHATPAY_MCH_ID", "wechatpay-mch-id", "", "WeChat Pay merchant number (商户号); when set, every WECHATPAY_ setting but BASE_URL is required and checked at start"},
	{"WECHATPAY_APP_ID", "wechatpay-app-id", "", "the AppID (official account, mini program or app) members pay under"},
	{"WECHATPAY_MCH_CERT_SERIAL", "wechatpay-mch-cert-serial", "", "serial number of the merchant's API certificate"},
	{"WECHATPAY_MCH_PRIVATE_KEY", "wechatpay-mch-private-key", "", "PEM file of the merchant's API private key, which signs every request"},
	{"WECHATPAY_API_V3_KEY", "wechatpay-api-v3-key", "", "the APIv3 key (32 characters), which decrypts notifications; never logged"},
	{"WECHATPAY_PUBLIC_KEY", "wechatpay-public-key", "", "PEM file of WeChat Pay's public key, which verifies its answers and notifications; two files, comma-separated, while WeChat Pay switches keys"},
	{"WECHATPAY_PUBLIC_KEY_ID", "wechatpay-public-key-id", "", "ID of that key (PUB_KEY_ID_…), as Wechatpay-Serial names it; comma-separated in the same order as the files"},
	{"WECHATPAY_BASE_URL", "wechatpay-base-url", "https://api.mch.weixin.qq.com", "WeChat Pay's API (another server for tests)"},
	{"PAYMENT_REFUND_POLL", "payment-refund-poll", "1m", "how long a refund the provider accepted waits before the provider is asked about it (its notification usually comes first; the query finds a lost one)"},
	{"PAYMENT_SANDBOX", "payment-sandbox", "", "offer the SANDBOX channel and its cashier page /pay/sandbox/{orderID} (default: true on the embedded database unless DEMO_DATA=false; off with DATABASE_URL set)"},
	{"MEDIA_DIR", "media-dir", "", "directory of product images (unused with MEDIA_S3_BUCKET); empty: `media` beside the embedded database file, or in the working directory with DATABASE_URL set (instances must then share it)"},
	{"MEDIA_MAX_BYTES", "media-max-bytes", "10485760", "largest product image upload in bytes; a multipart request may be this much larger than other requests (1 MiB)"},
	{"MEDIA_S3_ENDPOINT", "media-s3-endpoint", "", "an S3-compatible object store for product images, such as https://s3.example.org (http:// for one without TLS); with MEDIA_S3_BUCKET"},
	{"MEDIA_S3_BUCKET", "media-s3-bucket", "", "the bucket (it must exist); when set, images are kept there instead of MEDIA_DIR"},
	{"MEDIA_S3_ACCESS_KEY", "media-s3-access-key", "", "the store's access key"},
	{"MEDIA_S3_SECRET_KEY", "media-s3-secret-key", "", "the store's secret key; never logged"},
	{"MEDIA_S3_REGION", "media-s3-region", "", "the bucket's region (empty: asked of the store)"},
	{"MEDIA_S3_PUBLIC_URL", "media-s3-public-url", "", "where anyone can fetch the bucket's objects (a public bucket or a CDN), such as https://cdn.example.org/images: image URLs point there; empty: this server serves them at /media/"},
}

// secret settings are not shown as flag defaults in -h (which would print
// the environment's value).
var secret = map[string]bool{"ADMIN_PASSWORD": true, "SECRET_KEY": true, "WECHATPAY_API_V3_KEY": true, "MEDIA_S3_SECRET_KEY": true}

// Load reads the settings from getenv and then from args (flags). It
// returns the arguments left after the flags (a subcommand).
func Load(args []string, getenv func(string) string, usageOut io.Writer) (Config, []string, error) {
	fs := flag.NewFlagSet("unionmall", flag.ContinueOnError)
	fs.SetOutput(usageOut)
	values := make(map[string]*string, len(settings))
	for _, s := range settings {
		def := s.def
		if v := getenv(s.env); v != "" && !secret[s.env] {
			def = v
		}
		values[s.env] = fs.String(s.flag, def, s.usage+" ($"+s.env+")")
	}
	fs.Usage = func() {
		fmt.Fprintf(usageOut, "usage: unionmall [flags] [serve | migrate [up|status]]\n\nflags (each also an environment variable):\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, nil, err
	}
	for env := range secret {
		if *values[env] == "" {
			*values[env] = getenv(env)
		}
	}
	get := func(env string) string { return strings.TrimSpace(*values[env]) }

	c := Config{
		Addr:          get("ADDR"),
		DatabaseURL:   get("DATABASE_URL"),
		AdminPhone:    get("ADMIN_PHONE"),
		AdminPassword: *values["ADMIN_PASSWORD"],
		SecretKey:     *values["SECRET_KEY"],
		LogFormat:     get("LOG_FORMAT"),
		LogLevel:      get("LOG_LEVEL"),
		DebugAddr:     get("DEBUG_ADDR"),
	}
	var err error
	if v := get("DEMO_DATA"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, nil, fmt.Errorf("DEMO_DATA: %w", err)
		}
		c.DemoData = &b
	}
	if c.Introspection, err = strconv.ParseBool(get("INTROSPECTION")); err != nil {
		return c, nil, fmt.Errorf("INTROSPECTION: %w", err)
	}
	if c.TrustProxy, err = strconv.ParseBool(get("TRUST_PROXY")); err != nil {
		return c, nil, fmt.Errorf("TRUST_PROXY: %w", err)
	}
	if c.TrustedProxyHops, err = strconv.Atoi(get("TRUSTED_PROXY_HOPS")); err != nil || c.TrustedProxyHops < 1 {
		return c, nil, fmt.Errorf("TRUSTED_PROXY_HOPS must be a positive number")
	}
	if c.RateLimits, err = strconv.ParseBool(get("RATE_LIMITS")); err != nil {
		return c, nil, fmt.Errorf("RATE_LIMITS: %w", err)
	}
	if c.DatabaseMaxConns, err = strconv.Atoi(get("DATABASE_MAX_CONNS")); err != nil || c.DatabaseMaxConns < 2 {
		return c, nil, fmt.Errorf("DATABASE_MAX_CONNS must be a number of at least 2")
	}
	if c.MaxQueryDepth, err = strconv.Atoi(get("MAX_QUERY_DEPTH")); err != nil || c.MaxQueryDepth < 1 {
		return c, nil, fmt.Errorf("MAX_QUERY_DEPTH must be a positive number")
	}
	if c.ComplexityLimit, err = strconv.Atoi(get("COMPLEXITY_LIMIT")); err != nil || c.ComplexityLimit < 1 {
		return c, nil, fmt.Errorf("COMPLEXITY_LIMIT must be a positive number")
	}
	if c.ResponseCache, err = strconv.Atoi(get("RESPONSE_CACHE")); err != nil || c.ResponseCache < 0 {
		return c, nil, fmt.Errorf("RESPONSE_CACHE must be a number of entries, 0 for none")
	}
	if c.PaymentWindow, err = positiveDuration("PAYMENT_WINDOW", get("PAYMENT_WINDOW")); err != nil {
		return c, nil, err
	}
	if c.TokenTTL, err = positiveDuration("TOKEN_TTL", get("TOKEN_TTL")); err != nil {
		return c, nil, err
	}
	if c.PaymentRefundPoll, err = positiveDuration("PAYMENT_REFUND_POLL", get("PAYMENT_REFUND_POLL")); err != nil {
		return c, nil, err
	}
	mem, err := strconv.ParseUint(get("PASSWORD_HASH_MEMORY"), 10, 32)
	if err != nil || mem < 64 {
		return c, nil, fmt.Errorf("PASSWORD_HASH_MEMORY must be a number of KiB, at least 64")
	}
	c.PasswordHashMemoryKiB = uint(mem)
	c.AllowedHeaders = list(get("ALLOWED_HEADERS"))
	c.TrustedDocuments = get("TRUSTED_DOCUMENTS")
	for _, o := range strings.Split(get("ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}
	if (c.AdminPhone == "") != (c.AdminPassword == "") {
		return c, nil, fmt.Errorf("ADMIN_PHONE and ADMIN_PASSWORD go together")
	}
	if c.PublicURL, err = publicURL(get("PUBLIC_URL")); err != nil {
		return c, nil, err
	}
	if v := get("PAYMENT_SANDBOX"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, nil, fmt.Errorf("PAYMENT_SANDBOX: %w", err)
		}
		c.PaymentSandbox = &b
	}
	if c.WeChatPay, err = weChatPay(get, *values["WECHATPAY_API_V3_KEY"], c.PublicURL); err != nil {
		return c, nil, err
	}
	if c.Media, err = media(get, *values["MEDIA_S3_SECRET_KEY"]); err != nil {
		return c, nil, err
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return c, nil, fmt.Errorf("LOG_FORMAT must be text or json")
	}
	return c, fs.Args(), nil
}

func publicURL(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return "", fmt.Errorf("PUBLIC_URL must be an absolute http(s) URL such as https://mall.example.org")
	}
	return strings.TrimRight(v, "/"), nil
}

// weChatPay checks WeChat Pay's settings: all or none (but BASE_URL).
func weChatPay(get func(string) string, apiV3Key, public string) (WeChatPay, error) {
	w := WeChatPay{MchID: get("WECHATPAY_MCH_ID"), AppID: get("WECHATPAY_APP_ID"), CertSerial: get("WECHATPAY_MCH_CERT_SERIAL"),
		PrivateKeyFile: get("WECHATPAY_MCH_PRIVATE_KEY"), APIV3Key: apiV3Key, BaseURL: strings.TrimRight(get("WECHATPAY_BASE_URL"), "/"),
		PublicKeyFiles: list(get("WECHATPAY_PUBLIC_KEY")), PublicKeyIDs: list(get("WECHATPAY_PUBLIC_KEY_ID"))}
	required := map[string]bool{
		"WECHATPAY_MCH_ID": w.MchID != "", "WECHATPAY_APP_ID": w.AppID != "", "WECHATPAY_MCH_CERT_SERIAL": w.CertSerial != "",
		"WECHATPAY_MCH_PRIVATE_KEY": w.PrivateKeyFile != "", "WECHATPAY_API_V3_KEY": w.APIV3Key != "",
		"WECHATPAY_PUBLIC_KEY": len(w.PublicKeyFiles) > 0, "WECHATPAY_PUBLIC_KEY_ID": len(w.PublicKeyIDs) > 0,
	}
	var set, missing []string
	for _, s := range settings {
		if is, ok := required[s.env]; ok {
			if is {
				set = append(set, s.env)
			} else {
				missing = append(missing, s.env)
			}
		}
	}
	if len(set) == 0 {
		return WeChatPay{}, nil
	}
	if len(missing) > 0 {
		return w, fmt.Errorf("WeChat Pay is half configured: %s set, %s missing", strings.Join(set, ", "), strings.Join(missing, ", "))
	}
	if len(w.APIV3Key) != 32 {
		return w, fmt.Errorf("WECHATPAY_API_V3_KEY must have 32 characters (it has %d)", len(w.APIV3Key))
	}
	if len(w.PublicKeyFiles) != len(w.PublicKeyIDs) || len(w.PublicKeyIDs) > 2 {
		return w, fmt.Errorf("WECHATPAY_PUBLIC_KEY and WECHATPAY_PUBLIC_KEY_ID must name as many keys (one, or two during a switch)")
	}
	if public == "" {
		return w, fmt.Errorf("PUBLIC_URL is required with WeChat Pay: it is where WeChat Pay sends its notifications")
	}
	if u, err := url.Parse(w.BaseURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return w, fmt.Errorf("WECHATPAY_BASE_URL must be an absolute http(s) URL")
	}
	return w, nil
}

func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func positiveDuration(name, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s must be a positive duration such as 15m or 720h", name)
	}
	return d, nil
}

// Table renders the settings as the README's Markdown table.
func Table() string {
	var b strings.Builder
	b.WriteString("| variable | flag | default | meaning |\n| --- | --- | --- | --- |\n")
	for _, s := range settings {
		def := "`" + s.def + "`"
		if s.def == "" {
			def = "empty"
		}
		fmt.Fprintf(&b, "| `%s` | `-%s` | %s | %s |\n", s.env, s.flag, def, s.usage)
	}
	return b.String()
}

// SecretKey returns the key for identity-number HMACs: SECRET_KEY when set;
// with the embedded database, the key kept in mall.key beside the database
// file (generated on first start, and the caller should warn); with
// PostgreSQL it is required, since instances sharing a database must share it.
func SecretKey(c Config, sqliteFile string) (key []byte, generated bool, err error) {
	if c.SecretKey != "" {
		if len(c.SecretKey) < 16 {
			return nil, false, fmt.Errorf("SECRET_KEY must have at least 16 characters")
		}
		return []byte(c.SecretKey), false, nil
	}
	if sqliteFile == "" {
		return nil, false, fmt.Errorf("SECRET_KEY is required with PostgreSQL (and with an in-memory database)")
	}
	path := filepath.Join(filepath.Dir(sqliteFile), "mall.key")
	if b, err := os.ReadFile(path); err == nil {
		k := strings.TrimSpace(string(b))
		if len(k) < 16 {
			return nil, false, fmt.Errorf("%s holds too short a key", path)
		}
		return []byte(k), false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("read %s: %w", path, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, err
	}
	k := hex.EncodeToString(raw)
	// O_EXCL: if another process wrote the key first, use theirs.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return SecretKey(c, sqliteFile)
	}
	if err != nil {
		return nil, false, fmt.Errorf("create %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(k + "\n"); err != nil {
		return nil, false, fmt.Errorf("write %s: %w", path, err)
	}
	return []byte(k), true, nil
}

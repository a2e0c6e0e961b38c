package config

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(t *testing.T, c Config, rest []string)
		wantErr bool
	}{
		{name: "defaults", check: func(t *testing.T, c Config, _ []string) {
			if c.Addr != ":8080" || c.DatabaseURL != "" || c.PaymentWindow != 15*time.Minute ||
				c.TokenTTL != 720*time.Hour || c.DemoData != nil || !c.Introspection || len(c.AllowedOrigins) != 0 {
				t.Fatalf("%+v", c)
			}
		}},
		{name: "env", env: map[string]string{"ADDR": ":9000", "DEMO_DATA": "false", "ALLOWED_ORIGINS": "https://a.example, https://b.example", "PAYMENT_WINDOW": "2s"},
			check: func(t *testing.T, c Config, _ []string) {
				if c.Addr != ":9000" || c.DemoData == nil || *c.DemoData || len(c.AllowedOrigins) != 2 ||
					c.AllowedOrigins[1] != "https://b.example" || c.PaymentWindow != 2*time.Second {
					t.Fatalf("%+v", c)
				}
			}},
		{name: "delivery", env: map[string]string{"ALLOWED_HEADERS": "Content-Type, X-Shop ", "TRUSTED_DOCUMENTS": "persisted-documents.json"},
			check: func(t *testing.T, c Config, _ []string) {
				if len(c.AllowedHeaders) != 2 || c.AllowedHeaders[1] != "X-Shop" || c.TrustedDocuments != "persisted-documents.json" {
					t.Fatalf("%+v", c)
				}
			}},
		{name: "flag wins over env", env: map[string]string{"ADDR": ":9000"}, args: []string{"-addr", ":7000", "migrate", "status"},
			check: func(t *testing.T, c Config, rest []string) {
				if c.Addr != ":7000" || len(rest) != 2 || rest[0] != "migrate" {
					t.Fatalf("%+v %v", c, rest)
				}
			}},
		{name: "bad duration", env: map[string]string{"TOKEN_TTL": "forever"}, wantErr: true},
		{name: "negative window", env: map[string]string{"PAYMENT_WINDOW": "-1m"}, wantErr: true},
		{name: "bad bool", env: map[string]string{"DEMO_DATA": "maybe"}, wantErr: true},
		{name: "admin phone alone", env: map[string]string{"ADMIN_PHONE": "13800000000"}, wantErr: true},
		{name: "bad log format", env: map[string]string{"LOG_FORMAT": "xml"}, wantErr: true},
		{name: "one trusted proxy by default", env: map[string]string{"TRUST_PROXY": "true"},
			check: func(t *testing.T, c Config, _ []string) {
				if !c.TrustProxy || c.TrustedProxyHops != 1 {
					t.Fatalf("%+v", c)
				}
			}},
		{name: "trusted proxy hops from env", env: map[string]string{"TRUST_PROXY": "true", "TRUSTED_PROXY_HOPS": "2"},
			check: func(t *testing.T, c Config, _ []string) {
				if c.TrustedProxyHops != 2 {
					t.Fatalf("%+v", c)
				}
			}},
		{name: "trusted proxy hops flag wins", env: map[string]string{"TRUSTED_PROXY_HOPS": "2"}, args: []string{"-trusted-proxy-hops", "3"},
			check: func(t *testing.T, c Config, _ []string) {
				if c.TrustedProxyHops != 3 {
					t.Fatalf("%+v", c)
				}
			}},
		{name: "zero trusted proxy hops", env: map[string]string{"TRUSTED_PROXY_HOPS": "0"}, wantErr: true},
		{name: "bad trusted proxy hops", env: map[string]string{"TRUSTED_PROXY_HOPS": "two"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rest, err := Load(tt.args, env(tt.env), io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, c, rest)
			}
		})
	}
}

func TestSecretKey(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mall.db")
	k1, gen, err := SecretKey(Config{}, file)
	if err != nil || !gen || len(k1) < 32 {
		t.Fatalf("first: %q %v %v", k1, gen, err)
	}
	st, err := os.Stat(filepath.Join(dir, "mall.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mall.key: %v %v", st, err)
	}
	k2, gen, err := SecretKey(Config{}, file)
	if err != nil || gen || string(k2) != string(k1) {
		t.Fatalf("second start must reuse the key: %q %v %v", k2, gen, err)
	}
	if _, _, err := SecretKey(Config{}, ""); err == nil {
		t.Fatal("PostgreSQL without SECRET_KEY must be refused")
	}
	if _, _, err := SecretKey(Config{SecretKey: "short"}, ""); err == nil {
		t.Fatal("a short SECRET_KEY must be refused")
	}
	k, _, err := SecretKey(Config{SecretKey: "a-long-enough-secret"}, file)
	if err != nil || string(k) != "a-long-enough-secret" {
		t.Fatalf("explicit: %q %v", k, err)
	}
}

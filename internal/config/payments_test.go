package config

import (
	"bytes"
	"io"
	"maps"
	"strings"
	"testing"
)

var wechatEnv = map[string]string{
	"WECHATPAY_MCH_ID": "1900000109", "WECHATPAY_APP_ID": "wx8888888888888888",
	"WECHATPAY_MCH_CERT_SERIAL": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1", "WECHATPAY_MCH_PRIVATE_KEY": "/keys/apiclient_key.pem",
	"WECHATPAY_API_V3_KEY": "0123456789abcdef0123456789ABCDEF", "WECHATPAY_PUBLIC_KEY": "/keys/pub_key.pem",
	"WECHATPAY_PUBLIC_KEY_ID": "PUB_KEY_ID_01", "PUBLIC_URL": "https://mall.example.org/",
}

func with(base map[string]string, kv ...string) map[string]string {
	m := maps.Clone(base)
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(m, kv[i])
		} else {
			m[kv[i]] = kv[i+1]
		}
	}
	return m
}

// WeChat Pay is all or nothing, checked at start with a message that names
// the setting at fault and never a secret.
func TestWeChatPaySettings(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // "" for none
		check   func(t *testing.T, c Config)
	}{
		{name: "none", env: nil, check: func(t *testing.T, c Config) {
			if c.WeChatPay.MchID != "" || c.PaymentSandbox != nil || c.PublicURL != "" {
				t.Fatalf("%+v", c)
			}
		}},
		{name: "all", env: wechatEnv, check: func(t *testing.T, c Config) {
			w := c.WeChatPay
			if w.MchID != "1900000109" || w.BaseURL != "https://api.mch.weixin.qq.com" || c.PublicURL != "https://mall.example.org" ||
				len(w.PublicKeyIDs) != 1 || w.APIV3Key != wechatEnv["WECHATPAY_API_V3_KEY"] {
				t.Fatalf("%+v", w)
			}
		}},
		{name: "two public keys during a switch", env: with(wechatEnv, "WECHATPAY_PUBLIC_KEY", "/k/old.pem, /k/new.pem", "WECHATPAY_PUBLIC_KEY_ID", "PUB_KEY_ID_01,PUB_KEY_ID_02"),
			check: func(t *testing.T, c Config) {
				if len(c.WeChatPay.PublicKeyFiles) != 2 || c.WeChatPay.PublicKeyFiles[1] != "/k/new.pem" || c.WeChatPay.PublicKeyIDs[1] != "PUB_KEY_ID_02" {
					t.Fatalf("%+v", c.WeChatPay)
				}
			}},
		{name: "keys and IDs unpaired", env: with(wechatEnv, "WECHATPAY_PUBLIC_KEY", "/k/old.pem,/k/new.pem"), wantErr: "as many keys"},
		{name: "merchant id alone", env: map[string]string{"WECHATPAY_MCH_ID": "1900000109"}, wantErr: "WECHATPAY_APP_ID"},
		{name: "no private key", env: with(wechatEnv, "WECHATPAY_MCH_PRIVATE_KEY", ""), wantErr: "WECHATPAY_MCH_PRIVATE_KEY missing"},
		{name: "short APIv3 key", env: with(wechatEnv, "WECHATPAY_API_V3_KEY", "too-short"), wantErr: "32 characters"},
		{name: "no public URL", env: with(wechatEnv, "PUBLIC_URL", ""), wantErr: "PUBLIC_URL is required"},
		{name: "relative public URL", env: with(wechatEnv, "PUBLIC_URL", "mall.example.org"), wantErr: "PUBLIC_URL must be"},
		{name: "bad base URL", env: with(wechatEnv, "WECHATPAY_BASE_URL", "ftp://x"), wantErr: "WECHATPAY_BASE_URL"},
		{name: "sandbox set", env: map[string]string{"PAYMENT_SANDBOX": "true"}, check: func(t *testing.T, c Config) {
			if c.PaymentSandbox == nil || !*c.PaymentSandbox {
				t.Fatal("PAYMENT_SANDBOX=true not read")
			}
		}},
		{name: "sandbox bad", env: map[string]string{"PAYMENT_SANDBOX": "yes please"}, wantErr: "PAYMENT_SANDBOX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := Load(nil, env(tt.env), io.Discard)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), wechatEnv["WECHATPAY_API_V3_KEY"]):
				t.Fatalf("the error shows the APIv3 key: %v", err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// -h never prints a secret taken from the environment as a flag's default.
func TestUsageHidesSecrets(t *testing.T) {
	secrets := with(wechatEnv, "SECRET_KEY", "a-secret-key-of-some-length", "ADMIN_PHONE", "13800000000", "ADMIN_PASSWORD", "an-admin-password")
	var out bytes.Buffer
	if _, _, err := Load([]string{"-h"}, env(secrets), &out); err == nil {
		t.Fatal("-h did not stop")
	}
	for _, s := range []string{"a-secret-key-of-some-length", "an-admin-password", wechatEnv["WECHATPAY_API_V3_KEY"]} {
		if strings.Contains(out.String(), s) {
			t.Errorf("-h shows %q", s)
		}
	}
	c, _, err := Load(nil, env(secrets), io.Discard)
	if err != nil || c.SecretKey != "a-secret-key-of-some-length" || c.AdminPassword != "an-admin-password" || c.WeChatPay.APIV3Key != wechatEnv["WECHATPAY_API_V3_KEY"] {
		t.Fatalf("secrets from the environment not read: %v", err)
	}
}

package main

import (
	"crypto/x509"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"unionmall/internal/config"
	"unionmall/internal/servertest"
)

// A bad key file stops the server at start, naming the setting and the
// file, never showing the key.
func TestPaymentSettingsAtStart(t *testing.T) {
	wp := servertest.NewWeChatPay(t)
	dir := t.TempDir()
	key := writePEM(t, dir, "apiclient_key.pem", "PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(wp.Pay.Client.Merchant.Key)))
	pub := writePEM(t, dir, "pub_key.pem", "PUBLIC KEY", must(x509.MarshalPKIXPublicKey(&wp.Fake.Key.PublicKey)))
	notKey := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notKey, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keyText, _ := os.ReadFile(key)
	tests := []struct {
		name, privateKey, publicKey, wantErr string
	}{
		{"good", key, pub, ""},
		{"no such private key file", filepath.Join(dir, "missing.pem"), pub, "WECHATPAY_MCH_PRIVATE_KEY"},
		{"private key file is not a key", notKey, pub, "WECHATPAY_MCH_PRIVATE_KEY"},
		{"public key where the private key goes", pub, pub, "WECHATPAY_MCH_PRIVATE_KEY"},
		{"public key file is not a key", key, notKey, "WECHATPAY_PUBLIC_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"WECHATPAY_MCH_ID": servertest.MchID, "WECHATPAY_APP_ID": servertest.AppID,
				"WECHATPAY_MCH_CERT_SERIAL": servertest.Serial, "WECHATPAY_MCH_PRIVATE_KEY": tt.privateKey,
				"WECHATPAY_API_V3_KEY": servertest.APIV3Key, "WECHATPAY_PUBLIC_KEY": tt.publicKey,
				"WECHATPAY_PUBLIC_KEY_ID": "PUB_KEY_ID_1", "PUBLIC_URL": "https://mall.example.org"}
			cfg, _, err := config.Load(nil, func(k string) string { return env[k] }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			o, err := paymentOptions(cfg)
			switch {
			case tt.wantErr == "" && (err != nil || o.WeChatPay == nil):
				t.Fatalf("good settings: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
			case err != nil && (strings.Contains(err.Error(), servertest.APIV3Key) || strings.Contains(err.Error(), string(keyText[30:60]))):
				t.Fatalf("the error shows a secret: %v", err)
			}
			if tt.wantErr == "" && o.WeChatPay.NotifyURL != "https://mall.example.org/payments/wechat/notify" {
				t.Fatalf("notify URL %s", o.WeChatPay.NotifyURL)
			}
		})
	}
	// The sandbox: on for the embedded default with demo data, off for
	// PostgreSQL unless set.
	for _, c := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, true},
		{map[string]string{"DEMO_DATA": "false"}, false},
		{map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1/mall"}, false},
		{map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1/mall", "PAYMENT_SANDBOX": "true"}, true},
		{map[string]string{"PAYMENT_SANDBOX": "false"}, false},
	} {
		cfg, _, err := config.Load(nil, func(k string) string { return c.env[k] }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if o, err := paymentOptions(cfg); err != nil || o.PaymentSandbox != c.want {
			t.Errorf("%v: sandbox %v, want %v (%v)", c.env, o.PaymentSandbox, c.want, err)
		}
	}
}

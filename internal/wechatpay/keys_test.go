package wechatpay_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"unionmall/internal/wechatpay"
)

func writePEM(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadKeys(t *testing.T) {
	pkcs8, err := x509.MarshalPKCS8PrivateKey(merchantKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&platformKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPub, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)

	for _, tc := range []struct {
		name string
		path string
	}{
		{"PKCS #8", writePEM(t, "apiclient_key.pem", "PRIVATE KEY", pkcs8)},
		{"PKCS #1", writePEM(t, "rsa.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(merchantKey))},
	} {
		k, err := wechatpay.ReadPrivateKey(tc.path)
		if err != nil || !k.Equal(merchantKey) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if k, err := wechatpay.ReadPublicKey(writePEM(t, "pub_key.pem", "PUBLIC KEY", pub)); err != nil || !k.Equal(&platformKey.PublicKey) {
		t.Errorf("public key: %v", err)
	}

	notPEM := filepath.Join(t.TempDir(), "key.txt")
	_ = os.WriteFile(notPEM, []byte("-----BEGIN nothing"), 0o600)
	for _, tc := range []struct {
		name string
		read func() error
		says string
	}{
		{"missing file", func() error { _, err := wechatpay.ReadPrivateKey("/nonexistent/apiclient_key.pem"); return err }, "read key"},
		{"not PEM", func() error { _, err := wechatpay.ReadPrivateKey(notPEM); return err }, "not a PEM file"},
		{"an EC private key", func() error {
			_, err := wechatpay.ReadPrivateKey(writePEM(t, "ec.pem", "PRIVATE KEY", ecDER))
			return err
		}, "not an RSA private key"},
		{"a public key given as the private one", func() error {
			_, err := wechatpay.ReadPrivateKey(writePEM(t, "pub.pem", "PUBLIC KEY", pub))
			return err
		}, "no RSA private key"},
		{"an EC public key", func() error {
			_, err := wechatpay.ReadPublicKey(writePEM(t, "ecpub.pem", "PUBLIC KEY", ecPub))
			return err
		}, "not an RSA public key"},
		{"a private key given as the public one", func() error {
			_, err := wechatpay.ReadPublicKey(writePEM(t, "priv.pem", "PRIVATE KEY", pkcs8))
			return err
		}, "no public key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.read()
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v, want one saying %q", err, tc.says)
			}
			if strings.Contains(err.Error(), "BEGIN") || strings.Contains(err.Error(), "MII") {
				t.Fatalf("the error shows key material: %v", err)
			}
		})
	}
}

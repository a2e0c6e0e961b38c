package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"unionmall/internal/config"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
	"unionmall/internal/wechatpay"
)

// `unionmall reconcile -date` as an operator runs it: the settings as flags,
// WeChat Pay's keys from PEM files, the bill downloaded from (fake) WeChat
// Pay and compared with payments made through the mall. A day that agrees
// exits cleanly; a bill with a payment the mall never recorded and an
// amount that differs exits with errDifferences and names both.
func TestReconcileCommand(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		wp := servertest.NewWeChatPay(t)
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true, WeChatPay: wp.Pay})
		shop := servertest.NewShop(t, m)
		tea := shop.Product(t, "紫阳富硒茶", "26.60", "", 50)
		buyer := m.Verified("王")
		var paid []servertest.Order
		for range 2 {
			o := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 1}}, nil)
			servertest.MustDo(t, m, buyer.Token, servertest.PayOrderQ, map[string]any{"i": map[string]any{"orderID": o.ID, "channel": "WECHAT_APP"}}, nil)
			if _, err := wp.Fake.Pay(o.Number); err != nil {
				t.Fatal(err)
			}
			paid = append(paid, o)
		}
		wp.Fake.Wait()
		for _, o := range paid {
			if got := servertest.OrderStatus(t, d, o.ID); got != "PAID" {
				t.Fatalf("order %s is %s after its notification", o.Number, got)
			}
		}

		dir := t.TempDir()
		key := writePEM(t, dir, "apiclient_key.pem", "PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(wp.Pay.Client.Merchant.Key)))
		pub := writePEM(t, dir, "pub_key.pem", "PUBLIC KEY", must(x509.MarshalPKIXPublicKey(&wp.Fake.Key.PublicKey)))
		flags := []string{"-wechatpay-mch-id", servertest.MchID, "-wechatpay-app-id", servertest.AppID,
			"-wechatpay-mch-cert-serial", servertest.Serial, "-wechatpay-mch-private-key", key,
			"-wechatpay-public-key", pub, "-wechatpay-public-key-id", "PUB_KEY_ID_0000000000000000000000000000000001",
			"-wechatpay-base-url", wp.Fake.URL, "-public-url", m.HTTP.URL}
		env := map[string]string{"WECHATPAY_API_V3_KEY": servertest.APIV3Key}
		today := time.Now().In(wechatpay.China).Format(time.DateOnly)
		run := func() (string, error) {
			cfg, rest, err := config.Load(append(flags, "reconcile", "-date", today), func(k string) string { return env[k] }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err = reconcileDay(ctx, cfg, d.DB, rest[1:], &out)
			return out.String(), err
		}

		if out, err := run(); err != nil || !strings.Contains(out, "0 differences") {
			t.Fatalf("a day that agrees: %v\n%s", err, out)
		}
		stranger := wp.Fake.PaymentRow("NOT-OURS-1", "4200000000000000000000009999", 500, time.Now())
		wp.Fake.AddBillRow(stranger)
		wp.Fake.AlterBillRows(paid[1].Number, func(r *wechatpay.BillRow) { r.Total++ })
		out, err := run()
		if !errors.Is(err, errDifferences) {
			t.Fatalf("differences: err %v\n%s", err, out)
		}
		t.Logf("the report:\n%s", out)
		for _, want := range []string{"NOT-OURS-1", paid[1].Number, "2 differences"} {
			if !strings.Contains(out, want) {
				t.Errorf("the report does not name %s:\n%s", want, out)
			}
		}
		if strings.Contains(out, paid[0].Number) {
			t.Errorf("the report names %s, which agrees:\n%s", paid[0].Number, out)
		}
	})
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func writePEM(t *testing.T, dir, name, kind string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

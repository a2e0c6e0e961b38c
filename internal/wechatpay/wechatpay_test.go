package wechatpay_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"unionmall/internal/wechatpay"
)

// keys are generated once: 2048-bit RSA as WeChat Pay uses.
var merchantKey, platformKey, otherKey = mustKey(), mustKey(), mustKey()

func mustKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

// verifies reports whether sig (base64) is key's signature of message.
func verifies(key *rsa.PrivateKey, message, sig string) bool {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(message))
	return rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], raw) == nil
}

// platformSign signs as WeChat Pay does its answers and notifications.
func platformSign(t *testing.T, key *rsa.PrivateKey, timestamp, nonce, body string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(timestamp + "\n" + nonce + "\n" + body + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func TestAuthorization(t *testing.T) {
	m := wechatpay.Merchant{MchID: "1900000001", SerialNo: "5157F09EFDC096DE15EBE81A47057A7232F1B8E1", Key: merchantKey}
	ts := time.Unix(1554208460, 0)
	body := `{"appid":"wxd678efh567hg6787","out_trade_no":"202612011030011234567890"}`
	auth, err := m.Authorization("POST", "/v3/pay/transactions/jsapi", body, ts, "593BEC0C930BF1AFEB40B4A08C8FB242")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^WECHATPAY2-SHA256-RSA2048 mchid="1900000001",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",signature="([^"]+)",timestamp="1554208460",serial_no="5157F09EFDC096DE15EBE81A47057A7232F1B8E1"$`)
	sub := re.FindStringSubmatch(auth)
	if sub == nil {
		t.Fatalf("Authorization = %s", auth)
	}
	want := "POST\n/v3/pay/transactions/jsapi\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n" + body + "\n"
	if !verifies(merchantKey, want, sub[1]) {
		t.Fatal("the signature is not over method\\nURL\\ntimestamp\\nnonce\\nbody\\n")
	}
	get, err := m.Authorization("GET", "/v3/pay/transactions/out-trade-no/1?mchid=1900000001", "", ts, "n")
	if err != nil {
		t.Fatal(err)
	}
	gm := regexp.MustCompile(`signature="([^"]+)"`).FindStringSubmatch(get)
	if !verifies(merchantKey, "GET\n/v3/pay/transactions/out-trade-no/1?mchid=1900000001\n1554208460\nn\n\n", gm[1]) {
		t.Fatal("a GET signs an empty body line")
	}
}

func TestClientParams(t *testing.T) {
	m := wechatpay.Merchant{MchID: "1900000001", SerialNo: "S", Key: merchantKey}
	ts := time.Unix(1414561699, 0)
	j, err := m.JSAPI("wx8888888888888888", "wx201410272009395522657a690389285100", ts, "5K8264ILTKCH16CQ2502SI8ZNMTM67VS")
	if err != nil {
		t.Fatal(err)
	}
	if j.Package != "prepay_id=wx201410272009395522657a690389285100" || j.SignType != "RSA" || j.TimeStamp != "1414561699" {
		t.Errorf("JSAPI params %+v", j)
	}
	if !verifies(merchantKey, "wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n", j.PaySign) {
		t.Error("paySign is not over appId\\ntimeStamp\\nnonceStr\\npackage\\n")
	}
	a, err := m.APP("wx8888888888888888", "wx201410272009395522657a690389285100", ts, "5K8264ILTKCH16CQ2502SI8ZNMTM67VS")
	if err != nil {
		t.Fatal(err)
	}
	if a.PartnerID != "1900000001" || a.Package != "Sign=WXPay" {
		t.Errorf("APP params %+v", a)
	}
	if !verifies(merchantKey, "wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nwx201410272009395522657a690389285100\n", a.Sign) {
		t.Error("sign is not over appid\\ntimestamp\\nnoncestr\\nprepayid\\n")
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1700000000, 0)
	v := wechatpay.Verifier{
		Keys: map[string]*rsa.PublicKey{"PUB_KEY_ID_0114": &platformKey.PublicKey, "PUB_KEY_ID_0115": &otherKey.PublicKey},
		Now:  func() time.Time { return now },
	}
	body := `{"id":"EV-2018022511223320873","event_type":"TRANSACTION.SUCCESS"}`
	stamp := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	good := platformSign(t, platformKey, stamp(0), "fdasfwewe", body)
	for _, tc := range []struct {
		name                   string
		serial, ts, nonce, sig string
		body                   string
		want                   error
	}{
		{"good", "PUB_KEY_ID_0114", stamp(0), "fdasfwewe", good, body, nil},
		{"the second key of a rotation", "PUB_KEY_ID_0115", stamp(0), "n", platformSign(t, otherKey, stamp(0), "n", body), body, nil},
		{"four minutes old", "PUB_KEY_ID_0114", stamp(-4 * time.Minute), "n", platformSign(t, platformKey, stamp(-4*time.Minute), "n", body), body, nil},
		{"six minutes old", "PUB_KEY_ID_0114", stamp(-6 * time.Minute), "n", platformSign(t, platformKey, stamp(-6*time.Minute), "n", body), body, wechatpay.ErrStale},
		{"six minutes ahead", "PUB_KEY_ID_0114", stamp(6 * time.Minute), "n", platformSign(t, platformKey, stamp(6*time.Minute), "n", body), body, wechatpay.ErrStale},
		{"not a number", "PUB_KEY_ID_0114", "yesterday", "n", good, body, wechatpay.ErrStale},
		{"a probe", "PUB_KEY_ID_0114", stamp(0), "n", "WECHATPAY/SIGNTEST/" + good, body, wechatpay.ErrProbe},
		{"unknown serial", "PUB_KEY_ID_9999", stamp(0), "fdasfwewe", good, body, wechatpay.ErrUnknownKey},
		{"the other key's serial", "PUB_KEY_ID_0115", stamp(0), "fdasfwewe", good, body, wechatpay.ErrSignature},
		{"body changed", "PUB_KEY_ID_0114", stamp(0), "fdasfwewe", good, body + " ", wechatpay.ErrSignature},
		{"nonce changed", "PUB_KEY_ID_0114", stamp(0), "other", good, body, wechatpay.ErrSignature},
		{"signed by someone else", "PUB_KEY_ID_0114", stamp(0), "n", platformSign(t, merchantKey, stamp(0), "n", body), body, wechatpay.ErrSignature},
		{"not base64", "PUB_KEY_ID_0114", stamp(0), "n", "%%%", body, wechatpay.ErrSignature},
		{"no signature", "PUB_KEY_ID_0114", stamp(0), "n", "", body, wechatpay.ErrUnsigned},
		{"no serial", "", stamp(0), "n", good, body, wechatpay.ErrUnsigned},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(wechatpay.HeaderSerial, tc.serial)
			h.Set(wechatpay.HeaderTimestamp, tc.ts)
			h.Set(wechatpay.HeaderNonce, tc.nonce)
			h.Set(wechatpay.HeaderSignature, tc.sig)
			err := v.VerifyHeaders(h, []byte(tc.body))
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestResource(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	plain := []byte(`{"mchid":"1900000001","out_trade_no":"202612011030011234567890","amount":{"total":100}}`)
	r, err := wechatpay.Encrypt(key, "fdasflkja484", "transaction", plain)
	if err != nil {
		t.Fatal(err)
	}
	got, err := wechatpay.Decrypt(key, r)
	if err != nil || string(got) != string(plain) {
		t.Fatalf("Decrypt = %s, %v", got, err)
	}
	tamper := func(edit func(*wechatpay.Resource)) wechatpay.Resource { c := r; edit(&c); return c }
	for _, tc := range []struct {
		name string
		key  []byte
		r    wechatpay.Resource
	}{
		{"another key", []byte("fedcba9876543210fedcba9876543210"), r},
		{"associated data changed", key, tamper(func(c *wechatpay.Resource) { c.AssociatedData = "refund" })},
		{"nonce changed", key, tamper(func(c *wechatpay.Resource) { c.Nonce = "fdasflkja485" })},
		{"short nonce", key, tamper(func(c *wechatpay.Resource) { c.Nonce = "abc" })},
		{"ciphertext not base64", key, tamper(func(c *wechatpay.Resource) { c.Ciphertext = "%%" })},
		{"ciphertext cut", key, tamper(func(c *wechatpay.Resource) { c.Ciphertext = c.Ciphertext[:8] })},
		{"another algorithm", key, tamper(func(c *wechatpay.Resource) { c.Algorithm = "AEAD_SM4_GCM" })},
		{"a key of 31 bytes", key[:31], r},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if out, err := wechatpay.Decrypt(tc.key, tc.r); err == nil {
				t.Fatalf("decrypted %s", out)
			}
		})
	}
}

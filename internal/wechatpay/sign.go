package wechatpay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Schema is the Authorization scheme of every request.
const Schema = "WECHATPAY2-SHA256-RSA2048"

// Merchant is what signs the mall's requests: its merchant number, the
// serial of its API certificate and that certificate's private key.
type Merchant struct {
	MchID    string
	SerialNo string
	Key      *rsa.PrivateKey
}

// sign is an SHA256-with-RSA (PKCS #1 v1.5) signature of message, in base64.
func sign(key *rsa.PrivateKey, message string) (string, error) {
	sum := sha256.Sum256([]byte(message))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("wechatpay: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// lines joins the fields of a signed message: each followed by "\n".
func lines(fields ...string) string {
	n := 0
	for _, f := range fields {
		n += len(f) + 1
	}
	b := make([]byte, 0, n)
	for _, f := range fields {
		b = append(append(b, f...), '\n')
	}
	return string(b)
}

// Nonce is a random string for nonce_str and the SDKs' nonceStr.
func Nonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Authorization is the header value of a request: method, the URL's path
// and query (e.g. "/v3/pay/transactions/jsapi"), and the body ("" for
// GET) signed at ts with nonce.
func (m Merchant) Authorization(method, pathAndQuery, body string, ts time.Time, nonce string) (string, error) {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	sig, err := sign(m.Key, lines(method, pathAndQuery, stamp, nonce, body))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(`%s mchid="%s",nonce_str="%s",signature="%s",timestamp="%s",serial_no="%s"`,
		Schema, m.MchID, nonce, sig, stamp, m.SerialNo), nil
}

// JSAPIParams are what wx.requestPayment (JSAPI, the official account and
// mini program) takes for a prepay_id.
type JSAPIParams struct {
	AppID     string `json:"appId"`
	TimeStamp string `json:"timeStamp"`
	NonceStr  string `json:"nonceStr"`
	Package   string `json:"package"`
	SignType  string `json:"signType"`
	PaySign   string `json:"paySign"`
}

// JSAPI signs the parameters of a JSAPI payment: paySign over
// "appId\ntimeStamp\nnonceStr\npackage\n".
func (m Merchant) JSAPI(appID, prepayID string, ts time.Time, nonce string) (JSAPIParams, error) {
	p := JSAPIParams{AppID: appID, TimeStamp: strconv.FormatInt(ts.Unix(), 10), NonceStr: nonce,
		Package: "prepay_id=" + prepayID, SignType: "RSA"}
	var err error
	p.PaySign, err = sign(m.Key, lines(p.AppID, p.TimeStamp, p.NonceStr, p.Package))
	return p, err
}

// APPParams are what the APP SDK's PayReq takes for a prepay_id.
type APPParams struct {
	AppID     string `json:"appid"`
	PartnerID string `json:"partnerid"`
	PrepayID  string `json:"prepayid"`
	Package   string `json:"package"`
	NonceStr  string `json:"noncestr"`
	TimeStamp string `json:"timestamp"`
	Sign      string `json:"sign"`
}

// APP signs the parameters of an APP payment: sign over
// "appid\ntimestamp\nnoncestr\nprepayid\n".
func (m Merchant) APP(appID, prepayID string, ts time.Time, nonce string) (APPParams, error) {
	p := APPParams{AppID: appID, PartnerID: m.MchID, PrepayID: prepayID, Package: "Sign=WXPay",
		NonceStr: nonce, TimeStamp: strconv.FormatInt(ts.Unix(), 10)}
	var err error
	p.Sign, err = sign(m.Key, lines(p.AppID, p.TimeStamp, p.NonceStr, p.PrepayID))
	return p, err
}

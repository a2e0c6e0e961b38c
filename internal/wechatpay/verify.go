package wechatpay

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers WeChat Pay signs its answers and notifications with.
const (
	HeaderSerial    = "Wechatpay-Serial"
	HeaderSignature = "Wechatpay-Signature"
	HeaderTimestamp = "Wechatpay-Timestamp"
	HeaderNonce     = "Wechatpay-Nonce"
)

// Window is how far a signed timestamp may be from now.
const Window = 5 * time.Minute

// probePrefix starts the signatures of WeChat Pay's deliberate probes,
// which a merchant must refuse.
const probePrefix = "WECHATPAY/SIGNTEST/"

// Why a signature was refused (for metrics; all are answered 4xx).
var (
	ErrUnsigned   = errors.New("wechatpay: the signature headers are missing")
	ErrProbe      = errors.New("wechatpay: a signature probe (WECHATPAY/SIGNTEST/)")
	ErrUnknownKey = errors.New("wechatpay: no public key has that serial")
	ErrStale      = errors.New("wechatpay: the timestamp is outside the 5-minute window")
	ErrSignature  = errors.New("wechatpay: the signature does not verify")
)

// Verifier checks WeChat Pay's signatures with its public keys by ID (two
// during a key rotation).
type Verifier struct {
	Keys map[string]*rsa.PublicKey
	Now  func() time.Time // nil: time.Now
}

// VerifyHeaders checks h's signature of body.
func (v Verifier) VerifyHeaders(h http.Header, body []byte) error {
	return v.Verify(h.Get(HeaderSerial), h.Get(HeaderTimestamp), h.Get(HeaderNonce), h.Get(HeaderSignature), body)
}

// Verify checks a signature over "timestamp\nnonce\nbody\n" with the key
// named serial, and that timestamp (Unix seconds) is within Window of now.
func (v Verifier) Verify(serial, timestamp, nonce, signature string, body []byte) error {
	switch {
	case serial == "" || timestamp == "" || nonce == "" || signature == "":
		return ErrUnsigned
	case strings.HasPrefix(signature, probePrefix):
		return ErrProbe
	}
	key := v.Keys[serial]
	if key == nil {
		return fmt.Errorf("%w: %q", ErrUnknownKey, serial)
	}
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrStale
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	if d := now().Sub(time.Unix(secs, 0)); d > Window || d < -Window {
		return ErrStale
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return ErrSignature
	}
	sum := sha256.Sum256([]byte(lines(timestamp, nonce, string(body))))
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig) != nil {
		return ErrSignature
	}
	return nil
}

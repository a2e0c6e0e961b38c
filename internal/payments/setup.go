package payments

import (
	"crypto/rsa"
	"fmt"
	"net/http"
	"time"

	"unionmall/internal/config"
	"unionmall/internal/wechatpay"
)

// Notification paths, under PUBLIC_URL.
const (
	NotifyPath       = "/payments/wechat/notify"
	RefundNotifyPath = "/payments/wechat/refund-notify"
)

// NewWeChat builds WeChat Pay from its settings, reading the keys from
// their files; an error names the setting or file at fault, never a key.
func NewWeChat(w config.WeChatPay, publicURL string) (*WeChat, error) {
	key, err := wechatpay.ReadPrivateKey(w.PrivateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("WECHATPAY_MCH_PRIVATE_KEY: %w", err)
	}
	keys := make(map[string]*rsa.PublicKey, len(w.PublicKeyIDs))
	for i, id := range w.PublicKeyIDs {
		pub, err := wechatpay.ReadPublicKey(w.PublicKeyFiles[i])
		if err != nil {
			return nil, fmt.Errorf("WECHATPAY_PUBLIC_KEY: %w", err)
		}
		keys[id] = pub
	}
	return &WeChat{
		Client: &wechatpay.Client{
			BaseURL:  w.BaseURL,
			Merchant: wechatpay.Merchant{MchID: w.MchID, SerialNo: w.CertSerial, Key: key},
			AppID:    w.AppID,
			Verifier: wechatpay.Verifier{Keys: keys},
			HTTP:     &http.Client{Timeout: 5 * time.Second, Transport: transport()},
		},
		APIV3Key:        []byte(w.APIV3Key),
		NotifyURL:       publicURL + NotifyPath,
		RefundNotifyURL: publicURL + RefundNotifyPath,
	}, nil
}

// transport keeps enough connections to WeChat Pay open for the payments
// worker's parallel checks (Go's default keeps 2 per host, so most of 8
// calls at once would open a new TLS connection; BENCHMARKS.md, issue 11).
func transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return t
}

// Package wechatpay speaks WeChat Pay's API v3. The official Go SDK
// (wechatpay-go) is not served here, so the protocol is written by hand
// over crypto/rsa, crypto/aes + cipher.NewGCM, following these pages of
// the API v3 documentation (pay.weixin.qq.com, 开发指引 → 签名与验签):
//
//   - 签名生成 (signature generation): requests carry
//     "WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,signature=…,
//     timestamp=…,serial_no=…", signing "method\nURL\ntimestamp\nnonce\nbody\n";
//   - 签名验证 and 微信支付公钥 (public-key mode): answers and notifications
//     are verified over "timestamp\nnonce\nbody\n" with WeChat Pay's public
//     key named by Wechatpay-Serial; 签名探测流量: signatures starting
//     WECHATPAY/SIGNTEST/ are probes that must fail;
//   - 证书和回调报文解密: a notification's resource is AEAD_AES_256_GCM
//     with the APIv3 key, its nonce and associated_data;
//   - JSAPI调起支付 and APP调起支付: paySign over
//     "appId\ntimeStamp\nnonceStr\npackage\n", sign over
//     "appid\ntimestamp\nnoncestr\nprepayid\n".
//
// Why not a library: the official SDK (wechatpay-go) is not served here;
// github.com/ArtisanCloud/PowerWeChat/v3@v3.4.10 is, and was read
// (2026-12-01) before this was written. Its payment notification handler
// decrypts the resource but verifies no Wechatpay-Signature, no timestamp
// window and no probe (no file of src/ reads the Wechatpay-Signature or
// Wechatpay-Timestamp headers; answers are not verified either), so a
// forged notification would mark an order paid; and it brings go-redis,
// zap, OpenTelemetry 1.4 and an XML mapper into the build for a client of
// seven endpoints.
//
// These files are the protocol only (signing, verifying, decrypting); the
// HTTP client, the notification handler and the order life cycle build on
// them (issue 11).
package wechatpay

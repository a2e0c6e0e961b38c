package wechatpaytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"unionmall/internal/wechatpay"
)

// Notification builds the signed request WeChat Pay would post to url for
// a transaction, encrypted with apiV3Key. The caller sends it (once, twice,
// late, or after tampering with it).
func (s *Server) Notification(url string, apiV3Key []byte, t *wechatpay.Transaction) (*http.Request, error) {
	plain, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	return s.notification(url, apiV3Key, "TRANSACTION.SUCCESS", "transaction", plain, time.Now())
}

// NotificationAt is Notification signed at a given time (a stale one).
func (s *Server) NotificationAt(url string, apiV3Key []byte, t *wechatpay.Transaction, at time.Time) (*http.Request, error) {
	plain, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	return s.notification(url, apiV3Key, "TRANSACTION.SUCCESS", "transaction", plain, at)
}

func (s *Server) notification(url string, key []byte, event, data string, plain []byte, at time.Time) (*http.Request, error) {
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("EV-%020d", s.seq)
	s.mu.Unlock()
	res, err := wechatpay.Encrypt(key, wechatpay.Nonce()[:12], data, plain)
	if err != nil {
		return nil, err
	}
	res.OriginalType = data
	body, err := json.Marshal(wechatpay.Notification{ID: id, CreateTime: at.Format(time.RFC3339), EventType: event,
		ResourceType: "encrypt-resource", Resource: res, Summary: "支付成功"})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	s.Sign(req.Header, body, at)
	return req, nil
}

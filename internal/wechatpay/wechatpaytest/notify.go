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
// late, or after tampering with it); Pay posts one by itself.
func (s *Server) Notification(url string, apiV3Key []byte, t *wechatpay.Transaction) (*http.Request, error) {
	return s.NotificationAt(url, apiV3Key, t, time.Now())
}

// NotificationAt is Notification signed at a given time (a stale one).
func (s *Server) NotificationAt(url string, apiV3Key []byte, t *wechatpay.Transaction, at time.Time) (*http.Request, error) {
	plain, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	_, body, err := s.envelope(apiV3Key, "TRANSACTION.SUCCESS", "transaction", plain, at)
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

// summaries are the envelopes' summary by event type.
var summaries = map[string]string{"TRANSACTION.SUCCESS": "支付成功", "REFUND.SUCCESS": "退款成功",
	"REFUND.ABNORMAL": "退款异常", "REFUND.CLOSED": "退款关闭"}

// envelope is a notification's body: plain sealed with key under the
// associated data data ("transaction" or "refund"), in a new id.
func (s *Server) envelope(key []byte, event, data string, plain []byte, at time.Time) (id string, body []byte, err error) {
	s.mu.Lock()
	s.seq++
	id = fmt.Sprintf("EV-%020d", s.seq)
	s.mu.Unlock()
	res, err := wechatpay.Encrypt(key, wechatpay.Nonce()[:12], data, plain)
	if err != nil {
		return id, nil, err
	}
	res.OriginalType = data
	body, err = json.Marshal(wechatpay.Notification{ID: id, CreateTime: at.In(wechatpay.China).Format(time.RFC3339), EventType: event,
		ResourceType: "encrypt-resource", Resource: res, Summary: summaries[event]})
	return id, body, err
}

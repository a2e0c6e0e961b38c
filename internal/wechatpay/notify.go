package wechatpay

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Notification is the envelope WeChat Pay posts to notify_url.
type Notification struct {
	ID           string   `json:"id"`
	CreateTime   string   `json:"create_time"`
	EventType    string   `json:"event_type"` // TRANSACTION.SUCCESS, REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED
	ResourceType string   `json:"resource_type"`
	Resource     Resource `json:"resource"`
	Summary      string   `json:"summary"`
}

// ErrMalformed means a signed notification that is not one.
var ErrMalformed = errors.New("wechatpay: the notification is malformed")

// Notified is a verified, decrypted notification: its envelope and the
// resource's plain JSON (a Transaction or a RefundNotice).
type Notified struct {
	Notification
	Plain []byte
}

// Open verifies a notification's signature (Verifier) and decrypts its
// resource with the APIv3 key. Every error means: answer 4xx, change
// nothing.
func Open(v Verifier, apiV3Key []byte, h http.Header, body []byte) (*Notified, error) {
	if err := v.VerifyHeaders(h, body); err != nil {
		return nil, err
	}
	var n Notification
	if err := json.Unmarshal(body, &n); err != nil || n.ID == "" || n.EventType == "" {
		return nil, ErrMalformed
	}
	plain, err := Decrypt(apiV3Key, n.Resource)
	if err != nil {
		return nil, err
	}
	return &Notified{Notification: n, Plain: plain}, nil
}

// Transaction decodes a payment notification's resource.
func (n *Notified) Transaction() (*Transaction, error) {
	var t Transaction
	if err := json.Unmarshal(n.Plain, &t); err != nil || t.OutTradeNo == "" {
		return nil, fmt.Errorf("%w: %s resource", ErrMalformed, n.EventType)
	}
	return &t, nil
}

// RefundNotice is a refund notification's resource.
type RefundNotice struct {
	MchID        string `json:"mchid"`
	OutTradeNo   string `json:"out_trade_no"`
	TradeNo      string `json:"transaction_id"`
	OutRefundNo  string `json:"out_refund_no"`
	RefundID     string `json:"refund_id"`
	RefundStatus string `json:"refund_status"` // SUCCESS, CLOSED, ABNORMAL
	Amount       struct {
		Total  int64 `json:"total"`
		Refund int64 `json:"refund"`
	} `json:"amount"`
}

// Refund decodes a refund notification's resource.
func (n *Notified) Refund() (*RefundNotice, error) {
	var r RefundNotice
	if err := json.Unmarshal(n.Plain, &r); err != nil || r.OutRefundNo == "" {
		return nil, fmt.Errorf("%w: %s resource", ErrMalformed, n.EventType)
	}
	return &r, nil
}

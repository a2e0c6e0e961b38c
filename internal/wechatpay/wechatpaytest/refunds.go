package wechatpaytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"unionmall/internal/wechatpay"
)

func (s *Server) refund(w http.ResponseWriter, body []byte) {
	var p struct {
		OutTradeNo  string `json:"out_trade_no"`
		OutRefundNo string `json:"out_refund_no"`
		NotifyURL   string `json:"notify_url"`
		Amount      struct {
			Refund int64 `json:"refund"`
			Total  int64 `json:"total"`
		} `json:"amount"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.OutRefundNo == "" {
		s.answer(w, http.StatusBadRequest, map[string]string{"code": "PARAM_ERROR", "message": "参数错误"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.refunds[p.OutRefundNo]; r != nil { // the same refund asked again
		s.answer(w, http.StatusOK, r.r)
		return
	}
	o := s.orders[p.OutTradeNo]
	if o == nil || !o.tx.Paid() || p.Amount.Total != o.tx.Amount.Total || p.Amount.Refund <= 0 ||
		p.Amount.Refund > o.tx.Amount.Total-s.refundedLocked(p.OutTradeNo) {
		s.answer(w, http.StatusBadRequest, map[string]string{"code": "INVALID_REQUEST", "message": "退款请求与订单不符"})
		return
	}
	s.seq++
	r := &wechatpay.Refund{RefundID: fmt.Sprintf("50300%023d", s.seq), OutRefundNo: p.OutRefundNo, OutTradeNo: p.OutTradeNo, Status: "PROCESSING"}
	r.Amount.Refund, r.Amount.Total = p.Amount.Refund, p.Amount.Total
	s.refunds[p.OutRefundNo] = &refund{r: r, notifyURL: p.NotifyURL}
	o.tx.TradeState = "REFUND"
	s.answer(w, http.StatusOK, r)
}

// refundedLocked is what the order's refunds took back, or are taking.
func (s *Server) refundedLocked(outTradeNo string) int64 {
	var n int64
	for _, r := range s.refunds {
		if r.r.OutTradeNo == outTradeNo && r.r.Status != "CLOSED" {
			n += r.r.Amount.Refund
		}
	}
	return n
}

func (s *Server) queryRefund(w http.ResponseWriter, outRefundNo string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.refunds[outRefundNo]
	if r == nil {
		s.answer(w, http.StatusNotFound, map[string]string{"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"})
		return
	}
	s.answer(w, http.StatusOK, r.r)
}

// CompleteRefund makes a processing (or abnormal) refund succeed and
// posts REFUND.SUCCESS to its notify_url.
func (s *Server) CompleteRefund(outRefundNo string) error {
	return s.settleRefund(outRefundNo, "SUCCESS", "REFUND.SUCCESS", "PROCESSING", "ABNORMAL")
}

// AbnormalRefund makes a processing refund abnormal (the payer's card
// cancelled, say) and posts REFUND.ABNORMAL.
func (s *Server) AbnormalRefund(outRefundNo string) error {
	return s.settleRefund(outRefundNo, "ABNORMAL", "REFUND.ABNORMAL", "PROCESSING")
}

// CloseRefund closes a processing refund and posts REFUND.CLOSED.
func (s *Server) CloseRefund(outRefundNo string) error {
	return s.settleRefund(outRefundNo, "CLOSED", "REFUND.CLOSED", "PROCESSING")
}

// refundResource is a refund notification's resource.
type refundResource struct {
	MchID               string `json:"mchid"`
	OutTradeNo          string `json:"out_trade_no"`
	TransactionID       string `json:"transaction_id"`
	OutRefundNo         string `json:"out_refund_no"`
	RefundID            string `json:"refund_id"`
	RefundStatus        string `json:"refund_status"`
	SuccessTime         string `json:"success_time,omitempty"`
	UserReceivedAccount string `json:"user_received_account"`
	Amount              struct {
		Total       int64 `json:"total"`
		Refund      int64 `json:"refund"`
		PayerTotal  int64 `json:"payer_total"`
		PayerRefund int64 `json:"payer_refund"`
	} `json:"amount"`
}

func (s *Server) settleRefund(outRefundNo, status, event string, from ...string) error {
	s.mu.Lock()
	r := s.refunds[outRefundNo]
	ok := false
	for _, f := range from {
		ok = ok || (r != nil && r.r.Status == f)
	}
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("wechatpaytest: refund %s cannot become %s", outRefundNo, status)
	}
	r.r.Status = status
	res := refundResource{MchID: s.MchID, OutTradeNo: r.r.OutTradeNo, OutRefundNo: outRefundNo, RefundID: r.r.RefundID,
		RefundStatus: status, UserReceivedAccount: "支付用户零钱"}
	if o := s.orders[r.r.OutTradeNo]; o != nil {
		res.TransactionID = o.tx.TransactionID
	}
	if status == "SUCCESS" {
		r.successAt = s.now()
		res.SuccessTime = r.successAt.In(wechatpay.China).Format(time.RFC3339)
	}
	res.Amount.Total, res.Amount.Refund = r.r.Amount.Total, r.r.Amount.Refund
	res.Amount.PayerTotal, res.Amount.PayerRefund = r.r.Amount.Total, r.r.Amount.Refund
	url := r.notifyURL
	s.mu.Unlock()
	plain, err := json.Marshal(res)
	if err != nil {
		return err
	}
	s.notify(event, outRefundNo, url, "refund", plain)
	return nil
}

package wechatpaytest

import (
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"time"

	"unionmall/internal/money"
	"unionmall/internal/wechatpay"
)

// downloadPath is where the fake serves the files its download_url names.
const downloadPath = "/v3/billdownload/file"

// downloadTTL is how long a download_url is good for (下载账单: 30 s).
const downloadTTL = 30 * time.Second

// billState is what tests did to the bill; under the Server's mu.
type billState struct {
	added        []wechatpay.BillRow
	edits        []func(day time.Time, rows []wechatpay.BillRow) []wechatpay.BillRow
	summaryEdits []func(*wechatpay.BillSummary)
	corruptHash  bool
	downloads    map[string]download // by token
}

type download struct {
	text []byte
	at   time.Time
}

// rate is the fake's fee: 0.60%, rounded to the fen, written as the bill
// writes fees.
const rate = "0.60%"

func feeOn(f money.Fen) wechatpay.Fee { return wechatpay.FeeOf(f.Share(6, 1000)) }

// PaymentRow is the bill's row of a JSAPI payment of this merchant, as the
// fake writes it, for AddBillRow.
func (s *Server) PaymentRow(outTradeNo, transactionID string, total money.Fen, at time.Time) wechatpay.BillRow {
	return wechatpay.BillRow{Time: at.Truncate(time.Second).In(wechatpay.China), MchID: s.MchID, SubMchID: "0",
		TransactionID: transactionID, OutTradeNo: outTradeNo, TradeType: "JSAPI", TradeState: "SUCCESS",
		BankType: "OTHERS", Currency: "CNY", Settlement: total, Fee: feeOn(total), Rate: rate, Total: total}
}

// RefundRow is the bill's row of a successful refund, as the fake writes
// it, for AddBillRow.
func (s *Server) RefundRow(outTradeNo, transactionID, outRefundNo, refundID string, refund money.Fen, at time.Time) wechatpay.BillRow {
	r := s.PaymentRow(outTradeNo, transactionID, 0, at)
	r.TradeState, r.RefundID, r.OutRefundNo, r.Refund, r.RefundAsked = "REFUND", refundID, outRefundNo, refund, refund
	r.RefundType, r.RefundStatus, r.Fee = "ORIGINAL", "SUCCESS", -feeOn(refund)
	return r
}

// Bill is the trade bill the fake serves for the China day that day falls
// in: a SUCCESS row for each order paid that day (refunded since or not),
// a REFUND row for each refund that succeeded that day, then the tests'
// changes.
func (s *Server) Bill(day time.Time) *wechatpay.Bill {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.billLocked(day)
}

func (s *Server) billLocked(day time.Time) *wechatpay.Bill {
	y, m, d := day.In(wechatpay.China).Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, wechatpay.China)
	end := start.AddDate(0, 0, 1)
	in := func(t time.Time) bool { return !t.Before(start) && t.Before(end) }
	var rows []wechatpay.BillRow
	for _, o := range s.orders {
		if o.tx.Paid() && in(o.paidAt) {
			r := s.PaymentRow(o.tx.OutTradeNo, o.tx.TransactionID, money.Fen(o.tx.Amount.Total), o.paidAt)
			r.AppID, r.OpenID, r.TradeType, r.Description = o.tx.AppID, cmp.Or(o.openID, "oAPP"+o.tx.OutTradeNo), o.tx.TradeType, o.description
			rows = append(rows, r)
		}
	}
	for _, f := range s.refunds {
		o := s.orders[f.r.OutTradeNo]
		if f.r.Status == "SUCCESS" && in(f.successAt) && o != nil {
			r := s.RefundRow(o.tx.OutTradeNo, o.tx.TransactionID, f.r.OutRefundNo, f.r.RefundID, money.Fen(f.r.Amount.Refund), f.successAt)
			r.AppID, r.OpenID, r.TradeType, r.Description = o.tx.AppID, cmp.Or(o.openID, "oAPP"+o.tx.OutTradeNo), o.tx.TradeType, o.description
			rows = append(rows, r)
		}
	}
	for _, r := range s.bill.added {
		if in(r.Time) {
			rows = append(rows, r)
		}
	}
	slices.SortStableFunc(rows, func(a, b wechatpay.BillRow) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.OutTradeNo, b.OutTradeNo), cmp.Compare(a.OutRefundNo, b.OutRefundNo))
	})
	for _, e := range s.bill.edits {
		rows = e(start, rows)
	}
	b := &wechatpay.Bill{Rows: rows, Summary: wechatpay.Summarize(rows)}
	for _, e := range s.bill.summaryEdits {
		e(&b.Summary)
	}
	return b
}

// rowKey names a row: a refund's by its out_refund_no, any other by its
// out_trade_no.
func rowKey(r *wechatpay.BillRow) string {
	if r.TradeState == "REFUND" {
		return r.OutRefundNo
	}
	return r.OutTradeNo
}

// AddBillRow adds r to the bill of the day r.Time falls in (see
// PaymentRow and RefundRow).
func (s *Server) AddBillRow(r wechatpay.BillRow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bill.added = append(s.bill.added, r)
}

// RemoveBillRows leaves out of every bill the rows of key: a payment's by
// its out_trade_no, a refund's by its out_refund_no.
func (s *Server) RemoveBillRows(key string) {
	s.EditBill(func(_ time.Time, rows []wechatpay.BillRow) []wechatpay.BillRow {
		return slices.DeleteFunc(rows, func(r wechatpay.BillRow) bool { return rowKey(&r) == key })
	})
}

// AlterBillRows changes the rows of key (as RemoveBillRows names them) in
// every bill. The summary follows the rows (see EditBillSummary).
func (s *Server) AlterBillRows(key string, edit func(*wechatpay.BillRow)) {
	s.EditBill(func(_ time.Time, rows []wechatpay.BillRow) []wechatpay.BillRow {
		for i := range rows {
			if rowKey(&rows[i]) == key {
				edit(&rows[i])
			}
		}
		return rows
	})
}

// EditBill changes the rows of every bill, after the changes before it;
// day is the bill's, at midnight China time. edit runs under the fake's
// lock: it must not call the Server.
func (s *Server) EditBill(edit func(day time.Time, rows []wechatpay.BillRow) []wechatpay.BillRow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bill.edits = append(s.bill.edits, edit)
}

// EditBillSummary changes the summary of every bill once it is computed
// from the rows, so that it disagrees with them.
func (s *Server) EditBillSummary(edit func(*wechatpay.BillSummary)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bill.summaryEdits = append(s.bill.summaryEdits, edit)
}

// CorruptBillHash makes the bill answers' hash_value wrong (or right
// again), as if the file were damaged on its way.
func (s *Server) CorruptBillHash(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bill.corruptHash = on
}

// ResetBill undoes AddBillRow, RemoveBillRows, AlterBillRows, EditBill,
// EditBillSummary and CorruptBillHash.
func (s *Server) ResetBill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bill = billState{downloads: s.bill.downloads}
}

// tradeBill is 申请交易账单 for bill_type=ALL, uncompressed.
func (s *Server) tradeBill(w http.ResponseWriter, q url.Values) {
	day, err := time.ParseInLocation("2006-01-02", q.Get("bill_date"), wechatpay.China)
	if err != nil || q.Get("tar_type") != "" || cmp.Or(q.Get("bill_type"), "ALL") != "ALL" {
		s.answer(w, http.StatusBadRequest, map[string]string{"code": "PARAM_ERROR",
			"message": "the fake serves bill_type=ALL, uncompressed, for a bill_date yyyy-MM-DD"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.billLocked(day)
	if len(b.Rows) == 0 {
		s.answer(w, http.StatusBadRequest, map[string]string{"code": wechatpay.NoStatement, "message": "账单文件不存在"})
		return
	}
	text := wechatpay.FormatTradeBill(b)
	sum := sha1.Sum(text)
	if s.bill.corruptHash {
		sum[0] ^= 0xff
	}
	token := wechatpay.Nonce()
	s.bill.downloads[token] = download{text: text, at: time.Now()}
	s.answer(w, http.StatusOK, map[string]string{"hash_type": "SHA1", "hash_value": hex.EncodeToString(sum[:]),
		"download_url": s.URL + downloadPath + "?token=" + token})
}

// download is 下载账单: the file as it is, unsigned.
func (s *Server) download(w http.ResponseWriter, token string) {
	s.mu.Lock()
	d, ok := s.bill.downloads[token]
	s.mu.Unlock()
	if !ok || time.Since(d.at) > downloadTTL {
		s.answer(w, http.StatusBadRequest, map[string]string{"code": "INVALID_REQUEST", "message": "下载地址已失效,请重新申请账单"})
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(d.text)
}

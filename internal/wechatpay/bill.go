package wechatpay

// The trade bill (对账单), as these pages of the API v3 documentation
// specify (pay.weixin.qq.com, 基础支付 → 账单):
//
//   - 申请交易账单: GET /v3/bill/tradebill?bill_date=yyyy-MM-DD&bill_type=ALL
//     answers {hash_type: "SHA1", hash_value, download_url} (signed, like
//     every answer); without tar_type the file comes uncompressed;
//   - 下载账单: GET download_url, signed with the merchant's Authorization
//     like every request; its answer is a data stream with no signature,
//     so it is believed only when its SHA1 is hash_value;
//   - 文件格式说明: a header line of column names (whose order may change,
//     so columns are found by name), data rows whose every field starts
//     with a backtick, then a summary header and one summary row. Amounts
//     are yuan; the fee (手续费) has five decimals.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"unionmall/internal/money"
)

// China is WeChat Pay's time zone (Asia/Shanghai, UTC+8 with no daylight
// saving since 1991): a bill's day and its times are China time.
var China = time.FixedZone("Asia/Shanghai", 8*60*60)

// billTime is how the bill writes 交易时间.
const billTime = "2006-01-02 15:04:05"

// NoStatement is the code of the refusal for a day with no bill (no
// transaction that day, or not generated yet).
const NoStatement = "NO_STATEMENT_EXIST"

// Why a bill was refused.
var (
	ErrBillHash    = errors.New("wechatpay: the downloaded bill does not match its hash")
	ErrBillFormat  = errors.New("wechatpay: the trade bill is malformed")
	ErrBillSummary = errors.New("wechatpay: the trade bill's summary does not match its rows")
)

// Fee is an amount in hundred-thousandths of a yuan: the bill writes fees
// with five decimals ("0.04000", "-0.27000" on a refund's row).
type Fee int64

// FeeOf is an amount in fen as a Fee.
func FeeOf(f money.Fen) Fee { return Fee(f) * 1000 }

func (f Fee) String() string {
	sign, v := "", int64(f)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%05d", sign, v/100000, v%100000)
}

// ParseFee reads a fee: an optional minus sign, digits, and at most five
// decimals.
func ParseFee(s string) (Fee, error) {
	neg := strings.HasPrefix(s, "-")
	whole, frac, dot := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if whole == "" || len(whole) > 13 || (dot && (frac == "" || len(frac) > 5)) || !digits(whole) || !digits(frac) {
		return 0, fmt.Errorf("%q is not a fee", s)
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt((frac + "00000")[:5], 10, 64)
	v := Fee(w*100000 + f)
	if neg {
		v = -v
	}
	return v, nil
}

// digits reports whether s is only decimal digits.
func digits(s string) bool { return strings.TrimLeft(s, "0123456789") == "" }

// BillRow is one data row. A row whose TradeState is SUCCESS is a
// payment; REFUND is a refund (RefundID, OutRefundNo, Refund,
// RefundStatus); REVOKED a payment revoked after it succeeded.
type BillRow struct {
	Time                 time.Time // 交易时间, China time
	AppID                string    // 公众账号ID
	MchID                string    // 商户号
	SubMchID             string    // 特约商户号
	DeviceInfo           string    // 设备号
	TransactionID        string    // 微信订单号
	OutTradeNo           string    // 商户订单号
	OpenID               string    // 用户标识
	TradeType            string    // 交易类型
	TradeState           string    // 交易状态
	BankType             string    // 付款银行
	Currency             string    // 货币种类
	Settlement           money.Fen // 应结订单金额: Total less the coupons
	Coupon               money.Fen // 代金券金额
	RefundID             string    // 微信退款单号 ("" where the bill has 0)
	OutRefundNo          string    // 商户退款单号 ("" where the bill has 0)
	Refund               money.Fen // 退款金额
	RechargeCouponRefund money.Fen // 充值券退款金额
	RefundType           string    // 退款类型
	RefundStatus         string    // 退款状态
	Description          string    // 商品名称
	Attach               string    // 商户数据包
	Fee                  Fee       // 手续费
	Rate                 string    // 费率, e.g. "0.60%"
	Total                money.Fen // 订单金额: what the merchant asked
	RefundAsked          money.Fen // 申请退款金额: what the merchant asked back
	RateNote             string    // 费率备注
}

// BillSummary is the bill's last row.
type BillSummary struct {
	Count                int       // 总交易单数
	Settlement           money.Fen // 应结订单总金额
	Refund               money.Fen // 退款总金额
	RechargeCouponRefund money.Fen // 充值券退款总金额
	Fee                  Fee       // 手续费总金额
	Total                money.Fen // 订单总金额
	RefundAsked          money.Fen // 申请退款总金额
}

// Bill is a parsed trade bill.
type Bill struct {
	Rows    []BillRow
	Summary BillSummary
}

// Payments are the rows of successful payments.
func (b *Bill) Payments() []BillRow { return b.state("SUCCESS") }

// Refunds are the refunds' rows.
func (b *Bill) Refunds() []BillRow { return b.state("REFUND") }

func (b *Bill) state(s string) []BillRow {
	return slices.DeleteFunc(slices.Clone(b.Rows), func(r BillRow) bool { return r.TradeState != s })
}

// Summarize is the summary that rows call for.
func Summarize(rows []BillRow) BillSummary {
	s := BillSummary{Count: len(rows)}
	for _, r := range rows {
		s.Settlement += r.Settlement
		s.Refund += r.Refund
		s.RechargeCouponRefund += r.RechargeCouponRefund
		s.Fee += r.Fee
		s.Total += r.Total
		s.RefundAsked += r.RefundAsked
	}
	return s
}

// column is one column of a section (the data rows, or the summary): its
// name, whether a bill without it is refused, and how it is read and
// written.
type column[T any] struct {
	name     string
	required bool
	get      func(*T) string
	set      func(*T, string) error
}

func text[T any](name string, required bool, f func(*T) *string) column[T] {
	return column[T]{name, required, func(r *T) string { return *f(r) }, func(r *T, s string) error { *f(r) = s; return nil }}
}

func amount[T any](name string, f func(*T) *money.Fen) column[T] {
	return column[T]{name, true, func(r *T) string { return f(r).String() },
		func(r *T, s string) (err error) { *f(r), err = money.Parse(s); return err }}
}

func fee[T any](name string, f func(*T) *Fee) column[T] {
	return column[T]{name, true, func(r *T) string { return f(r).String() },
		func(r *T, s string) (err error) { *f(r), err = ParseFee(s); return err }}
}

// refundNo is a refund's number, which a payment's row writes as 0.
func refundNo(name string, f func(*BillRow) *string) column[BillRow] {
	return column[BillRow]{name, true, func(r *BillRow) string { return cmp.Or(*f(r), "0") }, func(r *BillRow, s string) error {
		if s == "0" {
			s = ""
		}
		*f(r) = s
		return nil
	}}
}

// rowColumns are the columns of bill_type=ALL, in the documented order.
var rowColumns = []column[BillRow]{
	{"交易时间", true, func(r *BillRow) string { return r.Time.In(China).Format(billTime) },
		func(r *BillRow, s string) (err error) {
			r.Time, err = time.ParseInLocation(billTime, s, China)
			return err
		}},
	text("公众账号ID", false, func(r *BillRow) *string { return &r.AppID }),
	text("商户号", false, func(r *BillRow) *string { return &r.MchID }),
	text("特约商户号", false, func(r *BillRow) *string { return &r.SubMchID }),
	text("设备号", false, func(r *BillRow) *string { return &r.DeviceInfo }),
	text("微信订单号", true, func(r *BillRow) *string { return &r.TransactionID }),
	text("商户订单号", true, func(r *BillRow) *string { return &r.OutTradeNo }),
	text("用户标识", false, func(r *BillRow) *string { return &r.OpenID }),
	text("交易类型", false, func(r *BillRow) *string { return &r.TradeType }),
	text("交易状态", true, func(r *BillRow) *string { return &r.TradeState }),
	text("付款银行", false, func(r *BillRow) *string { return &r.BankType }),
	text("货币种类", false, func(r *BillRow) *string { return &r.Currency }),
	amount("应结订单金额", func(r *BillRow) *money.Fen { return &r.Settlement }),
	amount("代金券金额", func(r *BillRow) *money.Fen { return &r.Coupon }),
	refundNo("微信退款单号", func(r *BillRow) *string { return &r.RefundID }),
	refundNo("商户退款单号", func(r *BillRow) *string { return &r.OutRefundNo }),
	amount("退款金额", func(r *BillRow) *money.Fen { return &r.Refund }),
	amount("充值券退款金额", func(r *BillRow) *money.Fen { return &r.RechargeCouponRefund }),
	text("退款类型", false, func(r *BillRow) *string { return &r.RefundType }),
	text("退款状态", true, func(r *BillRow) *string { return &r.RefundStatus }),
	text("商品名称", false, func(r *BillRow) *string { return &r.Description }),
	text("商户数据包", false, func(r *BillRow) *string { return &r.Attach }),
	fee("手续费", func(r *BillRow) *Fee { return &r.Fee }),
	text("费率", false, func(r *BillRow) *string { return &r.Rate }),
	amount("订单金额", func(r *BillRow) *money.Fen { return &r.Total }),
	amount("申请退款金额", func(r *BillRow) *money.Fen { return &r.RefundAsked }),
	text("费率备注", false, func(r *BillRow) *string { return &r.RateNote }),
}

// summaryColumns are the summary's columns.
var summaryColumns = []column[BillSummary]{
	{"总交易单数", true, func(s *BillSummary) string { return strconv.Itoa(s.Count) }, func(s *BillSummary, v string) (err error) {
		if v == "" || len(v) > 9 || !digits(v) {
			return fmt.Errorf("%q is not a count", v)
		}
		s.Count, err = strconv.Atoi(v)
		return err
	}},
	amount("应结订单总金额", func(s *BillSummary) *money.Fen { return &s.Settlement }),
	amount("退款总金额", func(s *BillSummary) *money.Fen { return &s.Refund }),
	amount("充值券退款总金额", func(s *BillSummary) *money.Fen { return &s.RechargeCouponRefund }),
	fee("手续费总金额", func(s *BillSummary) *Fee { return &s.Fee }),
	amount("订单总金额", func(s *BillSummary) *money.Fen { return &s.Total }),
	amount("申请退款总金额", func(s *BillSummary) *money.Fen { return &s.RefundAsked }),
}

// FormatTradeBill writes b as WeChat Pay writes a bill of bill_type=ALL
// (for the fake provider of tests), with b.Summary as it is, so that a
// test can make it disagree with the rows.
func FormatTradeBill(b *Bill) []byte {
	var w bytes.Buffer
	writeSection(&w, rowColumns, b.Rows)
	writeSection(&w, summaryColumns, []BillSummary{b.Summary})
	return w.Bytes()
}

func writeSection[T any](w *bytes.Buffer, cols []column[T], rows []T) {
	line := func(field func(c column[T]) string) {
		for i, c := range cols {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(field(c))
		}
		w.WriteString("\r\n")
	}
	line(func(c column[T]) string { return c.name })
	for r := range rows {
		line(func(c column[T]) string { return "`" + c.get(&rows[r]) })
	}
}

// ParseTradeBill reads a bill of bill_type=ALL, finding its columns by
// name, and checks its summary (count and totals) against its rows.
func ParseTradeBill(text []byte) (*Bill, error) {
	lines := strings.Split(strings.TrimPrefix(string(text), "\uFEFF"), "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	sum := len(lines) - 2 // the summary's header: not a data row
	if sum < 1 || strings.HasPrefix(lines[sum], "`") {
		return nil, fmt.Errorf("%w: no summary header before the last line", ErrBillFormat)
	}
	rows, err := readSection(lines[:sum], 1, rowColumns, checkRow)
	if err != nil {
		return nil, err
	}
	summary, err := readSection(lines[sum:], sum+1, summaryColumns, nil)
	if err != nil {
		return nil, err
	}
	b := &Bill{Rows: rows, Summary: summary[0]}
	if want := Summarize(b.Rows); want != b.Summary {
		return nil, fmt.Errorf("%w: the summary says %+v, the rows add up to %+v", ErrBillSummary, b.Summary, want)
	}
	return b, nil
}

// readSection reads a header line and its data rows (the first at line
// number first+1), refusing a header that lacks a required column or
// names one twice, and a row that check refuses.
func readSection[T any](lines []string, first int, known []column[T], check func(*T) error) ([]T, error) {
	bad := func(line int, format string, args ...any) error {
		return fmt.Errorf("%w: line %d: %s", ErrBillFormat, line, fmt.Sprintf(format, args...))
	}
	header := strings.Split(lines[0], ",")
	cols := make([]*column[T], len(header))
	seen := map[string]bool{}
	for i, name := range header {
		if seen[name] {
			return nil, bad(first, "column %s twice", name)
		}
		seen[name] = true
		for k := range known {
			if known[k].name == name {
				cols[i] = &known[k]
			}
		}
	}
	for _, c := range known {
		if c.required && !seen[c.name] {
			return nil, bad(first, "no column %s", c.name)
		}
	}
	out := make([]T, 0, len(lines)-1)
	for i, line := range lines[1:] {
		n := first + 1 + i
		if !strings.HasPrefix(line, "`") {
			return nil, bad(n, "a field without its leading backtick")
		}
		// Split at ",`": a field itself may hold a comma.
		fields := strings.Split(line[1:], ",`")
		if len(fields) != len(cols) {
			return nil, bad(n, "%d fields, want %d", len(fields), len(cols))
		}
		var r T
		for c, col := range cols {
			if col == nil { // a column this package does not read
				continue
			}
			if err := col.set(&r, fields[c]); err != nil {
				return nil, bad(n, "%s: %v", col.name, err)
			}
		}
		if check != nil {
			if err := check(&r); err != nil {
				return nil, bad(n, "%v", err)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// checkRow refuses a row that is no payment, refund or revocation.
func checkRow(r *BillRow) error {
	switch {
	case r.TradeState != "SUCCESS" && r.TradeState != "REFUND" && r.TradeState != "REVOKED":
		return fmt.Errorf("交易状态 %q", r.TradeState)
	case r.OutTradeNo == "" || r.TransactionID == "":
		return errors.New("a row without its 商户订单号 or 微信订单号")
	case r.TradeState == "REFUND" && (r.RefundID == "" || r.OutRefundNo == "" || r.RefundStatus == ""):
		return errors.New("a refund's row without its 微信退款单号, 商户退款单号 or 退款状态")
	}
	return nil
}

// TradeBill downloads the trade bill (bill_type=ALL, uncompressed) of the
// China day that date falls in, and returns its text once its SHA1 is the
// hash_value of the signed answer that gave its download_url. A day with
// no bill is an *APIError whose Code is NoStatement.
func (c *Client) TradeBill(ctx context.Context, date time.Time) ([]byte, error) {
	var ans struct {
		HashType    string `json:"hash_type"`
		HashValue   string `json:"hash_value"`
		DownloadURL string `json:"download_url"`
	}
	day := date.In(China).Format("2006-01-02")
	if err := c.do(ctx, http.MethodGet, "/v3/bill/tradebill?bill_date="+day+"&bill_type=ALL", nil, &ans); err != nil {
		return nil, err
	}
	if ans.HashType != "SHA1" || ans.DownloadURL == "" {
		return nil, fmt.Errorf("wechatpay: the bill of %s: hash_type %q, download_url %q", day, ans.HashType, ans.DownloadURL)
	}
	text, err := c.Download(ctx, ans.DownloadURL)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: the bill of %s: %w", day, err)
	}
	sum := sha1.Sum(text)
	if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, ans.HashValue) {
		return nil, fmt.Errorf("%w: the bill of %s hashes to %s, the answer said %s", ErrBillHash, day, got, ans.HashValue)
	}
	return text, nil
}

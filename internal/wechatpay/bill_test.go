package wechatpay_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"unionmall/internal/money"
	"unionmall/internal/wechatpay"
	"unionmall/internal/wechatpay/wechatpaytest"
)

const billHeader = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"

const summaryHeader = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"

// A day's bill as WeChat Pay writes it (CRLF, every data field after a
// backtick): two payments, one of them by APP with a comma in its
// product's name, and the refund of an order paid the day before.
var realisticBill = strings.Join([]string{
	billHeader,
	"`2026-03-14 09:12:45,`wxd678efh567hg6787,`1900000001,`0,`,`4200002360202603141150650780,`T20260314091200000001,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`OTHERS,`CNY,`60.00,`0.00,`0,`0,`0.00,`0.00,`,`,`汉中香小榨菜籽油 5L,`,`0.36000,`0.60%,`60.00,`0.00,`",
	"`2026-03-14 10:06:33,`wxd678efh567hg6787,`1900000001,`0,`,`4200002361202603141150650781,`T20260314100600000002,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6p,`APP,`SUCCESS,`CMB_DEBIT,`CNY,`128.50,`0.00,`0,`0,`0.00,`0.00,`,`,`镇安板栗,礼盒装,`{\"statement_id\":\"56\"},`0.77000,`0.60%,`128.50,`0.00,`",
	"`2026-03-14 18:30:02,`wxd678efh567hg6787,`1900000001,`0,`,`4200002359202603131150650779,`T20260313201500000009,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`50302709992026031491956632208,`RT20260313201500000009,`50.00,`0.00,`ORIGINAL,`SUCCESS,`紫阳富硒茶,`,`-0.30000,`0.60%,`0.00,`50.00,`",
	summaryHeader,
	"`3,`188.50,`50.00,`0.00,`0.83000,`188.50,`50.00",
	"",
}, "\r\n")

func TestParseTradeBill(t *testing.T) {
	b, err := wechatpay.ParseTradeBill([]byte(realisticBill))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rows) != 3 || len(b.Payments()) != 2 || len(b.Refunds()) != 1 {
		t.Fatalf("%d rows, %d payments, %d refunds", len(b.Rows), len(b.Payments()), len(b.Refunds()))
	}
	p := b.Rows[1]
	if p.OutTradeNo != "T20260314100600000002" || p.TransactionID != "4200002361202603141150650781" || p.TradeType != "APP" ||
		p.Total != 12850 || p.Settlement != 12850 || p.Fee != 77000 || p.Description != "镇安板栗,礼盒装" ||
		p.Attach != `{"statement_id":"56"}` || p.RefundID != "" || p.OutRefundNo != "" || p.Rate != "0.60%" {
		t.Errorf("payment row %+v", p)
	}
	if want := time.Date(2026, 3, 14, 2, 6, 33, 0, time.UTC); !p.Time.Equal(want) {
		t.Errorf("交易时间 %s, want %s (China time)", p.Time, want)
	}
	r := b.Refunds()[0]
	if r.TradeState != "REFUND" || r.RefundID != "50302709992026031491956632208" || r.OutRefundNo != "RT20260313201500000009" ||
		r.Refund != 5000 || r.RefundAsked != 5000 || r.RefundStatus != "SUCCESS" || r.RefundType != "ORIGINAL" ||
		r.Fee != -30000 || r.Total != 0 || r.OutTradeNo != "T20260313201500000009" {
		t.Errorf("refund row %+v", r)
	}
	want := wechatpay.BillSummary{Count: 3, Settlement: 18850, Refund: 5000, Fee: 83000, Total: 18850, RefundAsked: 5000}
	if b.Summary != want {
		t.Errorf("summary %+v, want %+v", b.Summary, want)
	}

	// Written back as WeChat Pay writes it, it reads the same.
	again, err := wechatpay.ParseTradeBill(wechatpay.FormatTradeBill(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Rows) != len(b.Rows) || again.Summary != b.Summary {
		t.Fatalf("round trip: %+v", again)
	}
	for i := range b.Rows {
		if again.Rows[i] != b.Rows[i] {
			t.Errorf("round trip row %d: %+v, want %+v", i, again.Rows[i], b.Rows[i])
		}
	}
	if string(wechatpay.FormatTradeBill(b)) != realisticBill {
		t.Errorf("formatted:\n%s\nwant:\n%s", wechatpay.FormatTradeBill(b), realisticBill)
	}
}

// Columns are found by name: the same bill with its columns in another
// order, a column more, LF line ends and a byte-order mark reads the same.
func TestParseTradeBillByColumnName(t *testing.T) {
	b, err := wechatpay.ParseTradeBill([]byte(realisticBill))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(realisticBill, "\r\n"), "\r\n")
	shuffle := func(fields []string) []string {
		// the last column first, the first last, and an unknown one added
		n := len(fields)
		out := append([]string{fields[n-1]}, fields[1:n-1]...)
		return append(out, fields[0], "新列")
	}
	var moved []string
	moved = append(moved, strings.Join(shuffle(strings.Split(lines[0], ",")), ","))
	for _, l := range lines[1:4] {
		f := strings.Split(l[1:], ",`")
		moved = append(moved, "`"+strings.Join(shuffle(f), ",`"))
	}
	moved = append(moved, lines[4:]...)
	got, err := wechatpay.ParseTradeBill([]byte("\uFEFF" + strings.Join(moved, "\n") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range b.Rows {
		if got.Rows[i] != b.Rows[i] {
			t.Errorf("row %d: %+v, want %+v", i, got.Rows[i], b.Rows[i])
		}
	}
}

func TestParseTradeBillRefusals(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(realisticBill, "\r\n"), "\r\n")
	row := lines[1]
	// with replaces field i (0-based, by the header) of the first row.
	with := func(i int, v string) string {
		f := strings.Split(row[1:], ",`")
		f[i] = v
		return "`" + strings.Join(f, ",`")
	}
	bill := func(rows ...string) string {
		return strings.Join(append(append([]string{billHeader}, rows...), summaryHeader, "`1,`60.00,`0.00,`0.00,`0.36000,`60.00,`0.00"), "\n")
	}
	for _, tc := range []struct {
		name, text string
		want       error
	}{
		{"empty", "", wechatpay.ErrBillFormat},
		{"no summary", billHeader + "\n" + row, wechatpay.ErrBillFormat},
		{"a field without its backtick", bill(strings.TrimPrefix(row, "`")), wechatpay.ErrBillFormat},
		{"a field short", bill(row[:strings.LastIndex(row, ",`")]), wechatpay.ErrBillFormat},
		{"a field more", bill(row + ",`x"), wechatpay.ErrBillFormat},
		{"a blank line among the rows", bill(row, ""), wechatpay.ErrBillFormat},
		{"an amount of three decimals", bill(with(24, "60.000")), wechatpay.ErrBillFormat},
		{"a negative amount", bill(with(24, "-60.00")), wechatpay.ErrBillFormat},
		{"an amount that is no number", bill(with(12, "六十")), wechatpay.ErrBillFormat},
		{"a fee of six decimals", bill(with(22, "0.360000")), wechatpay.ErrBillFormat},
		{"a time without seconds", bill(with(0, "2026-03-14 09:12")), wechatpay.ErrBillFormat},
		{"an unknown state", bill(with(9, "CLOSED")), wechatpay.ErrBillFormat},
		{"no out_trade_no", bill(with(6, "")), wechatpay.ErrBillFormat},
		{"a refund without its refund number", bill(with(9, "REFUND")), wechatpay.ErrBillFormat},
		{"a column twice", strings.Replace(bill(row), "费率备注", "费率", 1), wechatpay.ErrBillFormat},
		{"a summary whose count is no number", strings.Replace(bill(row), "`1,`60.00", "`one,`60.00", 1), wechatpay.ErrBillFormat},
		{"a summary of two rows", bill(row) + "\n`1,`60.00,`0.00,`0.00,`0.36000,`60.00,`0.00", wechatpay.ErrBillFormat},
		{"a summary that counts a row more", strings.Replace(bill(row), "`1,`60.00", "`2,`60.00", 1), wechatpay.ErrBillSummary},
		{"a summary whose total is off", strings.Replace(bill(row), "`0.36000,`60.00,`0.00", "`0.36000,`60.01,`0.00", 1), wechatpay.ErrBillSummary},
		{"a summary whose settlement is off", strings.Replace(bill(row), "`1,`60.00", "`1,`59.99", 1), wechatpay.ErrBillSummary},
		{"a summary whose fee is off", strings.Replace(bill(row), "`0.36000,`60.00,`0.00", "`0.37000,`60.00,`0.00", 1), wechatpay.ErrBillSummary},
		{"a summary missing a row", bill(row, lines[2]), wechatpay.ErrBillSummary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := wechatpay.ParseTradeBill([]byte(tc.text))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v (bill %+v)", err, tc.want, b)
			}
		})
	}
	if _, err := wechatpay.ParseTradeBill([]byte(bill(row))); err != nil {
		t.Fatalf("the refusals' base bill is refused: %v", err)
	}
}

func TestParseTradeBillMissingColumns(t *testing.T) {
	required := []string{"交易时间", "微信订单号", "商户订单号", "交易状态", "应结订单金额", "代金券金额", "微信退款单号",
		"商户退款单号", "退款金额", "充值券退款金额", "退款状态", "手续费", "订单金额", "申请退款金额"}
	drop := func(line, sep string, i int) string {
		f := strings.Split(line, sep)
		return strings.Join(append(f[:i:i], f[i+1:]...), sep)
	}
	lines := strings.Split(strings.TrimSuffix(realisticBill, "\r\n"), "\r\n")
	header := strings.Split(lines[0], ",")
	for _, name := range required {
		t.Run(name, func(t *testing.T) {
			i := indexOf(header, name)
			out := []string{drop(lines[0], ",", i)}
			for _, l := range lines[1:4] {
				out = append(out, "`"+drop(l[1:], ",`", i))
			}
			out = append(out, lines[4:]...)
			_, err := wechatpay.ParseTradeBill([]byte(strings.Join(out, "\n")))
			if !errors.Is(err, wechatpay.ErrBillFormat) || !strings.Contains(err.Error(), name) {
				t.Fatalf("without %s: %v", name, err)
			}
		})
	}
	sum := strings.Split(lines[4], ",")
	for i, name := range sum {
		t.Run(name, func(t *testing.T) {
			text := strings.Join(append(lines[:4:4], drop(lines[4], ",", i), "`"+drop(lines[5][1:], ",`", i)), "\n")
			if _, err := wechatpay.ParseTradeBill([]byte(text)); !errors.Is(err, wechatpay.ErrBillFormat) {
				t.Fatalf("without %s: %v", name, err)
			}
		})
	}
	// Columns this package does not read may be missing.
	i := indexOf(header, "费率备注")
	out := []string{drop(lines[0], ",", i)}
	for _, l := range lines[1:4] {
		out = append(out, "`"+drop(l[1:], ",`", i))
	}
	if _, err := wechatpay.ParseTradeBill([]byte(strings.Join(append(out, lines[4:]...), "\n"))); err != nil {
		t.Fatalf("without 费率备注: %v", err)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func TestParseFee(t *testing.T) {
	for in, want := range map[string]wechatpay.Fee{"0": 0, "0.36000": 36000, "-0.30000": -30000, "7.79": 779000, "12.3": 1230000} {
		if got, err := wechatpay.ParseFee(in); err != nil || got != want {
			t.Errorf("ParseFee(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-", ".5", "1.", "1.000001", "+1", "1e3", "--1", "1.2.3", "12345678901234"} {
		if got, err := wechatpay.ParseFee(in); err == nil {
			t.Errorf("ParseFee(%q) = %v", in, got)
		}
	}
	if s := wechatpay.Fee(-30000).String(); s != "-0.30000" {
		t.Errorf("String = %s", s)
	}
}

// The bill through the client: applied for and downloaded from the fake,
// which builds it from its own orders and refunds; a corrupted hash, a day
// without a bill and a download_url elsewhere are refused.
func TestTradeBillFromTheFake(t *testing.T) {
	ctx := context.Background()
	day := time.Date(2026, 3, 14, 9, 30, 0, 0, wechatpay.China)
	clock := day
	fake := wechatpaytest.Start("1900000001", &merchantKey.PublicKey, wechatpaytest.WithClock(func() time.Time { return clock }))
	t.Cleanup(fake.Close)
	c := newClient(fake)
	p := wechatpay.Prepay{Description: "汉中香小榨菜籽油 5L", OutTradeNo: "T1", TimeExpire: day.Add(time.Hour),
		NotifyURL: "http://127.0.0.1:1/notify", Total: 6000, OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
	if _, err := c.PrepayJSAPI(ctx, p); err != nil {
		t.Fatal(err)
	}
	tx, err := fake.Pay("T1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refund(ctx, wechatpay.RefundRequest{OutTradeNo: "T1", OutRefundNo: "RT1", Refund: 1000, Total: 6000}); err != nil {
		t.Fatal(err)
	}
	clock = day.Add(2 * time.Hour)
	if err := fake.CompleteRefund("RT1"); err != nil {
		t.Fatal(err)
	}

	text, err := c.TradeBill(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	b, err := wechatpay.ParseTradeBill(text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if len(b.Payments()) != 1 || len(b.Refunds()) != 1 {
		t.Fatalf("bill %+v", b)
	}
	pr, rr := b.Payments()[0], b.Refunds()[0]
	if pr.OutTradeNo != "T1" || pr.TransactionID != tx.TransactionID || pr.Total != 6000 || pr.OpenID != p.OpenID ||
		pr.Description != p.Description || !pr.Time.Equal(day) || pr.Fee != wechatpay.FeeOf(36) {
		t.Errorf("payment row %+v", pr)
	}
	if rr.OutRefundNo != "RT1" || rr.RefundAsked != 1000 || rr.Refund != 1000 || rr.TransactionID != tx.TransactionID || !rr.Time.Equal(clock) {
		t.Errorf("refund row %+v", rr)
	}

	fake.CorruptBillHash(true)
	if _, err := c.TradeBill(ctx, day); !errors.Is(err, wechatpay.ErrBillHash) {
		t.Fatalf("a corrupted hash: %v", err)
	}
	fake.CorruptBillHash(false)

	var api *wechatpay.APIError
	if _, err := c.TradeBill(ctx, day.AddDate(0, 0, -1)); !errors.As(err, &api) || api.Code != wechatpay.NoStatement {
		t.Fatalf("a day without a bill: %v", err)
	}
	if _, err := c.Download(ctx, "http://127.0.0.2:1/v3/billdownload/file?token=x"); err == nil || !strings.Contains(err.Error(), "not on") {
		t.Fatalf("a download_url off the API's host: %v", err)
	}
	if _, err := c.Download(ctx, fake.URL+"/v3/billdownload/file?token=nope"); !errors.As(err, &api) || api.Code != "INVALID_REQUEST" {
		t.Fatalf("an unknown token: %v", err)
	}
	forger := newClient(fake)
	forger.Merchant.Key = otherKey
	if _, err := forger.TradeBill(ctx, day); !errors.As(err, &api) || api.Status != 401 {
		t.Fatalf("a bill asked with another key: %v", err)
	}

	// The fake's bill changed by a test is what the client reads.
	fake.AlterBillRows("T1", func(r *wechatpay.BillRow) { r.Total, r.Settlement = 6001, 6001 })
	fake.AddBillRow(fake.PaymentRow("T2", "4200000000000000000000000099", money.Fen(250), day.Add(time.Minute)))
	fake.RemoveBillRows("RT1")
	text, err = c.TradeBill(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = wechatpay.ParseTradeBill(text); err != nil || len(b.Rows) != 2 || b.Rows[0].Total != 6001 || b.Rows[1].OutTradeNo != "T2" {
		t.Fatalf("the edited bill: %+v, %v", b, err)
	}
	fake.EditBillSummary(func(s *wechatpay.BillSummary) { s.Count++ })
	if text, err = c.TradeBill(ctx, day); err != nil {
		t.Fatal(err)
	}
	if _, err := wechatpay.ParseTradeBill(text); !errors.Is(err, wechatpay.ErrBillSummary) {
		t.Fatalf("a summary that counts a row more: %v", err)
	}
}

package payhttp_test

// Helpers of the cashier's tests: the rows a payment changes, and the
// cashier's answers as a browser would read them.

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// payment is an order's payments row.
type payment struct {
	Status, Transaction, OutRefundNo, RefundID, RefundReason string
	Late, Paid, Refunded                                     bool
}

func paymentOf(t testing.TB, d *testdb.DB, orderID string) payment {
	t.Helper()
	var p payment
	var tx, no, rid, reason, paidAt, refundedAt nullString
	err := d.Pool.QueryRow(d.Q(`SELECT status, provider_transaction_id, out_refund_no, refund_id, refund_reason, late,
		CAST(paid_at AS TEXT), CAST(refunded_at AS TEXT) FROM payments WHERE order_id = ?`), orderID).
		Scan(&p.Status, &tx, &no, &rid, &reason, &p.Late, &paidAt, &refundedAt)
	if err != nil {
		t.Fatalf("payment of %s: %v", orderID, err)
	}
	p.Transaction, p.OutRefundNo, p.RefundID, p.RefundReason = tx.s, no.s, rid.s, reason.s
	p.Paid, p.Refunded = paidAt.ok, refundedAt.ok
	return p
}

// nullString scans a nullable text column.
type nullString struct {
	s  string
	ok bool
}

func (n *nullString) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		n.s, n.ok = "", false
	case string:
		n.s, n.ok = v, true
	case []byte:
		n.s, n.ok = string(v), true
	default:
		n.s, n.ok = "", true
	}
	return nil
}

// state is everything a payment may change: the orders' rows and what
// they hold (servertest.OrderState), and the payments.
func state(t testing.TB, d *testdb.DB) []string {
	t.Helper()
	return append(servertest.OrderState(t, d), servertest.RowLines(t, d, "payments", `SELECT * FROM payments ORDER BY id`)...)
}

// page is one answer of the cashier.
type page struct {
	Status int
	Header http.Header
	Body   string
}

// noRedirects sees the cashier's own answers, not where they lead.
var noRedirects = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func fetch(t testing.TB, method, u string) page {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

// pay is the button: a POST that must answer 303 back to the page itself.
func pay(t testing.TB, u string) {
	t.Helper()
	p := fetch(t, http.MethodPost, u)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("POST %s: %d, want 303\n%s", u, p.Status, p.Body)
	}
	base, _ := url.Parse(u)
	loc, err := base.Parse(p.Header.Get("Location"))
	if err != nil || loc.String() != u {
		t.Fatalf("POST %s redirects to %q (%v), want the page itself", u, p.Header.Get("Location"), err)
	}
}

var (
	lineRE   = regexp.MustCompile(`<tr><td>(.+?) × (\d+)</td><td class="n">¥([0-9.]+)</td></tr>`)
	statusRE = regexp.MustCompile(`id="status" data-status="([A-Z_]+)">([^<]*)<`)
)

// view is what a page shows.
type view struct {
	Number, Total, Status, Text string
	Lines                       []string // "name × quantity = line total"
	Button                      bool
}

func (p page) view(t testing.TB) view {
	t.Helper()
	if p.Status != http.StatusOK && p.Status != http.StatusConflict {
		t.Fatalf("cashier answered %d\n%s", p.Status, p.Body)
	}
	v := view{Number: between(p.Body, `<span id="number">`, `<`), Total: between(p.Body, `<span id="total">`, `<`),
		Button: strings.Contains(p.Body, `id="pay"`)}
	if m := statusRE.FindStringSubmatch(p.Body); m != nil {
		v.Status, v.Text = m[1], m[2]
	}
	for _, m := range lineRE.FindAllStringSubmatch(p.Body, -1) {
		v.Lines = append(v.Lines, m[1]+" × "+m[2]+" = "+m[3])
	}
	return v
}

func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, to)
	return v
}

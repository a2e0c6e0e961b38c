package payhttp_test

// The sandbox cashier in a real browser: headless Chromium, driven over
// the DevTools protocol with chromedp (as internal/live's overlay test),
// opens the sandboxURL that payOrder returned and clicks the button.

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"unionmall/internal/browsertest"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// tabLog is what a tab reported: script errors, console and browser log
// lines (CSP violations among them), and every URL it requested.
type tabLog struct {
	mu                        sync.Mutex
	exceptions, logs, fetched []string
}

func (l *tabLog) listen(ev any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		l.exceptions = append(l.exceptions, ev.ExceptionDetails.Text)
	case *log.EventEntryAdded:
		l.logs = append(l.logs, string(ev.Entry.Source)+"/"+string(ev.Entry.Level)+": "+ev.Entry.Text)
	case *network.EventRequestWillBeSent:
		l.fetched = append(l.fetched, ev.Request.URL)
	}
}

// clickPay opens the cashier at u in a new tab, checks the order's number
// and total, clicks the pay button and waits for the paid page.
func clickPay(t *testing.T, browser context.Context, u, number, total string) {
	t.Helper()
	tl := &tabLog{}
	tab, cancel := chromedp.NewContext(browser, chromedp.WithListener(tl.listen))
	defer cancel()
	// The tab lives as long as the context of its first run: this one.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	ctx, stop := context.WithTimeout(tab, 20*time.Second)
	defer stop()
	fail := func(what string, err error) {
		t.Helper()
		html, _ := chromedp.Run(tab, chromedp.OuterHTML(chromedp.CSS("html")))
		t.Fatalf("%s at %s: %v\npage: %s", what, u, err, html)
	}
	text := func(id string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			fail("reading #"+id, err)
		}
		return strings.TrimSpace(s)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitVisible(chromedp.ID("pay"))); err != nil {
		fail("opening the cashier", err)
	}
	if n, tot := text("number"), text("total"); n != number || tot != total {
		t.Errorf("the page showed order %s for ¥%s, want %s for ¥%s", n, tot, number, total)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("pay")),
		chromedp.WaitVisible(chromedp.CSS(`#status[data-status="PAID"]`))); err != nil {
		fail("waiting for the paid page", err)
	}
	href, err := chromedp.Run(ctx, chromedp.Location())
	if got := text("status"); err != nil || got != "支付成功 Paid" || href != u {
		t.Errorf("after the click %s shows %q (%v), want 支付成功 Paid at %s", href, got, err, u)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#pay').length`)); err != nil || n != 0 {
		t.Errorf("the paid page has %d pay buttons (%v)", n, err)
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if len(tl.exceptions) > 0 {
		t.Errorf("the page threw: %q", tl.exceptions)
	}
	for _, l := range tl.logs {
		if strings.Contains(l, "Content Security Policy") || strings.Contains(l, "Refused to") {
			t.Errorf("CSP violation: %s", l)
		}
	}
	if len(tl.fetched) < 2 {
		t.Errorf("the tab saw requests %q, want the page and the POST at least", tl.fetched)
	}
	origin, _ := url.Parse(u)
	for _, f := range tl.fetched {
		if p, err := url.Parse(f); err != nil || p.Host != origin.Host {
			t.Errorf("the page requested %s, not of the mall", f)
		}
	}
}

const (
	statsQ = `{ platformStats { paidOrders onlineProcurement totalProcurement beneficiaries couponsRedeemed } }`
	paidQ  = `query($id: ID!) { node(id: $id) { ... on Order { number status total paidAt coupon { status }
		payment { channel status amount providerTransactionID paidAt } } } }`
)

type platformStats struct {
	PaidOrders, Beneficiaries, CouponsRedeemed int
	OnlineProcurement, TotalProcurement        string
}

func statsOf(t *testing.T, m *servertest.Mall) platformStats {
	t.Helper()
	var out struct{ PlatformStats platformStats }
	servertest.MustDo(t, m, "", statsQ, nil, &out)
	return out.PlatformStats
}

func TestCashierInBrowser(t *testing.T) {
	path := browsertest.Find(t)
	if path == "" {
		t.Skip("no Chromium found (set CHROMIUM_PATH, or: apt-get install chromium): skipping the cashier test in a real browser")
	}
	browser := browsertest.Start(t, path)
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{PaymentSandbox: true})
		buyer := m.Verified("赵")
		tea := servertest.NewShop(t, m).Product(t, teaName, "26.60", "", 50) // a supplier of 12 beneficiaries
		oil := servertest.OilProduct(t, m, 100)                              // and one of 950
		now := time.Now()
		sale := servertest.CreateSale(t, m, oil, "1", 10, 1, now.Add(-time.Second), now.Add(time.Hour))
		coupons := servertest.ClaimPack(t, m, buyer.Token, servertest.NewCampaign(t, m, now.Add(time.Hour)))
		before := statsOf(t, m)

		couponOrder := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 1}},
			map[string]any{"couponID": coupons["20.00"]})
		var bought struct{ BuyFlashSale struct{ ID, Total string } }
		servertest.MustDo(t, m, buyer.Token, servertest.BuyQ, map[string]any{"i": map[string]any{"flashSaleID": sale.ID}}, &bought)
		flashOrder := bought.BuyFlashSale.ID
		if couponOrder.Total != "16.60" || bought.BuyFlashSale.Total != "1.00" {
			t.Fatalf("totals %s and %s, want 16.60 and 1.00", couponOrder.Total, bought.BuyFlashSale.Total)
		}

		for _, id := range []string{couponOrder.ID, flashOrder} {
			u := startPay(t, m, buyer.Token, id, "SANDBOX")
			var o struct {
				Node struct{ Number, Total string }
			}
			servertest.MustDo(t, m, buyer.Token, paidQ, map[string]any{"id": id}, &o)
			clickPay(t, browser, u, o.Node.Number, o.Node.Total)
		}

		for _, id := range []string{couponOrder.ID, flashOrder} {
			var o struct {
				Node struct {
					Number, Status string
					PaidAt         *string
					Coupon         *struct{ Status string }
					Payment        *struct {
						Channel, Status       string
						ProviderTransactionID *string
					}
				}
			}
			servertest.MustDo(t, m, buyer.Token, paidQ, map[string]any{"id": id}, &o)
			n := o.Node
			if n.Status != "PAID" || n.PaidAt == nil || n.Payment == nil || n.Payment.Status != "PAID" || n.Payment.Channel != "SANDBOX" ||
				n.Payment.ProviderTransactionID == nil || *n.Payment.ProviderTransactionID != "SANDBOX"+n.Number {
				t.Errorf("order %s through the API: %+v, payment %+v", id, n, n.Payment)
			}
			if id == couponOrder.ID && (n.Coupon == nil || n.Coupon.Status != "USED") {
				t.Errorf("the coupon order's coupon: %+v, want USED", n.Coupon)
			}
		}

		after := statsOf(t, m)
		want := before
		want.PaidOrders += 2
		want.CouponsRedeemed++
		want.Beneficiaries += 12 + 950
		want.OnlineProcurement = servertest.Yuan(servertest.Fen(t, before.OnlineProcurement) + 1660 + 100)
		want.TotalProcurement = servertest.Yuan(servertest.Fen(t, before.TotalProcurement) + 1660 + 100)
		if after != want {
			t.Errorf("platformStats after paying in the browser %+v, want %+v (before %+v)", after, want, before)
		}
	})
}

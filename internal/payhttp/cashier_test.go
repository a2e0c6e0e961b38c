package payhttp_test

// The sandbox cashier over HTTP, on a real server and database: what its
// page shows, what its button's POST changes, and what it refuses.

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// shop is a sandbox mall with two products, a buyer and their coupons.
type shop struct {
	m          *servertest.Mall
	d          *testdb.DB
	buyer      servertest.Member
	tea, honey string
	coupons    map[string]string // by threshold
}

const (
	teaName   = "紫阳富硒茶"
	honeyName = "秦岭土蜂蜜 500g"
)

func newShop(t *testing.T, d *testdb.DB, o servertest.Options) *shop {
	t.Helper()
	o.PaymentSandbox, o.NoWorkers = true, true
	m := servertest.Start(t, d, o)
	s := servertest.NewShop(t, m)
	sh := &shop{m: m, d: d, buyer: m.Verified("王"),
		tea: s.Product(t, teaName, "26.60", "", 50), honey: s.Product(t, honeyName, "45.00", "39.90", 20)}
	sh.coupons = servertest.ClaimPack(t, m, sh.buyer.Token, servertest.NewCampaign(t, m, time.Now().Add(time.Hour)))
	return sh
}

// order places 2 tea and 1 honey, with the coupon of that threshold ("" none).
func (sh *shop) order(t testing.TB, coupon string) servertest.Order {
	t.Helper()
	var extra map[string]any
	if coupon != "" {
		extra = map[string]any{"couponID": sh.coupons[coupon]}
	}
	return servertest.PlaceOrder(t, sh.m, sh.buyer.Token, []servertest.Line{{ID: sh.tea, Qty: 2}, {ID: sh.honey, Qty: 1}}, extra)
}

// startPay calls payOrder and returns the cashier's absolute URL ("" when
// the channel has none).
func startPay(t testing.TB, m *servertest.Mall, token, orderID, channel string) string {
	t.Helper()
	var out struct {
		PayOrder struct {
			Channel    string
			SandboxURL *string
		}
	}
	servertest.MustDo(t, m, token, servertest.PayOrderQ, map[string]any{"i": map[string]any{"orderID": orderID, "channel": channel}}, &out)
	if out.PayOrder.SandboxURL == nil {
		return ""
	}
	return absolute(m, *out.PayOrder.SandboxURL)
}

// absolute resolves a sandboxURL against the test server: servertest sets
// no PUBLIC_URL, so its links are paths.
func absolute(m *servertest.Mall, u string) string {
	base, _ := url.Parse(m.HTTP.URL + "/")
	ref, err := base.Parse(u)
	if err != nil {
		m.T.Fatalf("sandboxURL %q: %v", u, err)
	}
	return ref.String()
}

func cashierURL(m *servertest.Mall, orderID string) string {
	return m.HTTP.URL + "/pay/sandbox/" + orderID
}

// wantLines are the lines of sh.order.
var wantLines = []string{teaName + " × 2 = 53.20", honeyName + " × 1 = 39.90"}

func TestCashierPays(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		sh := newShop(t, d, servertest.Options{})
		for _, c := range []struct {
			name, coupon string
		}{{"with a coupon", "40.00"}, {"without a coupon", ""}} {
			t.Run(c.name, func(t *testing.T) {
				o := sh.order(t, c.coupon)
				u := startPay(t, sh.m, sh.buyer.Token, o.ID, "SANDBOX")
				if u != cashierURL(sh.m, o.ID) {
					t.Fatalf("sandboxURL %s, want %s", u, cashierURL(sh.m, o.ID))
				}
				v := fetch(t, http.MethodGet, u).view(t)
				if v.Number != o.Number || v.Total != o.Total || !v.Button || v.Status != "PENDING_PAYMENT" ||
					strings.Join(v.Lines, "; ") != strings.Join(wantLines, "; ") {
					t.Fatalf("page %+v, want number %s, total %s, lines %q and a pay button", v, o.Number, o.Total, wantLines)
				}
				sold := map[string]int{sh.tea: servertest.SoldOf(t, d, sh.tea), sh.honey: servertest.SoldOf(t, d, sh.honey)}
				stock := map[string]int{sh.tea: servertest.StockOf(t, d, sh.tea), sh.honey: servertest.StockOf(t, d, sh.honey)}

				pay(t, u)
				if got := servertest.OrderStatus(t, d, o.ID); got != "PAID" {
					t.Fatalf("order %s, want PAID", got)
				}
				ref := d.Int(t, `SELECT COUNT(*) FROM orders WHERE id = ? AND payment_reference = ? AND paid_at IS NOT NULL`, o.ID, "SANDBOX"+o.Number)
				if ref != 1 {
					t.Errorf("the order's payment_reference is not SANDBOX%s, or it has no paid_at", o.Number)
				}
				p := paymentOf(t, d, o.ID)
				if p.Status != "PAID" || p.Transaction != "SANDBOX"+o.Number || !p.Paid || p.Late || p.Refunded {
					t.Errorf("payment %+v, want PAID by SANDBOX%s", p, o.Number)
				}
				if c.coupon != "" {
					if st, holder := servertest.CouponRow(t, d, sh.coupons[c.coupon]); st != "USED" || holder != o.ID {
						t.Errorf("coupon %s held by %q, want USED by the order", st, holder)
					}
				}
				for id, qty := range map[string]int{sh.tea: 2, sh.honey: 1} {
					if got := servertest.SoldOf(t, d, id); got != sold[id]+qty {
						t.Errorf("sold count of %s: %d, want %d", id, got, sold[id]+qty)
					}
					if got := servertest.StockOf(t, d, id); got != stock[id] {
						t.Errorf("stock of %s: %d, want %d (taken when the order was placed)", id, got, stock[id])
					}
				}
				v = fetch(t, http.MethodGet, u).view(t)
				if v.Status != "PAID" || v.Text != "支付成功 Paid" || v.Button {
					t.Errorf("after paying the page shows %+v", v)
				}

				// A second click: answered the same way, and nothing moves.
				before := state(t, d)
				pay(t, u)
				servertest.SameRows(t, "a second POST changed rows", before, state(t, d))
			})
		}

		t.Run("under a path prefix", func(t *testing.T) {
			// A proxy serving the mall at PUBLIC_URL=…/mall: the redirect
			// must lead back under /mall.
			proxy := httptest.NewServer(http.StripPrefix("/mall", sh.m.Server.Handler))
			defer proxy.Close()
			o := sh.order(t, "")
			startPay(t, sh.m, sh.buyer.Token, o.ID, "SANDBOX")
			u := proxy.URL + "/mall/pay/sandbox/" + o.ID
			if v := fetch(t, http.MethodGet, u).view(t); !v.Button {
				t.Fatalf("page %+v", v)
			}
			pay(t, u)
			if v := fetch(t, http.MethodGet, u).view(t); v.Status != "PAID" {
				t.Errorf("page after paying %+v", v)
			}
		})

		t.Run("double click at once", func(t *testing.T) {
			o := sh.order(t, "20.00")
			u := startPay(t, sh.m, sh.buyer.Token, o.ID, "SANDBOX")
			sold := servertest.SoldOf(t, d, sh.tea)
			codes := make([]int, 4)
			var wg sync.WaitGroup
			for i := range codes {
				wg.Go(func() {
					res, err := noRedirects.Post(u, "application/x-www-form-urlencoded", nil)
					if err == nil {
						codes[i] = res.StatusCode
						res.Body.Close()
					}
				})
			}
			wg.Wait()
			for _, c := range codes {
				if c != http.StatusSeeOther {
					t.Fatalf("answers %v, want 303 each", codes)
				}
			}
			if got := servertest.SoldOf(t, d, sh.tea); got != sold+2 {
				t.Errorf("sold count %d after 4 concurrent POSTs, want %d (counted once)", got, sold+2)
			}
			if p := paymentOf(t, d, o.ID); p.Status != "PAID" || servertest.OrderStatus(t, d, o.ID) != "PAID" {
				t.Errorf("payment %+v, order %s", p, servertest.OrderStatus(t, d, o.ID))
			}
		})
	})
}

func TestCashierRefuses(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		wp := servertest.NewWeChatPay(t)
		sh := newShop(t, d, servertest.Options{WeChatPay: wp.Pay})
		for _, c := range []struct {
			name    string
			channel string // payOrder's; "" for none
			coupon  string
			text    string
		}{
			{"no payment started", "", "40.00", "待支付：请先在应用中选择沙箱支付 (call payOrder with channel SANDBOX)"},
			{"started with WeChat Pay", "WECHAT_APP", "20.00", "此订单已选择 WECHAT_APP 支付"},
		} {
			t.Run(c.name, func(t *testing.T) {
				o := sh.order(t, c.coupon)
				if c.channel != "" {
					startPay(t, sh.m, sh.buyer.Token, o.ID, c.channel)
				}
				u := cashierURL(sh.m, o.ID)
				v := fetch(t, http.MethodGet, u).view(t)
				if v.Button || v.Text != c.text || v.Number != o.Number || len(v.Lines) != 2 {
					t.Fatalf("page %+v, want no button and %q", v, c.text)
				}
				before := state(t, d)
				p := fetch(t, http.MethodPost, u)
				if p.Status != http.StatusConflict || !strings.Contains(p.Body, `id="error"`) || strings.Contains(p.Body, `id="pay"`) {
					t.Fatalf("POST: %d, want 409 with the reason and no button\n%s", p.Status, p.Body)
				}
				servertest.SameRows(t, "a refused POST changed rows", before, state(t, d))
				if servertest.OrderStatus(t, d, o.ID) != "PENDING_PAYMENT" {
					t.Fatal("the order moved")
				}
			})
		}

		t.Run("unknown order", func(t *testing.T) {
			before := state(t, d)
			for _, id := range []string{"ord_01JD0000000000000000000000", sh.tea, sh.buyer.ID, "x", strings.Repeat("z", 2000)} {
				for _, method := range []string{http.MethodGet, http.MethodPost} {
					if p := fetch(t, method, cashierURL(sh.m, id)); p.Status != http.StatusNotFound {
						t.Errorf("%s %.20s…: %d, want 404", method, id, p.Status)
					}
				}
			}
			servertest.SameRows(t, "rows changed", before, state(t, d))
		})
	})
}

func TestCashierOff(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		s := servertest.NewShop(t, m)
		tea := s.Product(t, teaName, "26.60", "", 50)
		buyer := m.Verified("李")
		o := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 1}}, nil)
		servertest.Refused(t, m, d, buyer.Token, servertest.PayOrderQ,
			map[string]any{"i": map[string]any{"orderID": o.ID, "channel": "SANDBOX"}}, "BAD_USER_INPUT")
		if n := servertest.Rows(t, d, "payments"); n != 0 {
			t.Fatalf("%d payments rows after a refused payOrder", n)
		}
		before := state(t, d)
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			if p := fetch(t, method, cashierURL(m, o.ID)); p.Status != http.StatusNotFound {
				t.Errorf("%s without PAYMENT_SANDBOX: %d, want 404", method, p.Status)
			}
		}
		servertest.SameRows(t, "rows changed", before, state(t, d))
	})
}

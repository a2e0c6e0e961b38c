package payhttp_test

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// external finds what would make the page reach beyond this server: a URL
// with a scheme or a protocol-relative one, an attribute that loads
// something, a script, an @import or url() in its style.
var external = regexp.MustCompile(`(?i)https?:|//[a-z0-9]|\b(src|href|srcset|action|formaction|poster|data)\s*=|<script|<link|<iframe|<img|@import|url\(`)

func selfContained(t *testing.T, what, html string) {
	t.Helper()
	if m := external.FindAllString(html, -1); m != nil {
		t.Errorf("%s reaches out: %q", what, m)
	}
}

// csp is a Content-Security-Policy's directives by name.
func csp(t *testing.T, h http.Header) map[string]string {
	t.Helper()
	v := h.Get("Content-Security-Policy")
	if v == "" {
		t.Fatal("no Content-Security-Policy")
	}
	out := map[string]string{}
	for _, d := range strings.Split(v, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		out[name] = value
	}
	return out
}

func TestCashierPageSelfContained(t *testing.T) {
	src, err := os.ReadFile("cashier.html")
	if err != nil {
		t.Fatal(err)
	}
	selfContained(t, "cashier.html", string(src))

	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		sh := newShop(t, d, servertest.Options{})
		payable := sh.order(t, "40.00")
		u := startPay(t, sh.m, sh.buyer.Token, payable.ID, "SANDBOX")
		unstarted := sh.order(t, "")
		pages := map[string]page{
			"payable":   fetch(t, http.MethodGet, u),
			"refused":   fetch(t, http.MethodPost, cashierURL(sh.m, unstarted.ID)),
			"unstarted": fetch(t, http.MethodGet, cashierURL(sh.m, unstarted.ID)),
		}
		pay(t, u)
		pages["paid"] = fetch(t, http.MethodGet, u)
		for name, p := range pages {
			if p.Status != http.StatusOK && p.Status != http.StatusConflict {
				t.Fatalf("%s: %d", name, p.Status)
			}
			selfContained(t, name+" page", p.Body)
			pol := csp(t, p.Header)
			for k, want := range map[string]string{"default-src": "'none'", "form-action": "'self'",
				"frame-ancestors": "'none'", "base-uri": "'none'", "style-src": "'unsafe-inline'"} {
				if pol[k] != want {
					t.Errorf("%s: CSP %s is %q, want %q (%s)", name, k, pol[k], want, p.Header.Get("Content-Security-Policy"))
				}
			}
			if _, ok := pol["script-src"]; ok {
				t.Errorf("%s: the CSP allows scripts", name)
			}
			for k, want := range map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
				"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
				if got := p.Header.Get(k); got != want {
					t.Errorf("%s: %s %q, want %q", name, k, got, want)
				}
			}
		}
	})
}

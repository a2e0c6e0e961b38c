package live_test

// The broadcast overlays in a real browser: headless Chromium, driven over
// the DevTools protocol with chromedp, opens /overlay/... on a real server
// over a real database, and the test watches the page's numbers follow
// purchases made through the API, and come back after the server was
// stopped and started again.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"unionmall/internal/auth"
	"unionmall/internal/browsertest"
	"unionmall/internal/server"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// startBrowser starts one headless Chromium for the whole test; each
// subtest opens tabs in it. Without one the test skips.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path := browsertest.Find(t)
	if path == "" {
		t.Skip("no Chromium found (set CHROMIUM_PATH, or: apt-get install chromium): skipping the overlay test in a real browser")
	}
	start := time.Now()
	ctx := browsertest.Start(t, path)
	t.Logf("%s started in %v", path, time.Since(start).Round(time.Millisecond))
	return ctx
}

// tab is one page in the browser, with what it reported.
type tab struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	// exceptions are uncaught script errors; logs are console and browser
	// log lines (CSP violations among them).
	exceptions []string
	logs       []string
}

func newTab(t *testing.T, browser context.Context) *tab {
	t.Helper()
	tb := &tab{t: t}
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithListener(func(ev any) {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
			tb.exceptions = append(tb.exceptions, msg)
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value))
			}
			tb.logs = append(tb.logs, "console."+string(ev.Type)+": "+strings.Join(parts, " "))
		case *log.EventEntryAdded:
			tb.logs = append(tb.logs, string(ev.Entry.Source)+"/"+string(ev.Entry.Level)+": "+ev.Entry.Text)
		}
	}))
	t.Cleanup(cancel)
	// The tab lives as long as the context of its first Run: this one, with
	// no timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	tb.ctx = ctx
	return tb
}

func (tb *tab) open(url string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		tb.t.Fatalf("open %s: %v", url, err)
	}
}

func eval[T any](tb *tab, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(tb.ctx, 3*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// text is the text of the element with data-testid=id, "" if there is none.
func (tb *tab) text(id string) string {
	tb.t.Helper()
	s, err := eval[string](tb, fmt.Sprintf(`(function(){ var e = document.querySelector('[data-testid=%q]'); return e ? e.textContent : ''; })()`, id))
	if err != nil {
		tb.t.Fatalf("reading %s: %v", id, err)
	}
	return s
}

func (tb *tab) js(expr string) string {
	tb.t.Helper()
	s, err := eval[string](tb, "String("+expr+")")
	if err != nil {
		tb.t.Fatalf("%s: %v", expr, err)
	}
	return s
}

// waitFor polls until every data-testid in want shows its text, and returns
// how long that took.
func (tb *tab) waitFor(what string, timeout time.Duration, want map[string]string) time.Duration {
	tb.t.Helper()
	start := time.Now()
	for {
		got := map[string]string{}
		ok := true
		for id, w := range want {
			got[id] = tb.text(id)
			if got[id] != w {
				ok = false
			}
		}
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			tb.t.Fatalf("%s: after %v the page shows %q, want %q\n%s", what, timeout, got, want, tb.dump())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitJS polls until the expression is true.
func (tb *tab) waitJS(what string, timeout time.Duration, expr string) time.Duration {
	tb.t.Helper()
	start := time.Now()
	for {
		if ok, err := eval[bool](tb, "!!("+expr+")"); err == nil && ok {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			tb.t.Fatalf("%s: not so after %v (%s)\n%s", what, timeout, expr, tb.dump())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dump is the overlay's markup and what the page reported, for failures.
func (tb *tab) dump() string {
	html, _ := eval[string](tb, `(document.getElementById('overlay') || document.documentElement).outerHTML`)
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return "page: " + html + "\nexceptions: " + strings.Join(tb.exceptions, "\n  ") + "\nlog:\n  " + strings.Join(tb.logs, "\n  ")
}

// checkClean fails on script errors and CSP violations seen so far.
// Refused websocket connections while the server is down are expected.
func (tb *tab) checkClean() {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.exceptions) > 0 {
		tb.t.Errorf("the page threw: %q", tb.exceptions)
	}
	for _, l := range tb.logs {
		if strings.Contains(l, "Content Security Policy") || strings.Contains(l, "Refused to") {
			tb.t.Errorf("CSP violation: %s", l)
		}
	}
}

// instance is a mall on a fixed address, served by an http.Server of the
// test's own so that it can be stopped and started again on the same port.
type instance struct {
	srv   *server.Server
	hs    *http.Server
	ln    *trackingListener
	close sync.Once
}

// trackingListener remembers every connection it accepted: http.Server's
// Shutdown and Close leave hijacked ones (websockets) open, and a stopped
// server must drop those too, as a dying process would.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *trackingListener) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		_ = c.Close()
	}
	l.conns = nil
}

func startInstance(t *testing.T, d *testdb.DB, addr string) *instance {
	t.Helper()
	srv, err := server.New(d.DB, server.Options{
		TokenTTL:      time.Hour,
		PaymentWindow: 15 * time.Minute,
		SecretKey:     []byte("test-secret-key-of-some-length"),
		HashParams:    auth.HashParams{MemoryKiB: 64, Iterations: 1, Parallelism: 1},
		DatabaseURL:   d.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	for deadline := time.Now().Add(3 * time.Second); ; {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("listen on %s again: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	in := &instance{srv: srv, ln: &trackingListener{Listener: ln},
		hs: &http.Server{Handler: srv.Handler, ReadHeaderTimeout: 5 * time.Second}}
	go func() { _ = in.hs.Serve(in.ln) }()
	t.Cleanup(in.stop)
	return in
}

// stop drops everything at once: the listener, every connection, and the
// instance's subscriptions.
func (in *instance) stop() {
	in.close.Do(func() {
		_ = in.hs.Close()
		in.ln.closeAll()
		in.srv.Live.Close()
	})
}

// freeAddr finds a loopback port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// An hour ahead, counted down (rounded up to the second).
var countdownEnd = regexp.MustCompile(`^(01:00:00|00:5\d:\d\d)$`)

func TestOverlayInBrowser(t *testing.T) {
	browser := startBrowser(t)
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		began := time.Now()
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		oil := servertest.OilProduct(t, m, 100)
		now := time.Now().UTC()
		var ev struct{ CreateLiveEvent struct{ ID string } }
		servertest.MustDo(t, m, m.Admin, `mutation($i: CreateLiveEventInput!) { createLiveEvent(input: $i) { id } }`,
			map[string]any{"i": map[string]any{"title": "一元秒杀直播间", "startsAt": now.Add(-time.Minute).Format(time.RFC3339),
				"endsAt": now.Add(2 * time.Hour).Format(time.RFC3339)}}, &ev)
		var created struct{ CreateFlashSale struct{ ID string } }
		servertest.MustDo(t, m, m.Admin, `mutation($i: CreateFlashSaleInput!) { createFlashSale(input: $i) { id } }`,
			map[string]any{"i": map[string]any{"productID": oil, "price": "1", "quantity": 20, "perMemberLimit": 1,
				"startsAt": now.Add(-time.Second).Format(time.RFC3339Nano), "endsAt": now.Add(time.Hour).Format(time.RFC3339Nano),
				"liveEventID": ev.CreateLiveEvent.ID}}, &created)
		sale, event := created.CreateFlashSale.ID, ev.CreateLiveEvent.ID
		buyers := m.BulkVerified(5)
		next := 0
		buyIn := func(t *testing.T, sale string) {
			t.Helper()
			servertest.MustDo(t, m, buyers[next].Token, `mutation($s: ID!) { buyFlashSale(input: {flashSaleID: $s}) { id } }`,
				map[string]any{"s": sale}, nil)
			next++
		}
		buy := func(t *testing.T) { t.Helper(); buyIn(t, sale) }
		page := newTab(t, browser)

		t.Run("flash sale", func(t *testing.T) {
			page.t = t
			page.open(m.HTTP.URL + "/overlay/flash-sale/" + sale + "?size=large&theme=red")
			took := page.waitFor("first state", 5*time.Second, map[string]string{
				"remaining": "20", "sold": "0", "quantity": "20",
				"title": "汉中香小榨菜籽油 5L", "price": "秒杀价 ¥1.00", "badge": "秒杀中",
			})
			t.Logf("page showing the sale %v after navigation", took.Round(time.Millisecond))
			// What a browser source needs: nothing painted behind the panel.
			for _, sel := range []string{"document.documentElement", "document.body"} {
				if bg := page.js("getComputedStyle(" + sel + ").backgroundColor"); bg != "rgba(0, 0, 0, 0)" {
					t.Errorf("%s background = %s, want transparent", sel, bg)
				}
			}
			if fs := page.js(`getComputedStyle(document.getElementById('overlay')).fontSize`); fs != "24px" {
				t.Errorf("?size=large gives a font size of %s, want 24px", fs)
			}
			if c := page.js(`document.documentElement.className`); c != "overlay-page theme-red size-large" {
				t.Errorf("classes %q", c)
			}
			label := page.js(`document.getElementById('countdown-label').textContent`)
			value := page.js(`document.getElementById('countdown-value').textContent`)
			if label != "距结束" || !countdownEnd.MatchString(value) {
				t.Errorf("countdown %s %s, want 距结束 about an hour", label, value)
			}
			buy(t)
			took = page.waitFor("after a purchase", 3*time.Second, map[string]string{"remaining": "19", "sold": "1"})
			t.Logf("purchase shown %v after the API answered", took.Round(time.Millisecond))
			if w := page.js(`document.getElementById('fill').style.width`); w != "5%" {
				t.Errorf("progress bar %s, want 5%%", w)
			}
			page.checkClean()
		})

		t.Run("live event", func(t *testing.T) {
			page.t = t
			page.open(m.HTTP.URL + "/overlay/live/" + event + "?size=0.8&theme=light&label=0")
			page.waitFor("first state", 5*time.Second, map[string]string{
				"orders": "1", "gmv": "¥1.00", "units-sold": "1", "title": "一元秒杀直播间", "badge": "直播中",
			})
			page.waitJS("the sale's row", 2*time.Second,
				`/汉中香小榨菜籽油 5L\s*剩余 19 \/ 20/.test(document.querySelector('[data-sale-id]').textContent)`)
			if fs := page.js(`getComputedStyle(document.getElementById('overlay')).fontSize`); fs != "12.8px" {
				t.Errorf("?size=0.8 gives a font size of %s, want 12.8px", fs)
			}
			if d := page.js(`getComputedStyle(document.querySelector('.label')).display`); d != "none" {
				t.Errorf("?label=0 leaves labels displayed (%s)", d)
			}
			buy(t)
			page.waitFor("after a purchase", 3*time.Second, map[string]string{"orders": "2", "gmv": "¥2.00", "units-sold": "2"})
			page.checkClean()
		})

		t.Run("unknown sale", func(t *testing.T) {
			page.t = t
			page.open(m.HTTP.URL + "/overlay/flash-sale/fls_01JD0000000000000000000000")
			page.waitFor("NOT_FOUND", 5*time.Second, map[string]string{"error": "未找到该秒杀活动", "remaining": "–"})
			if s := page.js(`document.getElementById('overlay').getAttribute('data-state')`); s != "error" {
				t.Errorf("data-state %s", s)
			}
			page.checkClean()
		})

		t.Run("scheduled, then sold out", func(t *testing.T) {
			page.t = t
			later := servertest.CreateSale(t, m, oil, "9.9", 5, 1, now.Add(time.Hour), now.Add(2*time.Hour))
			page.open(m.HTTP.URL + "/overlay/flash-sale/" + later.ID)
			page.waitFor("a scheduled sale", 5*time.Second, map[string]string{"remaining": "5", "badge": "即将开始", "price": "秒杀价 ¥9.90"})
			label := page.js(`document.getElementById('countdown-label').textContent`)
			value := page.js(`document.getElementById('countdown-value').textContent`)
			if label != "距开始" || !countdownEnd.MatchString(value) {
				t.Errorf("countdown %s %s, want 距开始 about an hour", label, value)
			}

			one := servertest.CreateSale(t, m, oil, "1", 1, 1, time.Now().Add(-time.Second), now.Add(time.Hour))
			page.open(m.HTTP.URL + "/overlay/flash-sale/" + one.ID)
			page.waitFor("a sale of one", 5*time.Second, map[string]string{"remaining": "1", "badge": "秒杀中"})
			buyIn(t, one.ID)
			page.waitFor("sold out", 3*time.Second, map[string]string{"remaining": "0", "sold": "1", "badge": "已抢光"})
			if h := page.js(`document.getElementById('countdown').hidden`); h != "true" {
				t.Errorf("a sold-out sale still counts down")
			}
			if w := page.js(`document.getElementById('fill').style.width`); w != "100%" {
				t.Errorf("progress bar %s, want 100%%", w)
			}
			page.checkClean()
		})

		t.Run("server restart", func(t *testing.T) {
			page.t = t
			addr := freeAddr(t)
			first := startInstance(t, d, addr)
			page.open("http://" + addr + "/overlay/flash-sale/" + sale)
			page.waitFor("first state", 5*time.Second, map[string]string{"remaining": "18", "sold": "2"})
			page.waitJS("connected", 2*time.Second, `document.getElementById('overlay').getAttribute('data-conn') === 'open'`)
			page.waitJS("no 连接中… while connected", 2*time.Second, `getComputedStyle(document.getElementById('conn')).opacity < 0.1`)

			first.stop()
			stopped := time.Now()
			took := page.waitJS("the disconnected state", 3*time.Second,
				`document.getElementById('overlay').getAttribute('data-conn') === 'connecting'`)
			t.Logf("page noticed the stop after %v", took.Round(time.Millisecond))
			// The small notice fades in; the last numbers stay.
			page.waitJS("连接中… visible", 3*time.Second,
				`getComputedStyle(document.getElementById('conn')).opacity > 0.5`)
			if got := page.text("remaining"); got != "18" {
				t.Errorf("while disconnected the page shows remaining %q, want the last 18", got)
			}

			// Sold through another instance on the same database while this
			// one is down.
			buy(t)
			second := startInstance(t, d, addr)
			defer second.stop()
			restarted := time.Now()
			took = page.waitFor("after the restart", 15*time.Second, map[string]string{"remaining": "17", "sold": "3"})
			page.waitJS("connected again", 2*time.Second, `document.getElementById('overlay').getAttribute('data-conn') === 'open'`)
			t.Logf("down for %v; page current %v after the new server started", restarted.Sub(stopped).Round(time.Millisecond), took.Round(time.Millisecond))
			page.waitJS("连接中… hidden", 2*time.Second, `getComputedStyle(document.getElementById('conn')).opacity < 0.1`)
			page.waitFor("times fetched again", 2*time.Second, map[string]string{"title": "汉中香小榨菜籽油 5L"})
			page.checkClean()
		})
		t.Logf("%s: %v", d.Name, time.Since(began).Round(time.Millisecond))
	})
}

package web

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

const (
	saleID  = "fls_01JD0000000000000000000000"
	eventID = "lev_01JD0000000000000000000000"
)

func TestOverlayRoutes(t *testing.T) {
	h := Handler()
	tests := []struct {
		method, path string
		status       int
	}{
		{"GET", "/overlay/flash-sale/" + saleID, 200},
		{"HEAD", "/overlay/flash-sale/" + saleID, 200},
		{"GET", "/overlay/live/" + eventID, 200},
		{"HEAD", "/overlay/live/" + eventID, 200},
		// IDs are opaque here: an unknown one still gets the page, which
		// shows the subscription's NOT_FOUND.
		{"GET", "/overlay/flash-sale/nope", 200},
		{"GET", "/overlay/live/" + saleID, 200},
		{"GET", "/overlay/flash-sale/" + saleID + "?size=large&theme=red&label=0", 200},
		{"GET", "/overlay/live/" + strings.Repeat("x", maxOverlayID), 200},

		{"GET", "/overlay", 404},
		{"GET", "/overlay/", 404},
		{"GET", "/overlay/flash-sale", 404},
		{"GET", "/overlay/flash-sale/", 404},
		{"GET", "/overlay/live/", 404},
		{"GET", "/overlay/live/" + eventID + "/", 404},
		{"GET", "/overlay/live/" + eventID + "/more", 404},
		{"GET", "/overlay/flash-sale/" + saleID + "/x", 404},
		{"GET", "/overlay/flashsale/" + saleID, 404},
		{"GET", "/overlay/Live/" + eventID, 404},
		{"GET", "/overlay/platform/x", 404},
		{"GET", "/overlay/live/" + strings.Repeat("x", maxOverlayID+1), 404},
		{"GET", "/overlay/live/a%20b", 404},
		{"GET", "/overlay/live/a%00b", 404},
		{"GET", "/overlay/live/a%0Ab", 404},
		{"GET", "/overlay/live/a%2Fb", 404},
		{"GET", "/overlay/live/%FF", 404},
		{"GET", "/static/overlay.html", 404},
		{"GET", "/overlay.html", 404},
		{"POST", "/overlay/nope", 404},

		{"POST", "/overlay/flash-sale/" + saleID, 405},
		{"PUT", "/overlay/live/" + eventID, 405},
		{"DELETE", "/overlay/live/" + eventID, 405},
		{"OPTIONS", "/overlay/flash-sale/" + saleID, 405},

		{"GET", "/static/overlay.js", 200},
		{"GET", "/static/overlay.css", 200},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := do(t, h, tt.method, tt.path, nil)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			if tt.status == 405 && rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q", rec.Header().Get("Allow"))
			}
			if tt.method == "HEAD" && rec.Body.Len() != 0 {
				t.Errorf("HEAD returned a body of %d bytes", rec.Body.Len())
			}
			if tt.status == 200 && strings.HasPrefix(tt.path, "/overlay/") {
				if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("Content-Type = %q", ct)
				}
			}
		})
	}
}

func overlayBody(t *testing.T, target string) (string, http.Header) {
	t.Helper()
	rec := do(t, Handler(), "GET", target, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s = %d", target, rec.Code)
	}
	return rec.Body.String(), rec.Header()
}

// The hooks the script and the end-to-end test rely on, and the labels the
// broadcast shows.
func TestOverlayPage(t *testing.T) {
	common := []string{
		`<html lang="zh-CN" class="overlay-page theme-dark size-medium">`,
		`<link rel="stylesheet" href="/static/overlay.css">`,
		`<script src="/static/overlay.js" defer></script>`,
		`id="overlay"`,
		`data-scale="1"`,
		`data-conn="idle"`, // "connecting" only from the script, so the notice fades in late
		`data-testid="connection"`, "连接中…",
		`data-testid="title"`,
		`data-testid="badge"`,
		`data-testid="countdown"`, `id="countdown-label"`, `id="countdown-value"`,
		`data-testid="error"`,
	}
	tests := []struct {
		path string
		want []string
		not  []string
	}{
		{"/overlay/flash-sale/" + saleID, []string{
			`data-kind="flash-sale"`, `data-id="` + saleID + `"`,
			`data-testid="remaining"`, `data-testid="sold"`, `data-testid="quantity"`,
			`data-testid="progress"`, `id="fill"`, `data-testid="price"`,
			">剩余<", ">已售<", ">总量<", "<title>秒杀实时库存 · 工会消费扶贫商城</title>",
		}, []string{`data-testid="orders"`, `data-testid="sales"`}},
		{"/overlay/live/" + eventID, []string{
			`data-kind="live"`, `data-id="` + eventID + `"`,
			`data-testid="orders"`, `data-testid="gmv"`, `data-testid="units-sold"`, `data-testid="sales"`,
			">直播间订单<", ">成交额<", "<title>直播间实时数据 · 工会消费扶贫商城</title>",
		}, []string{`data-testid="remaining"`, `data-testid="price"`}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			body, hdr := overlayBody(t, tt.path)
			for _, want := range append(common, tt.want...) {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			for _, not := range tt.not {
				if strings.Contains(body, not) {
					t.Errorf("page has %q", not)
				}
			}
			for k, want := range map[string]string{
				"Content-Security-Policy": overlayCSP,
				"Cache-Control":           cacheRevalidate,
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
			} {
				if got := hdr.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			etag := hdr.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			if rec := do(t, Handler(), "GET", tt.path, map[string]string{"If-None-Match": etag}); rec.Code != http.StatusNotModified {
				t.Errorf("conditional GET = %d, want 304", rec.Code)
			}
		})
	}
}

// The rendered pages must work under script-src 'self' and style-src 'self':
// no inline script, no inline style, no handler attributes.
func TestOverlayNothingInline(t *testing.T) {
	inline := regexp.MustCompile(`(?i)<script(?:\s+[^>]*)?>\s*[^<\s]|<style|\sstyle\s*=|\son[a-z]+\s*=|javascript:`)
	for _, p := range []string{"/overlay/flash-sale/" + saleID, "/overlay/live/" + eventID + "?size=2&theme=light&label=0&title=0"} {
		body, _ := overlayBody(t, p)
		if m := inline.FindString(body); m != "" {
			t.Errorf("%s: inline code or style %q", p, m)
		}
	}
}

func TestOverlayOptions(t *testing.T) {
	def := defaultOverlayOptions()
	tests := []struct {
		query string
		want  overlayOptions
	}{
		{"", def},
		{"theme=light", overlayOptions{Theme: "light", Size: "medium", Scale: "1", Labels: true, ShowTitle: true}},
		{"theme=RED", overlayOptions{Theme: "red", Size: "medium", Scale: "1", Labels: true, ShowTitle: true}},
		{"theme=blue", def},
		{"theme=dark%22%3E%3Cscript%3E", def},
		{"size=small", overlayOptions{Theme: "dark", Size: "small", Scale: "0.75", Labels: true, ShowTitle: true}},
		{"size=large", overlayOptions{Theme: "dark", Size: "large", Scale: "1.5", Labels: true, ShowTitle: true}},
		{"size=+Large+", overlayOptions{Theme: "dark", Size: "large", Scale: "1.5", Labels: true, ShowTitle: true}},
		{"size=1.8", overlayOptions{Theme: "dark", Size: "custom", Scale: "1.8", Labels: true, ShowTitle: true}},
		{"size=2", overlayOptions{Theme: "dark", Size: "custom", Scale: "2", Labels: true, ShowTitle: true}},
		{"size=0.25", overlayOptions{Theme: "dark", Size: "custom", Scale: "0.25", Labels: true, ShowTitle: true}},
		{"size=4", overlayOptions{Theme: "dark", Size: "custom", Scale: "4", Labels: true, ShowTitle: true}},
		{"size=1.23456", overlayOptions{Theme: "dark", Size: "custom", Scale: "1.23", Labels: true, ShowTitle: true}},
		{"size=.5", overlayOptions{Theme: "dark", Size: "custom", Scale: "0.5", Labels: true, ShowTitle: true}},
		{"size=0.2", def},
		{"size=4.01", def},
		{"size=0", def},
		{"size=-1", def},
		{"size=1e0", def},
		{"size=0x1p0", def},
		{"size=NaN", def},
		{"size=Inf", def},
		{"size=1.2.3", def},
		{"size=.", def},
		{"size=huge", def},
		{"size=1.5%22+onload%3D%22x", def},
		{"label=0", overlayOptions{Theme: "dark", Size: "medium", Scale: "1", Labels: false, ShowTitle: true}},
		{"label=off&title=false", overlayOptions{Theme: "dark", Size: "medium", Scale: "1", Labels: false, ShowTitle: false}},
		{"label=1&title=yes", def},
		{"label=whatever", def},
		{"theme=red&theme=light", overlayOptions{Theme: "red", Size: "medium", Scale: "1", Labels: true, ShowTitle: true}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if got := parseOverlayOptions(q); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestOverlayOptionsReachThePage(t *testing.T) {
	body, _ := overlayBody(t, "/overlay/flash-sale/"+saleID+"?theme=red&size=2.5&label=0&title=0")
	for _, want := range []string{
		`class="overlay-page theme-red size-custom no-labels no-title"`,
		`data-scale="2.5"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	body, _ = overlayBody(t, "/overlay/live/"+eventID+"?theme=%3Cb%3E&size=%3Cb%3E&label=%3Cb%3E")
	if strings.Contains(body, "<b>") || strings.Contains(body, "&lt;b&gt;") {
		t.Error("a query parameter reached the page")
	}
	if !strings.Contains(body, `class="overlay-page theme-dark size-medium"`) {
		t.Error("unknown parameters did not fall back to the defaults")
	}
}

var dataID = regexp.MustCompile(`data-id="([^"]*)"`)

// Whatever the path holds, it reaches the page only as an escaped attribute
// value, and the script reads back exactly the ID of the path.
func TestOverlayIDEscaped(t *testing.T) {
	for _, id := range []string{
		`"><script>alert(1)<script>`, // a "/" or a space would be 404 already
		`x'onload='alert(1)`,
		`x"onload="alert(1)`,
		`fls_<b>&amp;`,
		`秒杀&"<>'`,
		`{{.ID}}`,
	} {
		t.Run(id, func(t *testing.T) {
			body, _ := overlayBody(t, "/overlay/flash-sale/"+url.PathEscape(id))
			for _, bad := range []string{"<script>alert", "<b>", `'onload='`, `"onload="`} {
				if strings.Contains(body, bad) {
					t.Errorf("page holds %q unescaped", bad)
				}
			}
			m := dataID.FindStringSubmatch(body)
			if m == nil {
				t.Fatal("no data-id")
			}
			if got := html.UnescapeString(m[1]); got != id {
				t.Errorf("data-id reads back %q, want %q", got, id)
			}
		})
	}
}

// Every src/href of the overlays is a same-origin path this handler serves
// with the right type, and nothing they load comes from another host.
func TestOverlayReferencesResolve(t *testing.T) {
	h := Handler()
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	// The live page also loads the purchase ticker's script.
	for p, want := range map[string]int{"/overlay/flash-sale/" + saleID: 2, "/overlay/live/" + eventID: 3} {
		body, _ := overlayBody(t, p)
		refs := attrRef.FindAllStringSubmatch(body, -1)
		if len(refs) != want {
			t.Errorf("%s: %d src/href references, want the stylesheet and the script(s), %d", p, len(refs), want)
		}
		for _, m := range refs {
			ref := m[1]
			if isExternal(ref) || !strings.HasPrefix(ref, "/static/") {
				t.Errorf("%s: reference %q is not one of our assets", p, ref)
				continue
			}
			rec := do(t, h, "GET", ref, nil)
			if rec.Code != http.StatusOK {
				t.Errorf("GET %s = %d", ref, rec.Code)
			}
			for ext, ct := range types {
				if strings.HasSuffix(ref, ext) && rec.Header().Get("Content-Type") != ct {
					t.Errorf("%s: Content-Type = %q", ref, rec.Header().Get("Content-Type"))
				}
			}
		}
		for _, re := range []*regexp.Regexp{cssURL, cssImport, sourceMap} {
			for _, m := range re.FindAllStringSubmatch(body, -1) {
				if isExternal(m[1]) {
					t.Errorf("%s: %q loads from another host", p, m[0])
				}
			}
		}
	}
	// The script talks to this origin only.
	js := string(assets["overlay.js"].body)
	if m := regexp.MustCompile(`(?i)(?:https?|wss?):\/\/`).FindString(js); m != "" {
		t.Errorf("overlay.js names a URL with a host: %q", m)
	}
}

func TestOverlayCSP(t *testing.T) {
	allowed := map[string]bool{"'self'": true, "'none'": true, "data:": true, "ws:": true, "wss:": true}
	directives := map[string]string{}
	for _, directive := range strings.Split(overlayCSP, ";") {
		fields := strings.Fields(directive)
		if len(fields) == 0 {
			continue
		}
		directives[fields[0]] = strings.Join(fields[1:], " ")
		for _, src := range fields[1:] {
			if !allowed[src] {
				t.Errorf("CSP %s allows %q", fields[0], src)
			}
		}
	}
	for name, want := range map[string]string{
		"default-src": "'self'",
		"script-src":  "'self'",
		"style-src":   "'self'",
		"connect-src": "'self' ws: wss:",
		"object-src":  "'none'",
	} {
		if directives[name] != want {
			t.Errorf("CSP %s = %q, want %q", name, directives[name], want)
		}
	}
}

// What broadcast software relies on: a transparent page.
func TestOverlayStylesheet(t *testing.T) {
	css := string(assets["overlay.css"].body)
	if !regexp.MustCompile(`html,\s*body\s*\{[^}]*background:\s*transparent;`).MatchString(css) {
		t.Error("overlay.css does not make html and body transparent")
	}
	for _, theme := range []string{".theme-dark", ".theme-light", ".theme-red", ".size-small", ".size-medium", ".size-large", ".no-labels .label", ".no-title .title"} {
		if !strings.Contains(css, theme) {
			t.Errorf("overlay.css lacks %s", theme)
		}
	}
	for name := range overlayThemes {
		if !strings.Contains(css, ".theme-"+name+" {") {
			t.Errorf("theme %s has no rules", name)
		}
	}
	for name := range overlaySizes {
		if !strings.Contains(css, ".size-"+name+" {") {
			t.Errorf("size %s has no rules", name)
		}
	}
}

// The overlay script: pin the protocol and the operations it speaks.
func TestOverlayScript(t *testing.T) {
	js := string(assets["overlay.js"].body)
	for _, want := range []string{
		"var ENDPOINT = '/graphql'",
		"var PROTOCOL = 'graphql-transport-ws'",
		"type: 'connection_init'",
		"type: 'subscribe'",
		"case 'next':", "case 'error':", "case 'complete':",
		"case 'ping':", "type: 'pong'",
		"var BACKOFF_MIN = 500", "var BACKOFF_MAX = 10000", "Math.random()",
		"flashSaleStock(flashSaleID: $id) ",
		"liveEventCounters(liveEventID: $id) ",
		"flashSale(id: $id) { startsAt endsAt price product { name } }",
		"node(id: $id) { ... on LiveEvent ",
		"NOT_FOUND: true",
		"'已抢光'", "'已结束'", "'距开始'", "'距结束'", "'¥'",
		"getAttribute('data-id')",
	} {
		if !strings.Contains(js, want) {
			t.Errorf("overlay.js lacks %q", want)
		}
	}
	// Names from the catalogue must never become markup.
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
		if strings.Contains(js, bad) {
			t.Errorf("overlay.js uses %s", bad)
		}
	}
}

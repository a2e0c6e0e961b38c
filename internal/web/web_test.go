package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func do(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestRoutes(t *testing.T) {
	h := Handler()
	tests := []struct {
		method, path string
		status       int
		contentType  string // prefix; empty to skip
	}{
		{"GET", "/", 200, "text/html; charset=utf-8"},
		{"HEAD", "/", 200, "text/html; charset=utf-8"},
		{"GET", "/static/graphiql-3.9.0.min.js", 200, "text/javascript"},
		{"GET", "/static/graphiql-3.9.0.min.css", 200, "text/css"},
		{"GET", "/static/react-18.3.1.production.min.js", 200, "text/javascript"},
		{"GET", "/static/react-dom-18.3.1.production.min.js", 200, "text/javascript"},
		{"GET", "/static/mall-graphiql.js", 200, "text/javascript"},
		{"HEAD", "/static/LICENSES.txt", 200, "text/plain"},

		{"GET", "/index.html", 404, ""},
		{"GET", "/graphiql.html", 404, ""},
		{"GET", "/static/graphiql.html", 404, ""},
		{"GET", "/static/", 404, ""},
		{"GET", "/static", 404, ""},
		{"GET", "/static/nope.js", 404, ""},
		{"GET", "/static/../graphiql.html", 404, ""},
		{"GET", "/static/static/mall-graphiql.js", 404, ""},
		{"GET", "/favicon.ico", 404, ""},
		{"GET", "/graphql", 404, ""}, // not ours; the mux routes it elsewhere
		{"POST", "/nope", 404, ""},

		{"POST", "/", 405, ""},
		{"PUT", "/", 405, ""},
		{"DELETE", "/static/mall-graphiql.js", 405, ""},
		{"OPTIONS", "/static/graphiql-3.9.0.min.js", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := do(t, h, tt.method, tt.path, nil)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			if ct := rec.Header().Get("Content-Type"); tt.contentType != "" && !strings.HasPrefix(ct, tt.contentType) {
				t.Errorf("Content-Type = %q, want prefix %q", ct, tt.contentType)
			}
			if tt.status == 405 && rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q", rec.Header().Get("Allow"))
			}
			if tt.method == "HEAD" && rec.Body.Len() != 0 {
				t.Errorf("HEAD returned a body of %d bytes", rec.Body.Len())
			}
		})
	}
}

func TestPage(t *testing.T) {
	rec := do(t, Handler(), "GET", "/", nil)
	body := rec.Body.String()
	for _, want := range []string{
		`<div id="graphiql">`,
		"<title>工会消费扶贫商城 · GraphiQL</title>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if rec.Header().Get("Content-Security-Policy") == "" {
		t.Error("page has no Content-Security-Policy")
	}
	if rec.Header().Get("Cache-Control") != cacheRevalidate {
		t.Errorf("page Cache-Control = %q; it must be revalidated so new asset names are seen", rec.Header().Get("Cache-Control"))
	}
}

// The bootstrap script is what talks to the API; pin the parts others rely on.
func TestBootstrapScript(t *testing.T) {
	js := string(assets["mall-graphiql.js"].body)
	for _, want := range []string{
		"GraphiQL.createFetcher(",
		"url: endpoint",
		"subscriptionUrl:",
		"var endpoint = '/graphql'",
		"'wss:' : 'ws:'",
		"localStorage.getItem('mall.token')",
		"'Bearer ' + token",
		"products(first: 5)",
	} {
		if !strings.Contains(js, want) {
			t.Errorf("mall-graphiql.js lacks %q", want)
		}
	}
}

var attrRef = regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*["']?([^"'\s>]+)`)

// Every src/href in the page must be a same-origin path that the handler
// itself serves, so the page is complete without any other server.
func TestPageReferencesResolve(t *testing.T) {
	h := Handler()
	refs := attrRef.FindAllStringSubmatch(string(pageAsset.body), -1)
	if len(refs) < 4 {
		t.Fatalf("found only %d src/href references in the page", len(refs))
	}
	for _, m := range refs {
		ref := m[1]
		if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") || strings.Contains(ref, ":") {
			t.Errorf("reference %q is not a same-origin path", ref)
			continue
		}
		rec := do(t, h, "GET", ref, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s = %d", ref, rec.Code)
		}
	}
}

// Patterns by which a browser would load something at run time. A match is
// fine only if it stays on this origin (a path) or is inline (data:).
var (
	cssURL    = regexp.MustCompile(`(?i)url\(\s*["']?([^"')\s]*)`)
	cssImport = regexp.MustCompile(`(?i)@import\s+(?:url\(\s*)?["']?([^"')\s;]*)`)
	sourceMap = regexp.MustCompile(`[#@]\s*sourceMappingURL=(\S+)`)
	hasScheme = regexp.MustCompile(`^[a-z][a-z0-9+.-]*:`)
)

func isExternal(ref string) bool {
	ref = strings.ToLower(strings.TrimSpace(ref))
	if strings.HasPrefix(ref, "data:") || strings.HasPrefix(ref, "#") {
		return false
	}
	return strings.HasPrefix(ref, "//") || hasScheme.MatchString(ref)
}

func TestIsExternal(t *testing.T) {
	tests := map[string]bool{
		"https://fonts.googleapis.com/css": true,
		"HTTP://cdn.example/x.js":          true,
		"//cdn.example/x.js":               true,
		"javascript:alert(1)":              true,
		"/static/a.css":                    false,
		"a.woff2":                          false,
		"index.umd.js.map":                 false,
		"data:font/woff2;base64,AAAA":      false,
		"#graphiql":                        false,
	}
	for ref, want := range tests {
		if got := isExternal(ref); got != want {
			t.Errorf("isExternal(%q) = %v, want %v", ref, got, want)
		}
	}
}

func TestNoExternalReferences(t *testing.T) {
	files := map[string][]byte{"graphiql.html": pageAsset.body}
	for name, a := range assets {
		files[name] = a.body
	}
	for name, body := range files {
		text := string(body)
		var checks []*regexp.Regexp
		switch {
		case strings.HasSuffix(name, ".css"), strings.HasSuffix(name, ".html"):
			// Inline <style> in the page counts as CSS too.
			checks = []*regexp.Regexp{cssURL, cssImport, sourceMap}
			if strings.HasSuffix(name, ".html") {
				checks = append(checks, attrRef)
			}
		case strings.HasSuffix(name, ".js"):
			// URLs in minified JS are mostly docs links and error strings; the
			// only thing a browser fetches by itself is the source map.
			checks = []*regexp.Regexp{sourceMap}
		default:
			continue
		}
		for _, re := range checks {
			for _, m := range re.FindAllStringSubmatch(text, -1) {
				if isExternal(m[1]) {
					t.Errorf("%s: %q loads from another host", name, m[0])
				}
			}
		}
	}
}

// The CSP is the browser-enforced form of "no external host": it may name
// keywords and schemes, never a host.
func TestCSPNamesNoHost(t *testing.T) {
	allowed := map[string]bool{
		"'self'": true, "'none'": true, "'unsafe-inline'": true,
		"data:": true, "ws:": true, "wss:": true,
	}
	for _, directive := range strings.Split(contentSecurityPolicy, ";") {
		fields := strings.Fields(directive)
		if len(fields) == 0 {
			continue
		}
		for _, src := range fields[1:] {
			if !allowed[src] {
				t.Errorf("CSP %s allows %q", fields[0], src)
			}
		}
	}
	if strings.Contains(contentSecurityPolicy, "script-src 'self' 'unsafe-inline'") {
		t.Error("scripts must not need 'unsafe-inline'")
	}
	if strings.Contains(string(pageAsset.body), "<script>") {
		t.Error("page has an inline script, which script-src 'self' would block")
	}
}

func TestCaching(t *testing.T) {
	h := Handler()
	for name, a := range assets {
		rec := do(t, h, "GET", "/static/"+name, nil)
		want := cacheRevalidate
		if versioned.MatchString(name) {
			want = cacheImmutable
		}
		if got := rec.Header().Get("Cache-Control"); got != want {
			t.Errorf("%s: Cache-Control = %q, want %q", name, got, want)
		}
		etag := rec.Header().Get("ETag")
		if etag != a.etag || etag == "" {
			t.Errorf("%s: ETag = %q", name, etag)
		}
		if rec := do(t, h, "GET", "/static/"+name, map[string]string{"If-None-Match": etag}); rec.Code != http.StatusNotModified {
			t.Errorf("%s: conditional GET = %d, want 304", name, rec.Code)
		}
	}
	// The big vendored files must be the immutable ones.
	for _, name := range []string{"graphiql-3.9.0.min.js", "graphiql-3.9.0.min.css", "react-18.3.1.production.min.js", "react-dom-18.3.1.production.min.js"} {
		if a := assets[name]; a == nil || a.cache != cacheImmutable {
			t.Errorf("%s is missing or not cached as immutable", name)
		}
	}
}

// Mounted at "/" next to other routes, the handler must answer only its own
// paths and leave the more specific ones to their handlers.
func TestMountedOnMux(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/", Handler())
	for _, p := range []string{"/graphql", "/healthz"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "other:"+r.URL.Path)
		})
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tests := []struct {
		method, path string
		status       int
		bodyPrefix   string
	}{
		{"GET", "/graphql", 200, "other:/graphql"},
		{"POST", "/graphql", 200, "other:/graphql"},
		{"GET", "/healthz", 200, "other:/healthz"},
		{"GET", "/", 200, "<!doctype html>"},
		{"GET", "/static/mall-graphiql.js", 200, "//"},
		{"GET", "/nope", 404, ""},
		{"POST", "/", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if !strings.HasPrefix(string(body), tt.bodyPrefix) {
				t.Errorf("body starts %q, want %q", truncate(string(body), 40), tt.bodyPrefix)
			}
		})
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

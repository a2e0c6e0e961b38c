// Package web serves GraphiQL and the broadcast overlay pages (see
// overlay.go) from the binary itself. The mall runs on union intranets without
// internet access, so the pages and every asset they load are embedded here
// and nothing is fetched from a CDN.
//
// Mount it at the root of a mux, next to the API routes:
//
//	mux.Handle("/graphql", srv)
//	mux.Handle("/", web.Handler())
//
// The pages refer to their assets as /static/..., so they only work at the
// root.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

// The page lives outside static/ so it is not also served as an asset.
//
//go:embed graphiql.html
var page []byte

// static holds the vendored GraphiQL/React builds (see static/LICENSES.txt
// for their versions and origin) and the small bootstrap script.
//
//go:embed static
var static embed.FS

// CSP names no host at all: the page works with 'self' alone, which is the
// point of this package. 'unsafe-inline' in style-src is for the page's
// <style> block and for the <style> tags GraphiQL's dialogs inject at run
// time; data: is for the fonts and icons inlined in GraphiQL's CSS; ws:/wss:
// are for subscriptions (CSP 'self' does not cover websockets everywhere).
const contentSecurityPolicy = "default-src 'self'; " +
	"script-src 'self'; " +
	"style-src 'self' 'unsafe-inline'; " +
	"font-src 'self' data:; " +
	"img-src 'self' data:; " +
	"connect-src 'self' ws: wss:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

const (
	// Versioned names change whenever their content does, so browsers may keep
	// them for a year without asking again.
	cacheImmutable = "public, max-age=31536000, immutable"
	// Everything else is revalidated against its ETag on each use, so a new
	// build is picked up at once and an unchanged file costs a 304.
	cacheRevalidate = "no-cache"
)

// versioned matches file names that carry a release version, like
// graphiql-3.9.0.min.js. Only those are cached as immutable.
var versioned = regexp.MustCompile(`-\d+\.\d+\.\d+[.-]`)

// contentTypes is explicit because mime.TypeByExtension consults the host's
// mime tables, which differ between machines.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".txt":  "text/plain; charset=utf-8",
}

type asset struct {
	body        []byte
	contentType string
	etag        string
	cache       string
}

var (
	pageAsset = newAsset("graphiql.html", page, cacheRevalidate)
	assets    = loadAssets()
)

func newAsset(name string, body []byte, cache string) *asset {
	ct, ok := contentTypes[path.Ext(name)]
	if !ok {
		// The embedded files are fixed at build time, so this fails every
		// test run rather than surprising a browser with a guessed type.
		panic("web: no content type for embedded file " + name)
	}
	sum := sha256.Sum256(body)
	return &asset{
		body:        body,
		contentType: ct,
		etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
		cache:       cache,
	}
}

func loadAssets() map[string]*asset {
	m := make(map[string]*asset)
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		cache := cacheRevalidate
		if versioned.MatchString(name) {
			cache = cacheImmutable
		}
		m[name] = newAsset(name, body, cache)
		return nil
	})
	if err != nil {
		panic("web: reading embedded assets: " + err.Error())
	}
	return m
}

// Handler serves the GraphiQL page at exactly "/", the embedded assets at
// "/static/<name>" and the overlays at "/overlay/flash-sale/<id>" and
// "/overlay/live/<id>". Every other path is 404, so mounted at "/" on a mux it
// also acts as the mux's not-found handler; other methods than GET and HEAD
// on a served path get 405.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/overlay/") {
		serveOverlay(w, r)
		return
	}
	var a *asset
	if r.URL.Path == "/" {
		a = pageAsset
	} else if name, ok := strings.CutPrefix(r.URL.Path, "/static/"); ok {
		// A map lookup, not a file system path, so "..", subdirectories and
		// the page itself are simply not found.
		a = assets[name]
	}
	if a == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}

	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", a.cache)
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if a == pageAsset {
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Referrer-Policy", "no-referrer")
	}
	// ServeContent answers If-None-Match with 304, handles Range and HEAD.
	// Embedded files have no modification time, hence the zero time.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

package web

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Overlay pages are for broadcast software: the people who run a livestream
// add /overlay/flash-sale/{flashSaleID} or /overlay/live/{liveEventID} as a
// browser source (OBS and the like) and the page draws large, live numbers on
// a transparent background over the video. Their script, static/overlay.js,
// asks /graphql once for the sale's or the event's times and names, then
// takes the counts from a subscription over graphql-transport-ws and
// reconnects on its own when the server goes away.
//
// Query parameters, each validated here and falling back to its default when
// unknown (nothing from the URL reaches the page but through html/template,
// and the theme and size only as one of a few fixed words):
//
//	size  small | medium (default) | large, or a scale from 0.25 to 4 (e.g. 1.8)
//	theme dark (default) | light | red
//	label 0, false, no, off or hide: no small labels (剩余, 已售 …)
//	title 0, false, no, off or hide: no product or event name

//go:embed overlay.html
var overlaySource string

var overlayTemplate = template.Must(template.New("overlay.html").Parse(overlaySource))

// overlayCSP is the GraphiQL page's policy, tightened: the overlay has no
// inline style at all (its script sets sizes through the CSSOM, which CSP
// does not restrict) and no form. frame-ancestors is left out on purpose:
// the page is read-only, so there is nothing to click-jack, and some
// broadcast tools show browser sources in a frame.
const overlayCSP = "default-src 'self'; " +
	"script-src 'self'; " +
	"style-src 'self'; " +
	"font-src 'self' data:; " +
	"img-src 'self' data:; " +
	"connect-src 'self' ws: wss:; " +
	"object-src 'none'; base-uri 'none'; form-action 'none'"

// overlayKinds are the overlays by the path segment that names them.
var overlayKinds = map[string]bool{"flash-sale": true, "live": true}

// maxOverlayID bounds the ID taken from the path. IDs are opaque to this
// package; an unknown one still gets the page, which then shows the
// subscription's NOT_FOUND.
const maxOverlayID = 128

// Scales of the named sizes; any other scale is "custom".
var overlaySizes = map[string]float64{"small": 0.75, "medium": 1, "large": 1.5}

const (
	minOverlayScale = 0.25
	maxOverlayScale = 4
)

var overlayThemes = map[string]bool{"dark": true, "light": true, "red": true}

// overlayPage is what the template sees.
type overlayPage struct {
	Kind string // "flash-sale" or "live"
	ID   string
	overlayOptions
}

type overlayOptions struct {
	Theme     string // one of overlayThemes
	Size      string // small, medium, large or custom
	Scale     string // a decimal, e.g. "1.5"
	Labels    bool
	ShowTitle bool
}

func defaultOverlayOptions() overlayOptions {
	return overlayOptions{Theme: "dark", Size: "medium", Scale: "1", Labels: true, ShowTitle: true}
}

// parseOverlayOptions reads the query parameters; anything it does not know
// leaves the default in place.
func parseOverlayOptions(q url.Values) overlayOptions {
	o := defaultOverlayOptions()
	if t := strings.ToLower(strings.TrimSpace(q.Get("theme"))); overlayThemes[t] {
		o.Theme = t
	}
	size := strings.ToLower(strings.TrimSpace(q.Get("size")))
	if s, ok := overlaySizes[size]; ok {
		o.Size, o.Scale = size, formatScale(s)
	} else if s, ok := parseScale(size); ok {
		o.Size, o.Scale = "custom", formatScale(s)
	}
	if off(q.Get("label")) {
		o.Labels = false
	}
	if off(q.Get("title")) {
		o.ShowTitle = false
	}
	return o
}

// parseScale accepts a plain decimal within the allowed range: no sign, no
// exponent, no hex, no NaN or Inf, which strconv.ParseFloat alone would take.
func parseScale(s string) (float64, bool) {
	if s == "" || len(s) > 8 {
		return 0, false
	}
	dots := 0
	for _, r := range s {
		switch {
		case r == '.':
			dots++
		case r < '0' || r > '9':
			return 0, false
		}
	}
	if dots > 1 || s == "." {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < minOverlayScale || f > maxOverlayScale {
		return 0, false
	}
	return f, true
}

func formatScale(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

func off(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "0", "false", "no", "off", "hide":
		return true
	}
	return false
}

// overlayRoute splits /overlay/{kind}/{id}; ok is false for every other
// path under /overlay/ (no kind, an unknown kind, no ID, more segments, an ID
// too long or with control characters).
func overlayRoute(p string) (kind, id string, ok bool) {
	rest, found := strings.CutPrefix(p, "/overlay/")
	if !found {
		return "", "", false
	}
	kind, id, found = strings.Cut(rest, "/")
	if !found || !overlayKinds[kind] || id == "" || len(id) > maxOverlayID ||
		strings.Contains(id, "/") || !utf8.ValidString(id) {
		return "", "", false
	}
	for _, r := range id {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return "", "", false
		}
	}
	return kind, id, true
}

// serveOverlay answers a path under /overlay/.
func serveOverlay(w http.ResponseWriter, r *http.Request) {
	kind, id, ok := overlayRoute(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	var buf bytes.Buffer
	page := overlayPage{Kind: kind, ID: id, overlayOptions: parseOverlayOptions(r.URL.Query())}
	if err := overlayTemplate.Execute(&buf, page); err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	sum := sha256.Sum256(buf.Bytes())
	h := w.Header()
	h.Set("Content-Type", contentTypes[".html"])
	// The page names its assets without versions, so it is revalidated.
	h.Set("Cache-Control", cacheRevalidate)
	h.Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", overlayCSP)
	h.Set("Referrer-Policy", "no-referrer")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(buf.Bytes()))
}

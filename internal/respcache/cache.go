// Package respcache answers anonymous public reads of /graphql (the
// catalogue, flash sales, live events: Public's root fields) from memory.
// It is exact across instances, not merely short-lived: every entry
// belongs to a generation, and any announced change of what such answers
// show (internal/changes: the catalogue, flash sales, live events, orders,
// the totals that placing orders moves) starts a new one, on this
// instance and, through the same handlers, on the others. The scheme is
// deliberately coarse: one change drops every entry.
//
// An answer is stored only if no change arrived while it was computed
// (the generation is read before), and nothing is served or stored while
// the registry may miss other instances' changes (changes.Registry.Fresh).
// Identical requests that miss together wait for one computation
// (flight.go). GET answers carry an ETag and a short public max-age for a
// CDN.
package respcache

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"unionmall/internal/changes"
)

// Options size the cache.
type Options struct {
	// Entries bounds the number of answers kept (zero: no cache).
	Entries int
	// Bytes bounds their total size (zero: 64 MiB).
	Bytes int64
	// TTL bounds an entry's age, for what changes with the clock alone (a
	// sale starting); zero: 2 s.
	TTL time.Duration
	// MaxAge is the Cache-Control max-age of public GET answers; zero: 1 s.
	MaxAge time.Duration
	// MaxBody bounds a POST body read for its key (zero: 1 MiB).
	MaxBody int64
	// Lookup finds a trusted document by hash (nil: none).
	Lookup func(hash string) (string, bool)
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Invalidating lists the kinds of change that start a new generation.
var Invalidating = []changes.Kind{
	changes.CatalogKind, changes.FlashSaleKind, changes.LiveEventKind,
	changes.OrderKind, changes.StatsKind,
}

type entry struct {
	gen    uint64
	at     time.Time
	status int
	ctype  string
	body   []byte
	etag   string
	gz     gzipped // body gzip-encoded (gzip.go)
}

// Cache is the response cache; a nil *Cache caches nothing.
type Cache struct {
	o       Options
	reg     *changes.Registry
	gen     atomic.Uint64
	mu      sync.Mutex // bytes, with lru's eviction callback
	bytes   int64
	entries *lru.Cache[string, *entry]
	docs    *lru.Cache[string, string] // APQ hash → query, learnt when both came
	parsed  *lru.Cache[string, parsed] // operation name and document → publicQuery's answer
	flights map[string]*flight         // answers being computed, by key (under mu)
	joined  atomic.Int64               // requests that waited for a flight
	hits    atomic.Int64
	misses  atomic.Int64
}

// New returns a cache invalidated by reg's announcements, or nil when
// o.Entries is zero.
func New(reg *changes.Registry, o Options) *Cache {
	if o.Entries <= 0 {
		return nil
	}
	if o.Bytes <= 0 {
		o.Bytes = 64 << 20
	}
	if o.TTL <= 0 {
		o.TTL = 2 * time.Second
	}
	if o.MaxAge <= 0 {
		o.MaxAge = time.Second
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 1 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Cache{o: o, reg: reg, flights: map[string]*flight{}}
	c.entries, _ = lru.NewWithEvict(o.Entries, func(k string, e *entry) {
		c.bytes -= int64(len(e.body) + len(k))
	})
	c.docs, _ = lru.New[string, string](min(o.Entries, 1000))
	c.parsed, _ = lru.New[string, parsed](min(o.Entries, parsedEntries))
	for _, k := range Invalidating {
		reg.On(k, changes.Handler{Changed: func(changes.Change) { c.Invalidate() }, Resync: c.Invalidate})
	}
	return c
}

// Invalidate starts a new generation: no entry stored before is served.
func (c *Cache) Invalidate() {
	c.gen.Add(1)
	c.mu.Lock()
	c.entries.Purge()
	c.mu.Unlock()
}

// Stats are the answers served from the cache and those computed.
func (c *Cache) Stats() (hits, misses int64) {
	if c == nil {
		return 0, 0
	}
	return c.hits.Load(), c.misses.Load()
}

// Wrap serves next's cacheable answers from the cache; every other answer
// of next gets Cache-Control: no-store unless next set its own.
func (c *Cache) Wrap(next http.Handler) http.Handler {
	if c == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, ok := c.keyOf(r)
		if !ok {
			if r.Header.Get("Upgrade") == "" {
				w.Header().Set("Cache-Control", "no-store")
			}
			next.ServeHTTP(w, r)
			return
		}
		fresh := c.reg.Fresh()
		gen := c.gen.Load()
		if fresh {
			c.mu.Lock()
			e, hit := c.entries.Get(k)
			c.mu.Unlock()
			if hit && e.gen == gen && c.o.Now().Sub(e.at) < c.o.TTL {
				c.hits.Add(1)
				c.write(w, r, e)
				return
			}
		}
		var lead *flight
		if fresh {
			var wait *flight
			if wait, lead = c.join(k, gen); wait != nil {
				e, ok := wait.wait(r.Context())
				if !ok {
					return // the client is gone
				}
				if e != nil { // counted as a hit: not computed again
					c.hits.Add(1)
					c.write(w, r, e)
					return
				}
			}
		}
		landed := false
		land := func(e *entry) {
			if lead != nil && !landed {
				landed = true
				c.land(k, lead, e)
			}
		}
		defer land(nil) // followers compute their own if next fails or panics
		c.misses.Add(1)
		rec := &recorder{header: http.Header{}}
		next.ServeHTTP(rec, r)
		e := &entry{gen: gen, at: c.o.Now(), status: rec.status(), ctype: rec.header.Get("Content-Type"), body: rec.body.Bytes()}
		if !storable(e) {
			copyHeader(w.Header(), rec.header)
			if w.Header().Get("Cache-Control") == "" {
				w.Header().Set("Cache-Control", "no-store")
			}
			w.WriteHeader(e.status)
			_, _ = w.Write(e.body)
			return
		}
		sum := sha256.Sum256(e.body)
		// Weak: the same answer gzip-encoded (compress, outside) is another
		// representation.
		e.etag = `W/"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
		if fresh && c.reg.Fresh() && int64(len(e.body)+len(k)) <= c.o.Bytes/4 {
			c.store(k, e, gen)
		}
		land(e)
		c.write(w, r, e)
	})
}

// store keeps e unless a change arrived since gen was read (the answer
// may predate it), evicting the least recently used beyond the bounds.
func (c *Cache) store(k string, e *entry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	c.entries.Remove(k) // Add would replace it without the callback
	c.bytes += int64(len(e.body) + len(k))
	c.entries.Add(k, e)
	for c.bytes > c.o.Bytes {
		if _, _, ok := c.entries.RemoveOldest(); !ok {
			break
		}
	}
}

// storable: a whole JSON answer with data and no errors.
func storable(e *entry) bool {
	mt, _, _ := mime.ParseMediaType(e.ctype)
	if e.status != http.StatusOK || (mt != "application/json" && mt != "application/graphql-response+json") {
		return false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(e.body, &top) != nil {
		return false
	}
	_, errs := top["errors"]
	data, ok := top["data"]
	return !errs && ok && string(data) != "null"
}

func (c *Cache) write(w http.ResponseWriter, r *http.Request, e *entry) {
	h := w.Header()
	h.Set("Content-Type", e.ctype)
	h.Set("ETag", e.etag)
	h.Add("Vary", "Accept, Accept-Language, Authorization, Cookie")
	if r.Method == http.MethodGet {
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(c.o.MaxAge/time.Second)))
		if inm := r.Header.Get("If-None-Match"); inm != "" && matches(inm, e.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	} else {
		h.Set("Cache-Control", "no-store")
	}
	body := e.body
	if len(body) >= gzipMinSize {
		// gzhttp outside adds it too; without it the answer still says.
		if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Accept-Encoding") {
			h.Add("Vary", "Accept-Encoding")
		}
		if gz := e.gzipFor(r); gz != nil {
			h.Set("Content-Encoding", "gzip")
			body = gz
		}
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// matches reads If-None-Match's list (weak comparison).
func matches(inm, etag string) bool {
	etag = strings.TrimPrefix(etag, "W/")
	for _, t := range strings.Split(inm, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// keyOf is r's key, ok only for a cacheable request.
func (c *Cache) keyOf(r *http.Request) (string, bool) {
	if !anonymous(r) {
		return "", false
	}
	p, ok := readParams(r, c.o.MaxBody)
	if !ok || p.otherExtensions() {
		return "", false
	}
	doc, h := p.Query, p.hash()
	switch {
	case doc != "" && h != "":
		if sha256Hex(doc) != h {
			return "", false // gqlgen refuses the mismatch
		}
		c.docs.Add(h, doc)
	case doc == "" && h != "":
		if c.o.Lookup != nil {
			doc, _ = c.o.Lookup(h)
		}
		if doc == "" {
			doc, _ = c.docs.Get(h)
		}
	}
	if doc == "" {
		return "", false
	}
	norm, ok := c.publicQuery(doc, p.OperationName)
	if !ok {
		return "", false
	}
	vars, ok := canonicalVariables(p.Variables)
	if !ok {
		return "", false
	}
	// With trusted documents only, a text runs only if it is a manifest's
	// document exactly: such texts key by themselves, not their normal
	// form, so no other text is answered from the cache.
	trustedText := c.o.Lookup != nil && p.Query != ""
	if trustedText {
		norm = p.Query
	}
	return key(r, norm, p.OperationName, vars, trustedText), true
}

// recorder holds next's answer.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.code == 0 && code >= 200 {
		r.code = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

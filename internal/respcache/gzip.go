package respcache

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// The server compresses answers outside the cache (internal/server's
// gzhttp), which would deflate a cached page again on every hit: for a
// browser's request (Accept-Encoding: gzip) that was most of a hit's CPU
// time. A cached answer keeps its gzip encoding instead, made on the first
// hit that wants it, and is served encoded; gzhttp passes an answer that
// has a Content-Encoding through. The cache's byte bound counts the plain
// answers only (the encoding is a fraction of them).

// gzipMinSize is gzhttp's: smaller answers stay plain.
const gzipMinSize = 1024

// gzipped holds an entry's gzip encoding.
type gzipped struct {
	once sync.Once
	body []byte // nil when encoding failed
}

// gzipFor returns e's body gzip-encoded when r asks for gzip as gzhttp
// would choose it (accepted, and not below zstd), or nil.
func (e *entry) gzipFor(r *http.Request) []byte {
	if len(e.body) < gzipMinSize || r.Method == http.MethodHead || !prefersGzip(r.Header.Get("Accept-Encoding")) {
		return nil
	}
	e.gz.once.Do(func() {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		if _, err := zw.Write(e.body); err == nil && zw.Close() == nil {
			e.gz.body = b.Bytes()
		}
	})
	return e.gz.body
}

// prefersGzip reads Accept-Encoding: gzip accepted (q > 0) and weighted at
// least as zstd (gzhttp's choice with PreferZstd(false)); no wildcards,
// as gzhttp by default.
func prefersGzip(ae string) bool {
	gz, zstd := 0.0, 0.0
	for _, part := range strings.Split(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "gzip":
			gz = q
		case "zstd":
			zstd = q
		}
	}
	return gz > 0 && gz >= zstd
}

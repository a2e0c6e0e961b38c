package server

import (
	"net/http"
	"strings"

	"github.com/klauspost/compress/gzhttp"
)

// compress encodes answers (GraphQL JSON, GraphiQL's script, the overlay
// pages) for clients that accept it: gzip, or zstd for a client that takes
// only zstd (klauspost/compress's gzhttp; answers under its 1 KB minimum
// stay plain). gzip first because clients offer zstd they cannot decode:
// GraphQL Code Generator's fetch on Node 20 asks for zstd and then fails
// (Node 20's zlib has no zstd), met by internal/storefronttest. No brotli: the one served library that adds it beside gzip
// (CAFxX/httpcompression v0.0.8) cannot flush before it has decided
// whether to compress and pins cgo modules into our module graph.
//
// Streams are never buffered: websocket upgrades pass by untouched, and
// event streams (SSE) and multipart (incremental delivery) answers are sent
// as they are written. Images are compressed already.
func compress(next http.Handler) (http.Handler, error) {
	wrap, err := gzhttp.NewWrapper(gzhttp.ContentTypeFilter(compressible), gzhttp.PreferZstd(false))
	if err != nil {
		return nil, err
	}
	zipped := wrap(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		zipped.ServeHTTP(w, r)
	}), nil
}

// compressible reports whether answers of content type ct are worth
// compressing without delaying them.
func compressible(ct string) bool {
	ct = strings.ToLower(strings.TrimSpace(ct))
	switch {
	case strings.HasPrefix(ct, "text/event-stream"), strings.HasPrefix(ct, "multipart/"):
		return false
	case strings.HasPrefix(ct, "image/") && !strings.HasPrefix(ct, "image/svg"):
		return false
	}
	return gzhttp.DefaultContentTypeFilter(ct)
}

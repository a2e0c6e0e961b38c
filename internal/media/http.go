package media

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
)

// CacheControl is sent with every blob: a name is its content's hash, so
// it never changes.
const CacheControl = "public, max-age=31536000, immutable"

// Handler serves GET /media/{name}: the blob with its content type and
// cache headers, 404 for any name that is not a stored blob's (no
// listing; names are checked against ValidName before the store is
// asked, so no path reaches outside it).
func Handler(store Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if store == nil || !ValidName(name) {
			http.NotFound(w, r)
			return
		}
		b, err := store.Open(r.Context(), name)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				slog.WarnContext(r.Context(), "media: reading a blob failed", "name", name, "err", err)
				http.Error(w, "the image cannot be read now", http.StatusBadGateway)
				return
			}
			http.NotFound(w, r)
			return
		}
		defer b.Close()
		h := w.Header()
		h.Set("Content-Type", contentTypeOf(name))
		h.Set("Cache-Control", CacheControl)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("ETag", `"`+name[:64]+`"`)
		// ServeContent answers Range, If-None-Match and HEAD.
		http.ServeContent(w, r, "", b.ModTime(), b)
	})
}

package server

import (
	"mime"
	"net/http"

	"unionmall/internal/media"
)

// uploadBodyMax bounds a multipart request: one image of the largest size
// accepted, and the request's other parts within the ordinary body bound.
func uploadBodyMax(maxBody int64, m *media.Service) int64 {
	return m.Limits().MaxBytes + maxBody
}

// limitBodies bounds multipart requests (uploads) by uploadMax and every
// other request by max.
func limitBodies(max, uploadMax int64, next http.Handler) http.Handler {
	small, large := limitBody(max, next), limitBody(uploadMax, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "multipart/form-data" && r.Method == http.MethodPost {
			large.ServeHTTP(w, r)
			return
		}
		small.ServeHTTP(w, r)
	})
}

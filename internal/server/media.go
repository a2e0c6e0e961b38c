package server

import (
	"mime"
	"net/http"

	"unionmall/internal/auth"

	"unionmall/internal/media"
)

// uploadBodyMax bounds a multipart request: one image of the largest size
// accepted, and the request's other parts within the ordinary body bound.
func uploadBodyMax(maxBody int64, m *media.Service) int64 {
	return m.Limits().MaxBytes + maxBody
}

// limitBodies bounds an ADMIN's multipart requests (uploads) by uploadMax
// and every other request by max: only ADMINs upload, so nobody else may
// make the server read (or spool to disk) an image-sized body.
func limitBodies(max, uploadMax int64, sessions *auth.Sessions, next http.Handler) http.Handler {
	small, large := limitBody(max, next), limitBody(uploadMax, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "multipart/form-data" &&
			r.Method == http.MethodPost && isAdmin(r, sessions) {
			large.ServeHTTP(w, r)
			return
		}
		small.ServeHTTP(w, r)
	})
}

// isAdmin reports whether r carries a valid token of an ADMIN (the
// sessions' cache answers repeats without the database).
func isAdmin(r *http.Request, sessions *auth.Sessions) bool {
	token := auth.BearerToken(r.Header.Get("Authorization"))
	if token == "" {
		return false
	}
	v, err := sessions.Authenticate(r.Context(), token)
	return err == nil && v.IsAdmin()
}

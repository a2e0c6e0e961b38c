package wsgorilla

import (
	"net/http"
	"net/url"
	"strings"
)

// AllowOrigins returns an Options.CheckOrigin function.
//
// A request without an Origin header (a non-browser client, which could send
// any Origin it likes anyway) is always allowed. With an empty list, the
// Origin's host[:port] must equal the request's Host (same origin, ASCII case
// folded). Otherwise the Origin must be one of allowed exactly, written as
// scheme://host[:port] (ASCII case and a trailing slash in the list are
// ignored); same-origin requests are then allowed only if listed.
func AllowOrigins(allowed []string) func(r *http.Request) bool {
	if len(allowed) == 0 {
		return func(r *http.Request) bool {
			origin := r.Header.Get("Origin")
			if origin == "" {
				return true
			}
			u, err := url.Parse(origin)
			if err != nil || u.Host == "" {
				return false
			}
			return strings.EqualFold(u.Host, r.Host)
		}
	}
	set := make(map[string]struct{}, len(allowed))
	for _, o := range allowed {
		set[strings.ToLower(strings.TrimSuffix(strings.TrimSpace(o), "/"))] = struct{}{}
	}
	return func(r *http.Request) bool {
		origin := r.Header.Get("Origin")
		if origin == "" {
			return true
		}
		_, ok := set[strings.ToLower(origin)]
		return ok
	}
}

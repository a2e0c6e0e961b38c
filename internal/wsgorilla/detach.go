package wsgorilla

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
)

// Detach serves websocket upgrade requests on a goroutine of their own and
// returns to net/http as soon as the connection has been hijacked, so that
// net/http's connection goroutine ends. Without it that goroutine runs the
// websocket for its whole life, and its stack, grown while net/http read the
// request, stays with every connection (the stacks per subscriber before
// and after: BENCHMARKS.md, section "Subscribers: memory per connection and
// commit-to-receipt latency (issue 4)").
// Other requests pass through. It also lets the connection's operations
// reach it (StreamOf).
//
// The handler's request context is detached from net/http's (which net/http
// cancels when Detach returns) and cancelled when the handler returns, so
// code that ties the connection's life to r.Context() behaves as before.
func Detach(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(withConnRef(context.WithoutCancel(r.Context())))
		dw := &detachWriter{ResponseWriter: w, hijacked: make(chan struct{})}
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer cancel()
			next.ServeHTTP(dw, r.WithContext(ctx))
		}()
		select {
		case <-dw.hijacked:
			// The websocket belongs to the goroutine above now; net/http
			// does nothing more with a hijacked connection.
		case <-done:
			// Refused before the upgrade: the response is written.
		}
	})
}

// isUpgrade reports whether r asks for a websocket (RFC 6455 §4.1).
func isUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "websocket") {
				return true
			}
		}
	}
	return false
}

// RefuseOrigins answers a websocket upgrade whose Origin check refuses
// with one 403 before next sees it. Refused in Accept instead, gorilla
// writes its 403 and gqlgen then logs "unable to upgrade" and writes a
// second response (net/http: "superfluous response.WriteHeader"). Pass
// the function given as Options.CheckOrigin.
func RefuseOrigins(checkOrigin func(r *http.Request) bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isUpgrade(r) && !checkOrigin(r) {
			http.Error(w, "websocket: request origin not allowed", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// detachWriter tells Detach when the connection has been hijacked. It
// also keeps an upgrade request to one response: when gorilla refused a
// malformed handshake it has written one, and gqlgen's second (its
// "unable to upgrade") is dropped instead of reaching net/http.
type detachWriter struct {
	http.ResponseWriter
	hijacked chan struct{}
	once     sync.Once
	wrote    bool // a status was written
	dropping bool // a second one was: its body goes nowhere
}

func (d *detachWriter) WriteHeader(code int) {
	if d.wrote {
		d.dropping = true
		return
	}
	d.wrote = true
	d.ResponseWriter.WriteHeader(code)
}

func (d *detachWriter) Write(p []byte) (int, error) {
	if d.dropping {
		return len(p), nil
	}
	d.wrote = true
	return d.ResponseWriter.Write(p)
}

func (d *detachWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(d.ResponseWriter).Hijack()
	if err == nil {
		d.once.Do(func() { close(d.hijacked) })
	}
	return c, brw, err
}

func (d *detachWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }

package wsgorilla

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"runtime"
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
		ref := new(connRef)
		ctx, cancel := context.WithCancel(context.WithValue(context.WithoutCancel(r.Context()), connRefKey{}, ref))
		dw := &detachWriter{ResponseWriter: w, handed: make(chan struct{})}
		// Only the copy goes along: net/http's own request is garbage once
		// its response is (see Hijack).
		go serveDetached(next, dw, r.WithContext(ctx), cancel, ref)
		// Until the connection is hijacked (the websocket belongs to the
		// goroutine above then; net/http does nothing more with it), or
		// the handler refused it and returned (its response is written).
		<-dw.handed
	})
}

func serveDetached(next http.Handler, dw *detachWriter, r *http.Request, cancel context.CancelFunc, ref *connRef) {
	defer dw.hand()
	defer cancel()
	defer ref.handlerReturned()
	defer recoverHandler(dw, r)
	next.ServeHTTP(dw, r)
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
	handed   chan struct{} // closed at the hijack, or when the handler returns
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
		// net/http's response, and with it its connection and whatever
		// wrapped them outside Detach, would otherwise stay reachable
		// through this writer for the websocket's whole life; nothing may
		// use them after a hijack.
		d.ResponseWriter = hijacked{}
		d.hand()
	}
	return c, brw, err
}

func (d *detachWriter) hand() { d.once.Do(func() { close(d.handed) }) }

// hijacked stands for net/http's ResponseWriter once the connection is
// hijacked: net/http refuses every use then too.
type hijacked struct{}

func (hijacked) Header() http.Header       { return http.Header{} }
func (hijacked) Write([]byte) (int, error) { return 0, http.ErrHijacked }
func (hijacked) WriteHeader(int)           {}

// recoverHandler does for the detached goroutine what net/http does for
// its own: a panicking handler is logged (http.ErrAbortHandler silently)
// instead of ending the process, and a request not yet answered gets a
// 500.
func recoverHandler(dw *detachWriter, r *http.Request) {
	err := recover()
	if err == nil {
		return
	}
	if _, gone := dw.ResponseWriter.(hijacked); !gone && !dw.wrote {
		dw.WriteHeader(http.StatusInternalServerError)
	}
	if err == http.ErrAbortHandler {
		return
	}
	buf := make([]byte, 64<<10)
	buf = buf[:runtime.Stack(buf, false)]
	slog.Error("websocket handler panicked", "url", r.URL.Path, "panic", err, "stack", string(buf))
}

func (d *detachWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }

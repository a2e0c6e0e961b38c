package graph

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// SSEKeepAlive is how often an idle server-sent-events stream gets a
// comment (": ping"), so that proxies do not cut it as idle; the same
// period as the websockets' pings.
const SSEKeepAlive = 15 * time.Second

// sse is gqlgen's server-sent-events transport (the graphql-sse protocol,
// "distinct connections mode": one operation per POST with Accept:
// text/event-stream), made safe for streams that last hours. The request's
// bearer token was checked when it arrived (auth.Sessions.Middleware), as a
// websocket's is for each operation: a stream is one operation.
type sse struct{ transport.SSE }

func newSSE() sse { return sse{transport.SSE{KeepAlivePingInterval: SSEKeepAlive}} }

func (t sse) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	// Unlike a websocket, the stream is not hijacked: no write deadline of
	// the server's may end it.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	// Tell buffering proxies (nginx) to pass events on at once.
	w.Header().Set("X-Accel-Buffering", "no")
	ctx, cancel := context.WithCancel(r.Context())
	sw := &stoppableWriter{ResponseWriter: w}
	defer sw.stop()
	defer cancel()
	t.SSE.Do(sw, r.WithContext(ctx), exec)
}

// stoppableWriter drops writes once the handler has returned: gqlgen's
// keepalive goroutine may tick after the stream ended, and a write to a
// finished response is a data race.
type stoppableWriter struct {
	http.ResponseWriter
	mu      sync.Mutex
	stopped bool
}

func (w *stoppableWriter) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
}

func (w *stoppableWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return 0, errStreamEnded
	}
	return w.ResponseWriter.Write(b)
}

func (w *stoppableWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

func (w *stoppableWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var errStreamEnded = errors.New("graph: the event stream has ended")

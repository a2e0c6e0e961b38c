// Package wsgorilla adapts github.com/gorilla/websocket to gqlgen's websocket
// transport (transport.WebsocketImplementation), tuned for many idle
// subscribers per instance:
//
//   - a small per-connection read buffer (the only buffer an idle connection
//     keeps);
//   - write buffers taken from a shared pool only while a message is being
//     written, so an idle connection holds no write buffer;
//   - the 4 KB read and 4 KB write buffers net/http hands over with the
//     hijacked connection are released after the handshake (gqlgen runs the
//     whole connection inside the HTTP handler, which otherwise keeps them
//     reachable for the connection's life);
//   - no permessage-deflate (a compressor per connection costs far more
//     memory than it saves on small JSON events);
//   - a write deadline on every message, and a connection whose write failed
//     is closed, so a client that stops reading cannot pin its subscriptions
//     (and gqlgen's per-connection write lock) for ever.
//
// Usage:
//
//	srv.AddTransport(transport.Websocket{
//		Implementation:        wsgorilla.New(wsgorilla.Options{CheckOrigin: wsgorilla.AllowOrigins(origins)}),
//		KeepAlivePingInterval: 10 * time.Second, // "ka" on legacy graphql-ws
//		PingPongInterval:      10 * time.Second, // ping/pong on graphql-transport-ws
//		InitTimeout:           5 * time.Second,
//	})
package wsgorilla

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// Defaults applied by New to zero-valued Options fields.
const (
	// DefaultReadBufferSize is the per-connection read buffer. An idle
	// connection keeps it for its whole life; messages larger than the buffer
	// are still read (in several reads), the buffer only has to hold a frame
	// header or a control frame (gorilla raises anything below 125 bytes).
	DefaultReadBufferSize = 512
	// DefaultWriteBufferSize is the size of the pooled write buffers. Larger
	// messages are written without copying (header from the buffer, payload
	// straight from the marshalled JSON) in a single frame.
	DefaultWriteBufferSize = 4096
	// DefaultHandshakeTimeout bounds writing the 101 response.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultWriteTimeout bounds writing one message or close frame.
	DefaultWriteTimeout = 10 * time.Second
)

// CloseForbidden is the graphql-transport-ws close code for a refused
// connection_init ("4403: Forbidden"). See RejectInit.
const CloseForbidden = 4403

// closeLinger is how long Close keeps the socket's read side open after a
// close frame was sent (see conn.Close), and how long a connection the
// transport abandoned stays open (see Accept).
const closeLinger = 2 * time.Second

// maxCloseReason is the largest close reason that fits a control frame
// (125 bytes of payload minus the 2-byte code).
const maxCloseReason = 123

// Options configures an Implementation. Zero values select the defaults above.
type Options struct {
	// CheckOrigin refuses the handshake (HTTP 403) when it returns false. If
	// nil, AllowOrigins(nil) is used: same origin, or no Origin header.
	CheckOrigin func(r *http.Request) bool
	// ReadBufferSize is the per-connection read buffer size in bytes.
	ReadBufferSize int
	// WriteBufferSize is the size of the pooled write buffers in bytes.
	WriteBufferSize int
	// HandshakeTimeout bounds writing the handshake response. Negative: none.
	HandshakeTimeout time.Duration
	// WriteTimeout bounds each message and close frame write. Negative: none
	// for messages (close frames still get DefaultWriteTimeout).
	WriteTimeout time.Duration
	// Subprotocols, if set, are offered before the ones gqlgen passes to
	// Accept, in order of the server's preference. gqlgen itself only speaks
	// graphql-ws and graphql-transport-ws; anything else negotiated here makes
	// the transport close the connection with 1002.
	Subprotocols []string
}

// Implementation implements transport.WebsocketImplementation with
// gorilla/websocket. It is safe for concurrent use; create one per server so
// its connections share a write buffer pool.
type Implementation struct {
	upgrader     websocket.Upgrader
	writeTimeout time.Duration
	closeTimeout time.Duration
	linger       time.Duration

	keepHijackedBuffers bool // tests only: measure what releasing them saves
}

var _ transport.WebsocketImplementation = (*Implementation)(nil)

// New returns an Implementation for o.
func New(o Options) *Implementation {
	if o.ReadBufferSize <= 0 {
		o.ReadBufferSize = DefaultReadBufferSize
	}
	if o.WriteBufferSize <= 0 {
		o.WriteBufferSize = DefaultWriteBufferSize
	}
	switch {
	case o.HandshakeTimeout == 0:
		o.HandshakeTimeout = DefaultHandshakeTimeout
	case o.HandshakeTimeout < 0:
		o.HandshakeTimeout = 0
	}
	switch {
	case o.WriteTimeout == 0:
		o.WriteTimeout = DefaultWriteTimeout
	case o.WriteTimeout < 0:
		o.WriteTimeout = 0
	}
	closeTimeout := o.WriteTimeout
	if closeTimeout == 0 {
		closeTimeout = DefaultWriteTimeout
	}
	if o.CheckOrigin == nil {
		o.CheckOrigin = AllowOrigins(nil)
	}
	return &Implementation{
		upgrader: websocket.Upgrader{
			HandshakeTimeout:  o.HandshakeTimeout,
			ReadBufferSize:    o.ReadBufferSize,
			WriteBufferSize:   o.WriteBufferSize,
			WriteBufferPool:   new(bufferPool),
			Subprotocols:      append([]string(nil), o.Subprotocols...),
			CheckOrigin:       o.CheckOrigin,
			EnableCompression: false,
		},
		writeTimeout: o.WriteTimeout,
		closeTimeout: closeTimeout,
		linger:       closeLinger,
	}
}

// Accept upgrades r to a websocket connection. It negotiates one of
// options.Subprotocols (after Options.Subprotocols) in server order, sends
// options.ResponseHeader with the 101 response, and refuses a disallowed
// Origin with HTTP 403. On failure gorilla has already written the HTTP error
// response.
func (i *Implementation) Accept(
	w http.ResponseWriter,
	r *http.Request,
	options transport.WebsocketAcceptOptions,
) (transport.WebsocketConn, error) {
	u := i.upgrader // copy: the subprotocol list depends on the call
	u.Subprotocols = mergeProtocols(u.Subprotocols, options.Subprotocols)

	hw := &hijackWriter{ResponseWriter: w}
	ws, err := u.Upgrade(hw, r, options.ResponseHeader)
	if err != nil {
		return nil, err
	}
	if hw.brw != nil && !i.keepHijackedBuffers {
		// Gorilla allocated its own read buffer (ReadBufferSize > 0) and
		// takes write buffers from the pool, and it has written the 101
		// response, so nothing uses the hijacked bufio pair any more. They
		// are net/http's per-connection buffers, still referenced by its
		// connection, which lives as long as gqlgen's handler goroutine,
		// i.e. as long as the websocket. After Hijack net/http does nothing
		// more with the connection; zero values are valid bufio values
		// (Reset allocates afresh), so this is safe even if that changed.
		*hw.brw.Reader = bufio.Reader{}
		*hw.brw.Writer = bufio.Writer{}
	}
	c := &conn{ws: ws, impl: i}
	// net/http cancels the request context when the handler returns. gqlgen
	// closes the connection before its handler returns, except on paths
	// where it forgets to (a connection_init payload that is not a JSON
	// object; a panic, e.g. an InitFunc returning a nil context with an
	// error): the socket would stay open, unread, until the peer gives up
	// or a garbage collection finalises it. Give the transport closeLinger
	// to close it (the context is also cancelled on server shutdown, while
	// gqlgen is still closing it itself), then close it with 1011.
	context.AfterFunc(r.Context(), func() {
		time.AfterFunc(i.linger, c.abandoned)
	})
	return c, nil
}

// hijackWriter lets Accept see the bufio.ReadWriter that Hijack returns to
// gorilla. Hijacking through http.ResponseController also reaches writers
// that wrap the server's own with an Unwrap method (middleware).
type hijackWriter struct {
	http.ResponseWriter
	brw *bufio.ReadWriter
}

func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	h.brw = brw
	return c, brw, err
}

func (h *hijackWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

func mergeProtocols(first, then []string) []string {
	if len(first) == 0 {
		return then
	}
	out := append([]string(nil), first...)
	for _, p := range then {
		found := false
		for _, q := range out {
			if q == p {
				found = true
				break
			}
		}
		if !found {
			out = append(out, p)
		}
	}
	return out
}

// conn is kept small on purpose: one exists per open connection.
type conn struct {
	ws   *websocket.Conn
	impl *Implementation

	// mu serialises data-message writes: gorilla allows one concurrent
	// writer. gqlgen (v0.17.98) already writes under its own per-connection
	// lock, so this is uncontended there; it keeps the adapter safe on its
	// own. Close frames go through WriteControl, which gorilla allows
	// concurrently with everything else.
	mu sync.Mutex

	// closeSent is set once a close frame went out (ours, or gorilla's own
	// 1009/1002 on a read error, or its echo of the peer's close frame).
	closeSent atomic.Bool
	// peerClosed is set once the peer's close frame was read: gorilla has
	// echoed it, so the close handshake is complete.
	peerClosed atomic.Bool
	// closed is set by the first Close.
	closed atomic.Bool
}

var (
	_ transport.WebsocketConn          = (*conn)(nil)
	_ transport.WebsocketReadLimiter   = (*conn)(nil)
	_ transport.WebsocketReadDeadliner = (*conn)(nil)
)

// NextReader returns a reader for the next data message. A close frame with
// 1000 (normal), 1001 (going away) or no status becomes
// transport.ErrWebsocketClosed, which the transport treats as an orderly end
// (not reported to ErrorFunc); other close codes, 1006 (connection dropped
// without a close frame), read-limit and timeout errors are returned as they
// are. Gorilla answers control pings with pongs and echoes the peer's close
// frame while this is being called.
func (c *conn) NextReader() (int, io.Reader, error) {
	typ, r, err := c.ws.NextReader()
	if err == nil {
		return typ, r, nil
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
		c.peerClosed.Store(true)
		c.closeSent.Store(true) // gorilla's close handler echoed it
	}
	if c.closeSent.Load() {
		// We had sent a close frame and this reader was still running: the
		// handshake is over (or the peer is gone), release the socket now
		// rather than at the end of Close's linger.
		_ = c.ws.Close()
	}
	if websocket.IsCloseError(err,
		websocket.CloseNormalClosure,
		websocket.CloseGoingAway,
		websocket.CloseNoStatusReceived,
	) {
		return typ, nil, transport.ErrWebsocketClosed
	}
	return typ, nil, err
}

// WriteJSON writes v as one text frame. It is safe for concurrent use.
//
// Once a close frame has been sent (by the transport, or by gorilla answering
// the peer's close), no data frame may follow it: the message is dropped and
// WriteJSON returns nil. gqlgen writes a subscription's "complete" after the
// peer's close whenever it wins a race with its own teardown, and would
// otherwise report "close sent" to ErrorFunc for ordinary disconnects.
//
// Any other failed write (timeout, broken pipe) is permanent in gorilla, so
// the network connection is then closed: the transport's read loop ends and
// it tears the connection's subscriptions down.
func (c *conn) WriteJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.impl.writeTimeout; t > 0 {
		_ = c.ws.SetWriteDeadline(time.Now().Add(t))
	}
	err = c.ws.WriteMessage(websocket.TextMessage, data)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, websocket.ErrCloseSent):
		c.closeSent.Store(true)
		return nil
	default:
		_ = c.ws.Close()
		return err
	}
}

// WriteClose sends a close frame with code and reason (cut to the 123 bytes
// a control frame allows). It does not wait for the peer's close frame: the
// transport calls Close right after it. If a close frame was already sent
// (gorilla's echo, or its 1009), it returns websocket.ErrCloseSent.
func (c *conn) WriteClose(closeCode int, message string) error {
	payload := websocket.FormatCloseMessage(closeCode, truncateReason(message))
	err := c.ws.WriteControl(websocket.CloseMessage, payload, time.Now().Add(c.impl.closeTimeout))
	if err == nil || errors.Is(err, websocket.ErrCloseSent) {
		c.closeSent.Store(true)
	}
	return err
}

// Subprotocol returns the negotiated subprotocol ("" if none).
func (c *conn) Subprotocol() string { return c.ws.Subprotocol() }

// Close closes the network connection; calls after the first do nothing. If
// we sent a close frame and the peer has not answered yet, it only
// half-closes it (FIN after the close frame) and closes it fully once the transport's reader sees the peer's answer, or
// after closeLinger: closing a socket with unread input (say the rest of a
// message over the read limit) sends a TCP reset, which can make the peer
// fail its write or lose our close frame and report 1006 instead of the code
// we sent. The linger is a timer, not a goroutine.
func (c *conn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	if c.closeSent.Load() && !c.peerClosed.Load() {
		if hc, ok := c.ws.NetConn().(interface{ CloseWrite() error }); ok && hc.CloseWrite() == nil {
			time.AfterFunc(c.impl.linger, func() { _ = c.ws.Close() })
			return nil
		}
	}
	return c.ws.Close()
}

// abandoned closes a connection the transport left open (see Accept).
func (c *conn) abandoned() {
	if c.closed.Load() {
		return
	}
	_ = c.WriteClose(websocket.CloseInternalServerErr, "internal error")
	_ = c.Close()
}

// SetReadLimit makes a larger message fail the read; gorilla then sends a
// 1009 (message too big) close frame.
func (c *conn) SetReadLimit(limit int64) { c.ws.SetReadLimit(limit) }

// SetReadDeadline sets the network read deadline (zero clears it). gqlgen's
// PingPongInterval uses it to drop graphql-transport-ws clients that stop
// answering its ping messages.
func (c *conn) SetReadDeadline(t time.Time) error { return c.ws.SetReadDeadline(t) }

func truncateReason(s string) string {
	if len(s) <= maxCloseReason {
		return s
	}
	s = s[:maxCloseReason]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// bufferPool is the websocket.BufferPool shared by an Implementation's
// connections: a connection takes a write buffer when it starts a message
// and returns it when the frame is flushed.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() any  { return b.p.Get() }
func (b *bufferPool) Put(x any) { b.p.Put(x) }

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

// RejectInit marks ctx so that gqlgen closes the connection with
// CloseForbidden (4403) and reason when an InitFunc returns it together with
// a non-nil error:
//
//	InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
//		if !valid(p.Authorization()) {
//			return wsgorilla.RejectInit(ctx, "Forbidden"), nil, errors.New("unauthorized")
//		}
//		return ctx, nil, nil
//	}
//
// Without it gqlgen closes a refused init with 1000 "terminated". An InitFunc
// must never return a nil context with an error: gqlgen reads the close code
// from that context.
func RejectInit(ctx context.Context, reason string) context.Context {
	ctx = transport.WithWebsocketCloseCode(ctx, CloseForbidden)
	return transport.AppendCloseReason(ctx, reason)
}

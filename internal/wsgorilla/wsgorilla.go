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
//   - keepalive messages on a timer per connection (Options.KeepAlive), not
//     on the goroutine and ticker of gqlgen's KeepAlivePingInterval and
//     PingPongInterval.
//
// Usage:
//
//	srv.AddTransport(transport.Websocket{
//		Implementation: wsgorilla.New(wsgorilla.Options{
//			CheckOrigin: wsgorilla.AllowOrigins(origins),
//			KeepAlive:   15 * time.Second, // "ka" on graphql-ws, ping/pong on graphql-transport-ws
//		}),
//		InitTimeout: 5 * time.Second,
//	})
package wsgorilla

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// Defaults applied by New to zero-valued Options fields.
const (
	// DefaultReadBufferSize is the per-connection read buffer. An idle
	// connection keeps it for its whole life; messages larger than the buffer
	// are still read (in several reads), the buffer only has to hold a frame
	// header or a control frame (gorilla raises anything below 125 bytes).
	// Clients send little (subscribe messages of a few hundred bytes,
	// pongs), so a few reads more for a large one cost less than the
	// bytes every idle connection would keep.
	DefaultReadBufferSize = 256
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
	// WriteTimeout bounds each message and close frame write (a message
	// gets between half of it and all of it, see conn.setWriteDeadline).
	// Negative: none for messages (close frames still get
	// DefaultWriteTimeout).
	WriteTimeout time.Duration
	// Subprotocols, if set, are offered before the ones gqlgen passes to
	// Accept, in order of the server's preference. gqlgen itself only speaks
	// graphql-ws and graphql-transport-ws; anything else negotiated here makes
	// the transport close the connection with 1002.
	Subprotocols []string
	// KeepAlive, if positive, makes every connection send {"type":"ka"}
	// (graphql-ws) or {"type":"ping"} (graphql-transport-ws) every
	// KeepAlive once its connection_ack is written, and end a
	// graphql-transport-ws connection from which nothing was read for two
	// beats in a row (see keepalive.go): what the transport's
	// KeepAlivePingInterval and PingPongInterval do (leave those zero),
	// without their two goroutines per connection.
	KeepAlive time.Duration
}

// Implementation implements transport.WebsocketImplementation with
// gorilla/websocket. It is safe for concurrent use; create one per server so
// its connections share a write buffer pool.
type Implementation struct {
	upgrader     websocket.Upgrader
	writeTimeout time.Duration
	closeTimeout time.Duration
	linger       time.Duration
	keepAlive    time.Duration

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
		keepAlive:    o.KeepAlive,
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
	c.pingHandler()
	if ref, ok := r.Context().Value(connRefKey{}).(*connRef); ok {
		// Served through Detach, which calls ref.handlerReturned when the
		// handler returns: the same as below without a context callback
		// (and its allocations) per connection.
		ref.c.Store(c)
		return c, nil
	}
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
	if err != nil {
		return c, brw, err
	}
	return &deadlineConn{Conn: c}, brw, nil
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

// bufferPool is the websocket.BufferPool shared by an Implementation's
// connections: a connection takes a write buffer when it starts a message
// and returns it when the frame is flushed.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() any  { return b.p.Get() }
func (b *bufferPool) Put(x any) { b.p.Put(x) }

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

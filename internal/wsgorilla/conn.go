package wsgorilla

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

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

	// lastID is the id of the last subscribe message read (see noteID);
	// only the transport's read loop uses it.
	lastID string

	// deadline is the write deadline the socket has (Unix nanoseconds; 0:
	// unknown), see setWriteDeadline.
	deadline atomic.Int64

	// The keepalive (see keepalive.go): its timer, set once the
	// connection_ack is written; the data messages read so far (by the
	// transport's read loop); and, for the timer's function only, the count
	// it saw last and how many beats in a row saw no new message.
	beat  atomic.Pointer[time.Timer]
	reads atomic.Uint32
	seen  uint32
	quiet uint8
}

// setWriteDeadline gives the next data write at least half the write
// timeout. Moving the socket's deadline updates a runtime timer, a cost
// on every write of every subscriber of a push, so the deadline is moved
// only once half of it has passed: a write may take between half and all
// of WriteTimeout. Call it with mu held.
func (c *conn) setWriteDeadline() {
	t := c.impl.writeTimeout
	if t <= 0 {
		return
	}
	now := time.Now()
	if c.deadline.Load()-now.UnixNano() >= int64(t/2) {
		return
	}
	d := now.Add(t)
	c.deadline.Store(d.UnixNano())
	_ = c.ws.SetWriteDeadline(d)
}

// pingHandler answers the peer's ping control frames as gorilla does,
// and forgets the write deadline: gorilla's WriteControl sets the
// socket's own (one second) for the pong.
func (c *conn) pingHandler() {
	c.ws.SetPingHandler(func(message string) error {
		err := c.ws.WriteControl(websocket.PongMessage, []byte(message), time.Now().Add(time.Second))
		c.deadline.Store(0)
		if err == websocket.ErrCloseSent {
			return nil
		}
		if e, ok := err.(net.Error); ok && e.Timeout() {
			return nil
		}
		return err
	})
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
		c.reads.Add(1)
		if typ == websocket.TextMessage {
			r = c.readNoting(r)
		}
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
	c.setWriteDeadline()
	err = c.ws.WriteMessage(websocket.TextMessage, data)
	if err == nil {
		c.noteAck(data)
	}
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
	c.stopBeat()
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

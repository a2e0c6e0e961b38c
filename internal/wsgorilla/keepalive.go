package wsgorilla

import (
	"bytes"
	"errors"
	"time"

	"github.com/gorilla/websocket"
)

// Options.KeepAlive does what gqlgen's KeepAlivePingInterval and
// PingPongInterval do, with a runtime timer per connection instead of a
// goroutine and a ticker (2–4 KB of stack per connection): the timer's
// function runs on a goroutine of its own only while it fires. Each
// connection's timer starts when its connection_ack is written, so the
// beats of many connections are spread over the interval as their
// connections were, and a peer whose write blocks delays only its own.

var (
	ackSuffix = []byte(`"type":"connection_ack"}`)
	kaFrame   = []byte(`{"type":"ka"}`)
	pingFrame = []byte(`{"type":"ping"}`)
)

// quietBeats is how many beats in a row may pass without a message from a
// graphql-transport-ws peer: the read fails at the second, at most twice
// the interval after the first ping left unanswered (gqlgen's read
// deadline of 2 × PingPongInterval after a ping).
const quietBeats = 2

// noteAck starts the keepalive once data, a message the transport writes,
// is its connection_ack. Call it with mu held.
func (c *conn) noteAck(data []byte) {
	if c.impl.keepAlive <= 0 || c.beat.Load() != nil || !bytes.HasSuffix(data, ackSuffix) {
		return
	}
	c.seen = c.reads.Load()
	c.beat.Store(time.AfterFunc(c.impl.keepAlive, c.heartbeat))
}

// heartbeat runs every keepAlive while the connection is open. On
// graphql-ws it writes {"type":"ka"}; on graphql-transport-ws it writes
// {"type":"ping"}, and once quietBeats beats passed without any message
// read from the peer (a pong, or anything else), it fails the transport's
// read by moving the read deadline to now: the transport then ends the
// connection as on its own PingPongInterval deadline (a read timeout for
// ErrorFunc, then close 1000 "terminated").
func (c *conn) heartbeat() {
	if c.closed.Load() {
		return
	}
	frame := kaFrame
	if c.ws.Subprotocol() == "graphql-transport-ws" {
		frame = pingFrame
		if r := c.reads.Load(); r != c.seen {
			c.seen, c.quiet = r, 0
		} else if c.quiet++; c.quiet >= quietBeats {
			// The beats go on: a pong read meanwhile makes the transport
			// clear this deadline (gqlgen does on every pong), and the
			// next beat counts it, or finds the connection closed.
			_ = c.ws.SetReadDeadline(time.Now())
			c.beat.Load().Reset(c.impl.keepAlive)
			return
		}
	}
	if !c.writeBeat(frame) {
		return
	}
	c.beat.Load().Reset(c.impl.keepAlive)
}

// writeBeat writes frame under the rules of WriteJSON and reports whether
// the connection is still usable.
func (c *conn) writeBeat(frame []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent.Load() {
		return false
	}
	c.setWriteDeadline()
	err := c.ws.WriteMessage(websocket.TextMessage, frame)
	switch {
	case err == nil:
		return true
	case errors.Is(err, websocket.ErrCloseSent):
		c.closeSent.Store(true)
	default:
		_ = c.ws.Close()
	}
	return false
}

// stopBeat stops the keepalive of a closed connection. The timer is read
// without mu (a blocked write may hold it); a beat armed concurrently
// finds the connection closed and ends.
func (c *conn) stopBeat() {
	if t := c.beat.Load(); t != nil {
		t.Stop()
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// stockSubscription is what a flash-sale overlay asks for.
const stockSubscription = `subscription($id: ID!) { flashSaleStock(flashSaleID: $id) { sold remaining status updatedAt } }`

// subID is the one subscription each connection starts.
const subID = "1"

// wsProtocol is one of the two subprotocols' message types.
type wsProtocol struct {
	name      string
	subscribe string // start a subscription
	data      string // an event
	suffix    []byte // how gqlgen ends an event of subscription subID
	muxPrefix []byte // how a multiplexed event (internal/submux) of subID starts, up to sold's value
}

// muxSuffix ends a multiplexed event: the stock, data, payload, message.
var muxSuffix = []byte(`}}}}`)

var wsProtocols = map[string]wsProtocol{
	"graphql-transport-ws": {name: "graphql-transport-ws", subscribe: "subscribe", data: "next",
		suffix:    []byte(`}}},"id":"` + subID + `","type":"next"}`),
		muxPrefix: []byte(`{"id":"` + subID + `","type":"next","payload":{"data":{"flashSaleStock":{"sold":`)},
	"graphql-ws": {name: "graphql-ws", subscribe: "start", data: "data",
		suffix:    []byte(`}}},"id":"` + subID + `","type":"data"}`),
		muxPrefix: []byte(`{"id":"` + subID + `","type":"data","payload":{"data":{"flashSaleStock":{"sold":`)},
}

// wsDialers returns the websocket URL of the server's /graphql and one
// dialer per source address (a single default one unless the server is on
// an IPv4 loopback address and more than one source is wanted).
func wsDialers(base, protocol string, n, sources int) (string, []*websocket.Dialer, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", nil, fmt.Errorf("-url must be http:// or https://")
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/graphql"
	ip := net.ParseIP(u.Hostname())
	loopback := ip != nil && ip.To4() != nil && ip.IsLoopback()
	if sources == 0 {
		sources = 1
		if loopback {
			sources = (n + 7999) / 8000
		}
	}
	if sources > 1 && !loopback {
		return "", nil, fmt.Errorf("-sources > 1 needs a server on 127.x.x.x")
	}
	if sources > 254 {
		return "", nil, fmt.Errorf("-sources: at most 254")
	}
	var ds []*websocket.Dialer
	for k := 1; k <= sources; k++ {
		nd := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: -1}
		if sources > 1 {
			nd.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(k))}
		}
		ds = append(ds, &websocket.Dialer{
			NetDialContext:   nd.DialContext,
			HandshakeTimeout: 10 * time.Second,
			ReadBufferSize:   1024,
			WriteBufferSize:  1024,
			Subprotocols:     []string{protocol},
		})
	}
	return u.String(), ds, nil
}

// subscriber is one websocket connection with one flashSaleStock
// subscription; its own goroutine reads it.
type subscriber struct {
	proto    wsProtocol
	conn     *websocket.Conn
	lastSold atomic.Int64 // the latest sold received
	closing  atomic.Bool  // we sent a close frame: a read error is the end
	done     chan struct{}
	err      error        // why reading stopped, if not our close; read after done
	buf      bytes.Buffer // the message being read

	mu     sync.Mutex
	events []stockEvent // every state received, in arrival order
}

type stockEvent struct {
	at   time.Time
	sold int64
}

// wsMessage is one message of either subprotocol.
type wsMessage struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// open dials, says connection_init, subscribes and reads until the
// initial state arrived.
func (s *subscriber) open(ctx context.Context, d *websocket.Dialer, wsURL string, subscribe []byte) error {
	c, res, err := d.DialContext(ctx, wsURL, nil)
	if err != nil {
		if res != nil {
			err = fmt.Errorf("%w (HTTP %s)", err, res.Status)
		}
		return err
	}
	s.conn = c
	if c.Subprotocol() != s.proto.name {
		return fmt.Errorf("server chose subprotocol %q", c.Subprotocol())
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetReadDeadline(dl)
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"connection_init","payload":{}}`)); err != nil {
		return err
	}
	for acked := false; !acked; {
		typ, err := s.next()
		if err != nil {
			return err
		}
		acked = typ == "connection_ack"
	}
	if err := c.WriteMessage(websocket.TextMessage, subscribe); err != nil {
		return err
	}
	for !s.hasEvent() {
		if _, err := s.next(); err != nil {
			return err
		}
	}
	return c.SetReadDeadline(time.Time{})
}

func (s *subscriber) hasEvent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events) > 0
}

// read reads until the connection ends.
func (s *subscriber) read() {
	for {
		if _, err := s.next(); err != nil {
			if !s.closing.Load() {
				s.err = err
			}
			return
		}
	}
}

// next reads one message, answers a ping, records a state, and returns the
// message's type.
func (s *subscriber) next() (string, error) {
	_, r, err := s.conn.NextReader()
	if err != nil {
		return "", err
	}
	s.buf.Reset() // reused: the tool should cost the machine as little as it can
	_, err = s.buf.ReadFrom(r)
	at := time.Now()
	if err != nil {
		return "", err
	}
	b := s.buf.Bytes()
	if sold, ok := s.fastStock(b); ok {
		s.record(at, sold)
		return s.proto.data, nil
	}
	var m wsMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("bad message %q: %w", b, err)
	}
	switch m.Type {
	case "ping":
		// Only this goroutine writes data messages (closing uses WriteControl).
		return m.Type, s.conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"pong"}`))
	case s.proto.data:
		if m.ID != subID {
			return m.Type, nil
		}
		var p struct {
			Data *struct {
				Stock *struct {
					Sold int64 `json:"sold"`
				} `json:"flashSaleStock"`
			} `json:"data"`
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil || p.Data == nil || p.Data.Stock == nil {
			return "", fmt.Errorf("event without a stock: %s", m.Payload)
		}
		s.record(at, p.Data.Stock.Sold)
	case "error", "connection_error":
		return "", fmt.Errorf("%s: %s", m.Type, m.Payload)
	case "complete":
		if !s.closing.Load() {
			return "", errors.New("the server completed the subscription")
		}
	}
	return m.Type, nil
}

func (s *subscriber) record(at time.Time, sold int64) {
	s.mu.Lock()
	s.events = append(s.events, stockEvent{at: at, sold: sold})
	s.mu.Unlock()
	s.lastSold.Store(sold)
}

// stockPrefix starts an event exactly as gqlgen writes it (fields in the
// selection's order, sold first).
var stockPrefix = []byte(`{"payload":{"data":{"flashSaleStock":{"sold":`)

// fastStock reads sold from an event of our subscription without a JSON
// decoder when the message has exactly gqlgen's shape, or the multiplexed
// one's (id and type first); anything else goes to the full decoder.
func (s *subscriber) fastStock(b []byte) (int64, bool) {
	switch {
	case bytes.HasPrefix(b, stockPrefix) && bytes.HasSuffix(b, s.proto.suffix):
		b = b[len(stockPrefix):]
	case bytes.HasPrefix(b, s.proto.muxPrefix) && bytes.HasSuffix(b, muxSuffix):
		b = b[len(s.proto.muxPrefix):]
	default:
		return 0, false
	}
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == 0 || i > 18 || i == len(b) || b[i] != ',' {
		return 0, false
	}
	sold, err := strconv.ParseInt(string(b[:i]), 10, 64)
	return sold, err == nil
}

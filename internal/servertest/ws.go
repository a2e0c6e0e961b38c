package servertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The two websocket subprotocols of the contract.
const (
	TransportWS = "graphql-transport-ws" // the graphql-ws npm library
	LegacyWS    = "graphql-ws"           // subscriptions-transport-ws
)

// WS is a websocket client speaking one of the subprotocols.
type WS struct {
	Conn     *websocket.Conn
	Protocol string
	next     int
}

// Message is one server message.
type Message struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// DialWS opens a websocket to a server's /graphql with the subprotocol and
// sends connection_init with the payload (nil for none). It returns the
// connection once acknowledged, or the error (a close, say).
func DialWS(baseURL, protocol string, initPayload map[string]any) (*WS, error) {
	u := "ws" + strings.TrimPrefix(baseURL, "http") + "/graphql"
	d := websocket.Dialer{Subprotocols: []string{protocol}, HandshakeTimeout: 5 * time.Second}
	c, _, err := d.Dial(u, http.Header{})
	if err != nil {
		return nil, err
	}
	w := &WS{Conn: c, Protocol: protocol}
	init := map[string]any{"type": "connection_init"}
	if initPayload != nil {
		init["payload"] = initPayload
	}
	if err := c.WriteJSON(init); err != nil {
		c.Close()
		return nil, err
	}
	for {
		m, err := w.Read(5 * time.Second)
		if err != nil {
			c.Close()
			return nil, err
		}
		switch m.Type {
		case "connection_ack":
			return w, nil
		case "connection_error":
			c.Close()
			return nil, fmt.Errorf("connection_error: %s", m.Payload)
		}
	}
}

// Subscribe starts a subscription and returns its ID.
func (w *WS) Subscribe(query string, vars map[string]any) (string, error) {
	w.next++
	id := fmt.Sprint(w.next)
	typ := "subscribe"
	if w.Protocol == LegacyWS {
		typ = "start"
	}
	return id, w.Conn.WriteJSON(map[string]any{"id": id, "type": typ,
		"payload": map[string]any{"query": query, "variables": vars}})
}

// Stop ends a subscription.
func (w *WS) Stop(id string) error {
	typ := "complete"
	if w.Protocol == LegacyWS {
		typ = "stop"
	}
	return w.Conn.WriteJSON(map[string]any{"id": id, "type": typ})
}

// Read returns the next message, answering pings and skipping keepalives.
func (w *WS) Read(timeout time.Duration) (*Message, error) {
	deadline := time.Now().Add(timeout)
	for {
		_ = w.Conn.SetReadDeadline(deadline)
		var m Message
		if err := w.Conn.ReadJSON(&m); err != nil {
			return nil, err
		}
		switch m.Type {
		case "ping":
			_ = w.Conn.WriteJSON(map[string]any{"type": "pong"})
			continue
		case "ka", "pong":
			continue
		}
		return &m, nil
	}
}

// Result is a subscription's event: data or errors.
type Result struct {
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
}

// Next reads the next event of any subscription on the connection: a
// next/data message's payload, or an error message's errors.
func (w *WS) Next(timeout time.Duration) (string, *Result, error) {
	for {
		m, err := w.Read(timeout)
		if err != nil {
			return "", nil, err
		}
		switch m.Type {
		case "next", "data":
			var r Result
			if err := json.Unmarshal(m.Payload, &r); err != nil {
				return "", nil, err
			}
			return m.ID, &r, nil
		case "error":
			var r Result
			if err := json.Unmarshal(m.Payload, &r.Errors); err != nil {
				// the legacy protocol sends one error object
				var one Error
				if json.Unmarshal(m.Payload, &one) == nil {
					r.Errors = []Error{one}
				}
			}
			return m.ID, &r, nil
		case "complete":
			continue
		}
	}
}

// FirstErrorCode reads events, skipping states, until one carries errors,
// and returns the first error's code; it fails t after timeout.
func (w *WS) FirstErrorCode(t testing.TB, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_, r, err := w.Next(time.Until(deadline))
		if err != nil {
			t.Fatalf("no error arrived: %v", err)
		}
		if len(r.Errors) > 0 {
			c, _ := r.Errors[0].Extensions["code"].(string)
			return c
		}
	}
}

// Close closes the connection.
func (w *WS) Close() { _ = w.Conn.Close() }

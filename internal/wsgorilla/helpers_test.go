package wsgorilla_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// testSchema is a minimal hand-written graphql.ExecutableSchema:
//
//	type Query { hello: String! }
//	type Subscription { events: String! }
//
// Every `events` subscription registers with a hub; hub.publish sends a value
// to all of them. (graphql.ExecutableSchemaMock would do too, but it records
// every call with its context, which would skew the memory measurements.)
type testSchema struct {
	schema *ast.Schema
	hub    *hub
}

var parsedSchema = gqlparser.MustLoadSchema(&ast.Source{Input: `
	type Query { hello: String! }
	type Subscription { events: String! }
`})

func newTestSchema() *testSchema {
	return &testSchema{schema: parsedSchema, hub: newHub()}
}

func (s *testSchema) Schema() *ast.Schema { return s.schema }

func (s *testSchema) Complexity(context.Context, string, string, int, map[string]any) (int, bool) {
	return 1, true
}

func (s *testSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx).Operation
	switch op.Operation {
	case ast.Query:
		return graphql.OneShot(&graphql.Response{Data: json.RawMessage(`{"hello":"world"}`)})
	case ast.Subscription:
		sub := s.hub.add()
		// The transport may stop calling the handler once ctx is done, so
		// unregister on cancellation rather than in the handler.
		context.AfterFunc(ctx, func() { s.hub.remove(sub) })
		return func(ctx context.Context) *graphql.Response {
			select {
			case <-ctx.Done():
				return nil
			case v := <-sub.ch:
				data, _ := json.Marshal(map[string]string{"events": v})
				return &graphql.Response{Data: data}
			}
		}
	default:
		return graphql.OneShot(graphql.ErrorResponse(ctx, "unsupported operation"))
	}
}

type subscriber struct{ ch chan string }

type hub struct {
	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	changed chan struct{} // closed and replaced on every add/remove
}

func newHub() *hub {
	return &hub{subs: map[*subscriber]struct{}{}, changed: make(chan struct{})}
}

func (h *hub) add() *subscriber {
	s := &subscriber{ch: make(chan string, 1)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	close(h.changed)
	h.changed = make(chan struct{})
	h.mu.Unlock()
	return s
}

func (h *hub) remove(s *subscriber) {
	h.mu.Lock()
	delete(h.subs, s)
	close(h.changed)
	h.changed = make(chan struct{})
	h.mu.Unlock()
}

func (h *hub) active() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// waitActive waits until exactly n subscriptions are registered.
func (h *hub) waitActive(n int, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		h.mu.Lock()
		got, ch := len(h.subs), h.changed
		h.mu.Unlock()
		if got == n {
			return nil
		}
		select {
		case <-ch:
		case <-deadline:
			return errors.New("timed out waiting for subscriptions")
		}
	}
}

// publish sends v to every current subscriber, waiting at most timeout per
// subscriber; it returns how many received it.
func (h *hub) publish(v string, timeout time.Duration) int {
	h.mu.Lock()
	subs := make([]*subscriber, 0, len(h.subs))
	for s := range h.subs {
		subs = append(subs, s)
	}
	h.mu.Unlock()
	n := 0
	for _, s := range subs {
		select {
		case s.ch <- v:
			n++
		case <-time.After(timeout):
		}
	}
	return n
}

// newGQLServer mounts gqlgen's handler with ws as its only transport.
func newGQLServer(ws transport.Websocket) (*handler.Server, *testSchema) {
	es := newTestSchema()
	srv := handler.New(es)
	srv.AddTransport(ws)
	srv.SetQueryCache(lru.New[*ast.QueryDocument](100))
	return srv, es
}

// startServer runs ws on an httptest server and returns it with its hub.
func startServer(t *testing.T, ws transport.Websocket, setup ...func(*handler.Server)) (*httptest.Server, *hub) {
	t.Helper()
	srv, es := newGQLServer(ws)
	for _, f := range setup {
		f(srv)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, es.hub
}

func wsURL(ts *httptest.Server) string {
	return "ws" + strings.TrimPrefix(ts.URL, "http") + "/query"
}

// msg is a message of either protocol.
type msg struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type client struct {
	t *testing.T
	*websocket.Conn
}

func dial(t *testing.T, url string, header http.Header, protocols ...string) (*client, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: protocols, HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial(url, header)
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { _ = c.Close() })
	return &client{t: t, Conn: c}, resp, nil
}

func mustDial(t *testing.T, url string, protocols ...string) *client {
	t.Helper()
	c, _, err := dial(t, url, nil, protocols...)
	if err != nil {
		t.Fatalf("dial %v: %v", protocols, err)
	}
	return c
}

func (c *client) send(m msg) {
	c.t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := c.WriteJSON(m); err != nil {
		c.t.Fatalf("write %s: %v", m.Type, err)
	}
}

func (c *client) sendRaw(s string) {
	c.t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read returns the next message, or the read error.
func (c *client) read(timeout time.Duration) (msg, error) {
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	var m msg
	_, data, err := c.ReadMessage()
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		c.t.Fatalf("bad json from server %q: %v", data, err)
	}
	return m, nil
}

// readEvents reads until n events of protocol p arrived, counting them by
// subscription id and counting the keepalive messages between them; any
// other message fails the test.
func (c *client) readEvents(t *testing.T, p protocol, n int) (byID map[string]int, beats int) {
	t.Helper()
	byID = map[string]int{}
	for total := 0; total < n; {
		m, err := c.read(10 * time.Second)
		if err != nil {
			t.Fatalf("after %d events: %v", total, err)
		}
		switch m.Type {
		case p.data:
			byID[m.ID]++
			total++
		case "ka", "ping", "pong":
			beats++
		default:
			t.Fatalf("unexpected %s %s", m.Type, m.Payload)
		}
	}
	return byID, beats
}

// expect reads the next message and checks its type (and id if not empty).
func (c *client) expect(typ, id string) msg {
	c.t.Helper()
	m, err := c.read(5 * time.Second)
	if err != nil {
		c.t.Fatalf("waiting for %q: %v", typ, err)
	}
	if m.Type != typ || (id != "" && m.ID != id) {
		c.t.Fatalf("got %s id=%q payload=%s, want %s id=%q", m.Type, m.ID, m.Payload, typ, id)
	}
	return m
}

// expectClose reads until the connection fails and returns the close error.
func (c *client) expectClose(timeout time.Duration) *websocket.CloseError {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_ = c.SetReadDeadline(deadline)
		_, data, err := c.ReadMessage()
		if err == nil {
			c.t.Logf("(before close) %s", data)
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("want a close frame, got %v", err)
		}
		return ce
	}
}

type protocol struct {
	name                            string
	subscribe, stop, data, complete string
}

var (
	graphqlWS          = protocol{"graphql-ws", "start", "stop", "data", "complete"}
	graphqlTransportWS = protocol{"graphql-transport-ws", "subscribe", "complete", "next", "complete"}
	protocols          = []protocol{graphqlWS, graphqlTransportWS}
)

// initConn sends connection_init and reads the ack (and, on graphql-ws, the
// "ka" gqlgen sends right after it).
func (c *client) initConn(p protocol, payload string) {
	c.t.Helper()
	m := msg{Type: "connection_init"}
	if payload != "" {
		m.Payload = json.RawMessage(payload)
	}
	c.send(m)
	c.expect("connection_ack", "")
	if p == graphqlWS {
		c.expect("ka", "")
	}
}

func (c *client) subscribe(p protocol, id string) {
	c.t.Helper()
	c.send(msg{Type: p.subscribe, ID: id, Payload: json.RawMessage(`{"query":"subscription { events }"}`)})
}

func newHTTPServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

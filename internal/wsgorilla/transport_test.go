package wsgorilla_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"

	"unionmall/internal/wsgorilla"
)

// recorder collects ErrorFunc and CloseFunc calls.
type recorder struct {
	mu     sync.Mutex
	errs   []error
	closed chan int
}

func newRecorder() *recorder { return &recorder{closed: make(chan int, 16)} }

func (r *recorder) errorFunc(_ context.Context, err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
}

func (r *recorder) closeFunc(_ context.Context, code int) { r.closed <- code }

func (r *recorder) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

func (r *recorder) waitClosed(t *testing.T) int {
	t.Helper()
	select {
	case code := <-r.closed:
		return code
	case <-time.After(5 * time.Second):
		t.Fatal("CloseFunc not called")
		return 0
	}
}

func baseWS(rec *recorder) transport.Websocket {
	return transport.Websocket{
		Implementation: wsgorilla.New(wsgorilla.Options{}),
		InitTimeout:    5 * time.Second,
		ErrorFunc:      rec.errorFunc,
		CloseFunc:      rec.closeFunc,
	}
}

// TestSubscriptionLifecycle drives both subprotocols through init, a
// subscription with events, stop/complete, a query, and the client's end.
func TestSubscriptionLifecycle(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec := newRecorder()
			ts, hub := startServer(t, baseWS(rec))
			c := mustDial(t, wsURL(ts), p.name)
			if got := c.Subprotocol(); got != p.name {
				t.Fatalf("negotiated %q, want %q", got, p.name)
			}

			c.initConn(p, `{"Authorization":"Bearer x"}`)
			c.subscribe(p, "1")
			if err := hub.waitActive(1, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			for _, v := range []string{"a", "b", "c"} {
				if hub.publish(v, time.Second) != 1 {
					t.Fatal("publish not received")
				}
				m := c.expect(p.data, "1")
				if want := fmt.Sprintf(`{"data":{"events":%q}}`, v); string(m.Payload) != want {
					t.Fatalf("payload %s, want %s", m.Payload, want)
				}
			}

			// The client ends the subscription; gqlgen answers with complete.
			c.send(msg{Type: p.stop, ID: "1"})
			c.expect(p.complete, "1")
			if err := hub.waitActive(0, 5*time.Second); err != nil {
				t.Fatal(err)
			}

			// A query over the socket: one result, then complete.
			c.send(msg{Type: p.subscribe, ID: "2", Payload: json.RawMessage(`{"query":"{ hello }"}`)})
			if m := c.expect(p.data, "2"); string(m.Payload) != `{"data":{"hello":"world"}}` {
				t.Fatalf("query payload %s", m.Payload)
			}
			c.expect(p.complete, "2")

			// The client ends the connection: connection_terminate on the
			// legacy protocol (gqlgen closes with 1000), a close frame on
			// graphql-transport-ws (gorilla echoes it).
			if p == graphqlWS {
				c.send(msg{Type: "connection_terminate"})
			} else {
				_ = c.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(time.Second))
			}
			ce := c.expectClose(5 * time.Second)
			if ce.Code != websocket.CloseNormalClosure {
				t.Fatalf("close code %d %q, want 1000", ce.Code, ce.Text)
			}
			if code := rec.waitClosed(t); code != websocket.CloseNormalClosure {
				t.Fatalf("CloseFunc code %d, want 1000", code)
			}
			// A normal close is transport.ErrWebsocketClosed: not an error.
			if errs := rec.errors(); len(errs) != 0 {
				t.Fatalf("ErrorFunc called: %v", errs)
			}
		})
	}
}

// TestClientCloseCodes checks which client close frames the adapter reports
// as an orderly end (ErrWebsocketClosed, no ErrorFunc call).
func TestClientCloseCodes(t *testing.T) {
	cases := []struct {
		name        string
		code        int // 0: drop the TCP connection without a close frame
		wantErrFunc bool
	}{
		{"normal", websocket.CloseNormalClosure, false},
		{"going away", websocket.CloseGoingAway, false},
		{"no status", websocket.CloseNoStatusReceived, false},
		{"policy violation", websocket.ClosePolicyViolation, true},
		{"tcp drop", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			ts, hub := startServer(t, baseWS(rec))
			c := mustDial(t, wsURL(ts), graphqlTransportWS.name)
			c.initConn(graphqlTransportWS, "")
			c.subscribe(graphqlTransportWS, "1")
			if err := hub.waitActive(1, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			if tc.code == 0 {
				_ = c.NetConn().Close()
			} else {
				_ = c.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(tc.code, ""), time.Now().Add(time.Second))
			}
			// gqlgen reports 1000 to CloseFunc whatever the peer sent.
			if code := rec.waitClosed(t); code != websocket.CloseNormalClosure {
				t.Fatalf("CloseFunc code %d", code)
			}
			if err := hub.waitActive(0, 5*time.Second); err != nil {
				t.Fatal("subscription not torn down:", err)
			}
			var readErrs []error
			for _, err := range rec.errors() {
				var we transport.WebsocketError
				switch {
				case !errors.As(err, &we):
					t.Fatalf("ErrorFunc got %T %v", err, err)
				case we.IsReadError:
					readErrs = append(readErrs, err)
				case tc.code != 0:
					// After a close frame the adapter drops writes quietly.
					t.Fatalf("write error reported after a close frame: %v", err)
				}
			}
			if tc.wantErrFunc != (len(readErrs) > 0) {
				t.Fatalf("ErrorFunc read errors %v, want some: %v", readErrs, tc.wantErrFunc)
			}
		})
	}
}

// TestKeepAliveGraphqlWS: KeepAlivePingInterval sends "ka" on graphql-ws
// only; graphql-transport-ws gets nothing from it.
func TestKeepAliveGraphqlWS(t *testing.T) {
	rec := newRecorder()
	ws := baseWS(rec)
	ws.KeepAlivePingInterval = 20 * time.Millisecond
	ts, _ := startServer(t, ws)

	c := mustDial(t, wsURL(ts), graphqlWS.name)
	c.initConn(graphqlWS, "")
	for range 3 {
		c.expect("ka", "")
	}

	c2 := mustDial(t, wsURL(ts), graphqlTransportWS.name)
	c2.initConn(graphqlTransportWS, "")
	if m, err := c2.read(150 * time.Millisecond); err == nil {
		t.Fatalf("graphql-transport-ws got %s from KeepAlivePingInterval", m.Type)
	}
}

// TestPingPongGraphqlTransportWS: PingPongInterval sends {"type":"ping"}
// messages (JSON, not websocket control frames) and drops a client that
// stops answering with {"type":"pong"}.
func TestPingPongGraphqlTransportWS(t *testing.T) {
	rec := newRecorder()
	ws := baseWS(rec)
	const interval = 50 * time.Millisecond
	ws.PingPongInterval = interval
	ts, _ := startServer(t, ws)

	c := mustDial(t, wsURL(ts), graphqlTransportWS.name)
	c.initConn(graphqlTransportWS, "")

	// Answer pings for well over the 2*interval read deadline.
	start := time.Now()
	pings := 0
	for time.Since(start) < 8*interval {
		c.expect("ping", "")
		pings++
		c.send(msg{Type: "pong"})
	}
	if pings < 4 {
		t.Fatalf("only %d pings", pings)
	}

	// A client's protocol ping gets a protocol pong (with its payload).
	c.send(msg{Type: "ping", Payload: json.RawMessage(`{"n":1}`)})
	for {
		m := c.expect2("pong", "ping")
		if m.Type == "pong" {
			if string(m.Payload) != `{"n":1}` {
				t.Fatalf("pong payload %s", m.Payload)
			}
			break
		}
		c.send(msg{Type: "pong"})
	}

	// A websocket-level control ping gets a control pong (gorilla's default
	// ping handler, run while the transport reads).
	pong := make(chan string, 1)
	c.SetPongHandler(func(s string) error { pong <- s; return nil })
	if err := c.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	for got := ""; got == ""; {
		// Reading runs the pong handler; answer protocol pings meanwhile.
		m, err := c.read(2 * time.Second)
		if err != nil {
			t.Fatal("no control pong:", err)
		}
		if m.Type == "ping" {
			c.send(msg{Type: "pong"})
		}
		select {
		case got = <-pong:
			if got != "hi" {
				t.Fatalf("control pong %q", got)
			}
		default:
		}
	}

	// Stop answering: the read deadline (2*interval after a ping) expires,
	// the transport's read loop fails and it closes with 1000 "terminated".
	closedAt := time.Now()
	ce := c.expectClose(10 * interval * 4)
	if ce.Code != websocket.CloseNormalClosure || ce.Text != "terminated" {
		t.Fatalf("close %d %q", ce.Code, ce.Text)
	}
	if d := time.Since(closedAt); d > 8*interval {
		t.Fatalf("closed after %v", d)
	}
	// The deadline expiry is reported as a read error.
	rec.waitClosed(t)
	if len(rec.errors()) == 0 {
		t.Fatal("read timeout not reported to ErrorFunc")
	}
}

// expect2 reads the next message, which must be one of two types.
func (c *client) expect2(a, b string) msg {
	c.t.Helper()
	m, err := c.read(5 * time.Second)
	if err != nil {
		c.t.Fatalf("waiting for %s/%s: %v", a, b, err)
	}
	if m.Type != a && m.Type != b {
		c.t.Fatalf("got %s, want %s or %s", m.Type, a, b)
	}
	return m
}

// TestInitFuncError: gqlgen closes a refused connection_init with the code
// the InitFunc put in its returned context, 1000 by default.
func TestInitFuncError(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes: must be cut to fit a close frame
	cases := []struct {
		name       string
		ctx        func(context.Context) context.Context
		wantCode   int
		wantReason string
	}{
		{"plain error", func(ctx context.Context) context.Context { return ctx }, 1000, "terminated"},
		{"RejectInit", func(ctx context.Context) context.Context { return wsgorilla.RejectInit(ctx, "Forbidden") }, 4403, "Forbidden"},
		{"long reason", func(ctx context.Context) context.Context { return wsgorilla.RejectInit(ctx, long) }, 4403, long[:122]},
	}
	for _, p := range protocols {
		for _, tc := range cases {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				rec := newRecorder()
				ws := baseWS(rec)
				ws.InitFunc = func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
					return tc.ctx(ctx), nil, errors.New("bad token")
				}
				ts, _ := startServer(t, ws)
				c := mustDial(t, wsURL(ts), p.name)
				c.send(msg{Type: "connection_init", Payload: json.RawMessage(`{"token":"x"}`)})
				if p == graphqlWS {
					// Only the legacy protocol has connection_error.
					m := c.expect("connection_error", "")
					if string(m.Payload) != `{"message":"bad token"}` {
						t.Fatalf("connection_error payload %s", m.Payload)
					}
				}
				ce := c.expectClose(5 * time.Second)
				if ce.Code != tc.wantCode || ce.Text != tc.wantReason {
					t.Fatalf("close %d %q, want %d %q", ce.Code, ce.Text, tc.wantCode, tc.wantReason)
				}
				if code := rec.waitClosed(t); code != tc.wantCode {
					t.Fatalf("CloseFunc %d", code)
				}
			})
		}
	}
}

// TestInitTimeout: no connection_init within InitTimeout closes with 1002.
func TestInitTimeout(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec := newRecorder()
			ws := baseWS(rec)
			ws.InitTimeout = 100 * time.Millisecond
			ts, _ := startServer(t, ws)
			c := mustDial(t, wsURL(ts), p.name)
			start := time.Now()
			ce := c.expectClose(5 * time.Second)
			if ce.Code != websocket.CloseProtocolError || ce.Text != "connection initialisation timeout" {
				t.Fatalf("close %d %q", ce.Code, ce.Text)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("closed after %v", d)
			}
			if code := rec.waitClosed(t); code != websocket.CloseProtocolError {
				t.Fatalf("CloseFunc %d", code)
			}
		})
	}
}

// TestReadLimit: a message above PayloadReadLimit closes the connection with
// 1009 and the server carries on.
func TestReadLimit(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec := newRecorder()
			ws := baseWS(rec)
			limit := int64(1024)
			ws.PayloadReadLimit = &limit
			ts, hub := startServer(t, ws)

			c := mustDial(t, wsURL(ts), p.name)
			c.initConn(p, "")
			c.subscribe(p, "1")
			if err := hub.waitActive(1, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			big := `{"type":"` + p.subscribe + `","id":"2","payload":{"query":"` + strings.Repeat("x", 64<<10) + `"}}`
			_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			// The adapter half-closes after the 1009 frame rather than
			// resetting the connection under the client's write.
			if err := c.WriteMessage(websocket.TextMessage, []byte(big)); err != nil {
				t.Fatalf("client write: %v", err)
			}
			ce := c.expectClose(5 * time.Second)
			if ce.Code != websocket.CloseMessageTooBig {
				t.Fatalf("close %d %q, want 1009", ce.Code, ce.Text)
			}
			rec.waitClosed(t)
			if err := hub.waitActive(0, 5*time.Second); err != nil {
				t.Fatal("subscription not torn down:", err)
			}
			if errs := rec.errors(); len(errs) == 0 || !errors.Is(errs[0], websocket.ErrReadLimit) {
				t.Fatalf("ErrorFunc got %v, want ErrReadLimit", errs)
			}

			// A message just under the limit still works, and so does the server.
			c2 := mustDial(t, wsURL(ts), p.name)
			c2.initConn(p, "")
			q := `{"query":"{ hello }` + strings.Repeat(" ", 900) + `"}`
			c2.send(msg{Type: p.subscribe, ID: "1", Payload: json.RawMessage(q)})
			c2.expect(p.data, "1")
		})
	}
}

// TestOrigin: a disallowed Origin is refused at the handshake with 403.
func TestOrigin(t *testing.T) {
	t.Run("list", func(t *testing.T) {
		ws := baseWS(newRecorder())
		ws.Implementation = wsgorilla.New(wsgorilla.Options{
			CheckOrigin: wsgorilla.AllowOrigins([]string{"https://shop.example", "http://localhost:3000"}),
		})
		ts, _ := startServer(t, ws)
		for origin, ok := range map[string]bool{
			"https://shop.example":  true,
			"http://localhost:3000": true,
			"":                      true, // non-browser client
			"https://evil.example":  false,
			"http://shop.example":   false,
			"http://localhost:3001": false,
			"null":                  false,
			ts.URL:                  false, // same origin, but not listed
		} {
			checkHandshake(t, wsURL(ts), origin, ok)
		}
	})
	t.Run("same origin", func(t *testing.T) {
		ts, _ := startServer(t, baseWS(newRecorder())) // default CheckOrigin
		for origin, ok := range map[string]bool{
			ts.URL:                 true,
			"":                     true,
			"https://evil.example": false,
			"http://127.0.0.1:1":   false,
		} {
			checkHandshake(t, wsURL(ts), origin, ok)
		}
	})
}

func checkHandshake(t *testing.T, url, origin string, wantOK bool) {
	t.Helper()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	c, resp, err := dial(t, url, h, graphqlTransportWS.name)
	if wantOK {
		if err != nil {
			t.Fatalf("origin %q refused: %v", origin, err)
		}
		c.initConn(graphqlTransportWS, "")
		return
	}
	if err == nil {
		t.Fatalf("origin %q accepted", origin)
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("origin %q: want 403, got %v %v", origin, resp, err)
	}
}

// TestSubprotocolNegotiation: gqlgen passes [graphql-ws graphql-transport-ws]
// in that order and the server's order wins; Options.Subprotocols can put
// graphql-transport-ws first. No (or no known) subprotocol means legacy
// graphql-ws to gqlgen.
func TestSubprotocolNegotiation(t *testing.T) {
	both := []string{graphqlTransportWS.name, graphqlWS.name}
	cases := []struct {
		name    string
		prefer  []string
		offered []string
		want    string
	}{
		{"both, gqlgen order", nil, both, graphqlWS.name},
		{"both, preferred", []string{graphqlTransportWS.name}, both, graphqlTransportWS.name},
		{"none", nil, nil, ""},
		{"unknown", nil, []string{"mqtt"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := baseWS(newRecorder())
			ws.Implementation = wsgorilla.New(wsgorilla.Options{Subprotocols: tc.prefer})
			ts, _ := startServer(t, ws)
			c := mustDial(t, wsURL(ts), tc.offered...)
			if got := c.Subprotocol(); got != tc.want {
				t.Fatalf("negotiated %q, want %q", got, tc.want)
			}
			p := graphqlWS
			if tc.want == graphqlTransportWS.name {
				p = graphqlTransportWS
			}
			c.initConn(p, "")
		})
	}
}

// TestAcceptResponseHeader calls Accept directly: ResponseHeader is sent
// with the 101 response.
func TestAcceptResponseHeader(t *testing.T) {
	impl := wsgorilla.New(wsgorilla.Options{})
	done := make(chan error, 1)
	ts := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := impl.Accept(w, r, transport.WebsocketAcceptOptions{
			ResponseHeader: http.Header{"X-Test": {"yes"}},
			Subprotocols:   []string{"graphql-transport-ws"},
		})
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		done <- conn.WriteClose(4000, "done")
	}))
	c, resp, err := dial(t, wsURL(ts), nil, "graphql-transport-ws")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("X-Test") != "yes" || c.Subprotocol() != "graphql-transport-ws" {
		t.Fatalf("header %v, protocol %q", resp.Header, c.Subprotocol())
	}
	if ce := c.expectClose(5 * time.Second); ce.Code != 4000 || ce.Text != "done" {
		t.Fatalf("close %d %q", ce.Code, ce.Text)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentSubscriptions: many subscriptions on one connection, events
// published concurrently, plus keepalive/ping writers: every event arrives
// (and -race or gorilla's concurrent-write panic would catch unserialised
// writes).
func TestConcurrentSubscriptions(t *testing.T) {
	const subs, events = 50, 20
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec := newRecorder()
			ws := baseWS(rec)
			ws.KeepAlivePingInterval = time.Millisecond // graphql-ws
			ws.PingPongInterval = 5 * time.Millisecond  // graphql-transport-ws
			ws.MissingPongOk = true
			ts, hub := startServer(t, ws)
			c := mustDial(t, wsURL(ts), p.name)
			c.initConn(p, "")
			for i := range subs {
				c.subscribe(p, fmt.Sprint(i))
			}
			if err := hub.waitActive(subs, 5*time.Second); err != nil {
				t.Fatal(err)
			}

			var pub sync.WaitGroup
			for e := range events {
				pub.Add(1)
				go func() {
					defer pub.Done()
					if n := hub.publish(fmt.Sprint("e", e), 5*time.Second); n != subs {
						t.Errorf("event %d reached %d subscribers", e, n)
					}
				}()
			}

			got, _ := c.readEvents(t, p, subs*events)
			pub.Wait()
			for i := range subs {
				if n := got[fmt.Sprint(i)]; n != events {
					t.Fatalf("subscription %d got %d events", i, n)
				}
			}
			if errs := rec.errors(); len(errs) != 0 {
				t.Fatalf("ErrorFunc: %v", errs)
			}
		})
	}
}

// TestSlowReaderEvicted: a client that stops reading makes writes block; the
// write deadline fails the write, the adapter closes the connection and the
// transport tears its subscriptions down.
func TestSlowReaderEvicted(t *testing.T) {
	rec := newRecorder()
	ws := baseWS(rec)
	ws.Implementation = wsgorilla.New(wsgorilla.Options{WriteTimeout: 200 * time.Millisecond})
	ts, hub := startServer(t, ws)
	c := mustDial(t, wsURL(ts), graphqlTransportWS.name)
	c.initConn(graphqlTransportWS, "")
	c.subscribe(graphqlTransportWS, "1")
	if err := hub.waitActive(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// Never read again. Publish 64 KB events until the socket buffers fill.
	big := strings.Repeat("x", 64<<10)
	deadline := time.Now().Add(20 * time.Second)
	for hub.active() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("slow reader never evicted")
		}
		hub.publish(big, 50*time.Millisecond)
	}
	rec.waitClosed(t)
	var sawWriteErr bool
	for _, err := range rec.errors() {
		var we transport.WebsocketError
		if errors.As(err, &we) && !we.IsReadError {
			sawWriteErr = true
		}
	}
	if !sawWriteErr {
		t.Fatalf("no write error reported: %v", rec.errors())
	}
}

// TestAbandonedConnectionClosed: gqlgen returns from its handler without
// closing the connection when connection_init's payload is not a JSON object,
// and when it recovers a panic (e.g. an InitFunc returning a nil context with
// an error). The adapter closes such a connection with 1011 once the handler
// has returned (after the linger, shortened here).
func TestAbandonedConnectionClosed(t *testing.T) {
	nilCtx := func(context.Context, transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		return nil, nil, errors.New("no") // a nil context: gqlgen panics
	}
	cases := []struct {
		name     string
		initFunc transport.WebsocketInitFunc
		payload  string
	}{
		{"non-object init payload", nil, `[1]`},
		{"InitFunc nil context", nilCtx, `{}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := baseWS(newRecorder())
			ws.Implementation = wsgorilla.WithCloseLinger(wsgorilla.New(wsgorilla.Options{}), 100*time.Millisecond)
			ws.InitFunc = tc.initFunc
			ts, _ := startServer(t, ws, func(s *handler.Server) {
				// gqlgen's default prints the recovered panic's stack.
				s.SetRecoverFunc(func(context.Context, any) error { return errors.New("internal system error") })
			})
			c := mustDial(t, wsURL(ts), graphqlTransportWS.name)
			c.send(msg{Type: "connection_init", Payload: json.RawMessage(tc.payload)})
			ce := c.expectClose(5 * time.Second)
			if ce.Code != websocket.CloseInternalServerErr || ce.Text != "internal error" {
				t.Fatalf("close %d %q", ce.Code, ce.Text)
			}
		})
	}
}

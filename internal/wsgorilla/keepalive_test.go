package wsgorilla_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"

	"unionmall/internal/wsgorilla"
)

// TestKeepAliveLegacy: Options.KeepAlive sends "ka" on graphql-ws, again
// and again, to a client that never answers (graphql-ws has no answer to
// it), and leaves the connection open.
func TestKeepAliveLegacy(t *testing.T) {
	rec := newRecorder()
	ws := baseWS(rec)
	ws.Implementation = wsgorilla.New(wsgorilla.Options{KeepAlive: 10 * time.Millisecond})
	ts, _ := startServer(t, ws)

	c := mustDial(t, wsURL(ts), graphqlWS.name)
	c.initConn(graphqlWS, "") // the ack and gqlgen's own first "ka"
	for range 5 {
		c.expect("ka", "")
	}
	c.send(msg{Type: "start", ID: "1", Payload: []byte(`{"query":"{ hello }"}`)})
	c.expect("data", "1")
}

// TestKeepAlivePingPong: on graphql-transport-ws Options.KeepAlive sends
// {"type":"ping"}; a client that answers with pongs stays connected, one
// that stops is closed as by gqlgen's PingPongInterval: 1000
// "terminated", the read timeout reported to ErrorFunc.
func TestKeepAlivePingPong(t *testing.T) {
	rec := newRecorder()
	ws := baseWS(rec)
	// Long enough that a pong delayed by a busy machine is not two beats late.
	ws.Implementation = wsgorilla.New(wsgorilla.Options{KeepAlive: 50 * time.Millisecond})
	ts, _ := startServer(t, ws)

	c := mustDial(t, wsURL(ts), graphqlTransportWS.name)
	c.initConn(graphqlTransportWS, "")
	// Many more beats than the two a silent peer is allowed.
	for range 10 {
		c.expect("ping", "")
		c.send(msg{Type: "pong"})
	}
	c.send(msg{Type: "subscribe", ID: "q", Payload: []byte(`{"query":"{ hello }"}`)})
	for m := c.expect2("next", "ping"); m.Type != "next"; m = c.expect2("next", "ping") {
		c.send(msg{Type: "pong"})
	}

	// Stop answering: the next pings go unanswered, then the server closes.
	ce := c.expectClose(10 * time.Second)
	if ce.Code != websocket.CloseNormalClosure || ce.Text != "terminated" {
		t.Fatalf("close %d %q", ce.Code, ce.Text)
	}
	rec.waitClosed(t)
	if len(rec.errors()) == 0 {
		t.Fatal("read timeout not reported to ErrorFunc")
	}
}

// TestKeepAliveSilentFromStart: a graphql-transport-ws client that never
// sends anything after connection_init is closed too.
func TestKeepAliveSilentFromStart(t *testing.T) {
	rec := newRecorder()
	ws := baseWS(rec)
	ws.Implementation = wsgorilla.New(wsgorilla.Options{KeepAlive: 50 * time.Millisecond})
	ts, _ := startServer(t, ws)

	c := mustDial(t, wsURL(ts), graphqlTransportWS.name)
	c.initConn(graphqlTransportWS, "")
	if ce := c.expectClose(10 * time.Second); ce.Code != websocket.CloseNormalClosure {
		t.Fatalf("close %d %q", ce.Code, ce.Text)
	}
	rec.waitClosed(t)
}

// TestKeepAliveWithEvents: the keepalive's writes and the subscriptions'
// events share one connection under -race (gorilla panics on concurrent
// writes); every event arrives and nothing is reported. The client sends
// unsolicited pongs (graphql-transport-ws allows them) from a goroutine of
// its own, so that it never looks silent while it reads.
func TestKeepAliveWithEvents(t *testing.T) {
	const subs, events = 10, 100
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec := newRecorder()
			ws := baseWS(rec)
			// A transport-ws peer must look silent for two beats to be
			// closed: ten milliseconds of a read loop not scheduled.
			every := time.Millisecond
			if p == graphqlTransportWS {
				every = 5 * time.Millisecond
			}
			ws.Implementation = wsgorilla.New(wsgorilla.Options{KeepAlive: every})
			ts, hub := startServer(t, ws)
			c := mustDial(t, wsURL(ts), p.name)
			c.initConn(p, "")
			var wmu sync.Mutex // the client's writers
			send := func(m msg) {
				wmu.Lock()
				defer wmu.Unlock()
				c.send(m)
			}
			for i := range subs {
				send(msg{Type: p.subscribe, ID: fmt.Sprint(i), Payload: []byte(`{"query":"subscription { events }"}`)})
			}
			if err := hub.waitActive(subs, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			defer close(done)
			if p == graphqlTransportWS {
				go func() {
					tick := time.NewTicker(time.Millisecond / 2)
					defer tick.Stop()
					for {
						select {
						case <-done:
							return
						case <-tick.C:
							wmu.Lock()
							_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"pong"}`))
							wmu.Unlock()
						}
					}
				}()
			}
			// Events spread over some beats, two publishers at a time.
			var pub sync.WaitGroup
			for e := range events {
				pub.Add(1)
				go func() {
					defer pub.Done()
					time.Sleep(time.Duration(e/2) * time.Millisecond / 2)
					hub.publish(fmt.Sprint("e", e), 5*time.Second)
				}()
			}
			_, beats := c.readEvents(t, p, subs*events)
			pub.Wait()
			if errs := rec.errors(); len(errs) != 0 {
				t.Fatalf("ErrorFunc: %v", errs)
			}
			t.Logf("%d beats among the events", beats)
		})
	}
}

// TestKeepAliveAckWithPayload: an InitFunc that answers with an ack
// payload ({"type":"connection_ack","payload":{…}}) starts the keepalive
// too.
func TestKeepAliveAckWithPayload(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec := newRecorder()
			ws := baseWS(rec)
			ws.Implementation = wsgorilla.New(wsgorilla.Options{KeepAlive: 10 * time.Millisecond})
			ws.InitFunc = func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
				return ctx, &transport.InitPayload{"server": "mall"}, nil
			}
			ts, _ := startServer(t, ws)
			c := mustDial(t, wsURL(ts), p.name)
			c.initConn(p, "")
			beat := "ka"
			if p == graphqlTransportWS {
				beat = "ping"
			}
			c.expect(beat, "")
		})
	}
}

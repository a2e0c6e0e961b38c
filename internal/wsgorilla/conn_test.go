package wsgorilla_test

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"

	"unionmall/internal/wsgorilla"
)

// acceptServer serves one handler per test that gets the adapter's conn.
func acceptServer(t *testing.T, impl transport.WebsocketImplementation, fn func(transport.WebsocketConn)) string {
	t.Helper()
	ts := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := impl.Accept(w, r, transport.WebsocketAcceptOptions{
			ResponseHeader: http.Header{},
			Subprotocols:   []string{"graphql-ws", "graphql-transport-ws"},
		})
		if err != nil {
			return
		}
		fn(c)
	}))
	return wsURL(ts)
}

// TestConnConcurrentWrites exercises the adapter's own write lock, without
// gqlgen's (which already serialises its writes).
func TestConnConcurrentWrites(t *testing.T) {
	const writers, each = 10, 100
	done := make(chan error, 1)
	url := acceptServer(t, wsgorilla.New(wsgorilla.Options{}), func(c transport.WebsocketConn) {
		defer c.Close()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					if err := c.WriteJSON(msg{Type: "next", ID: string(rune('a' + w)), Payload: []byte{'0' + byte(i%10)}}); err != nil {
						mu.Lock()
						firstErr = errors.Join(firstErr, err)
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		done <- firstErr
		_, _, _ = c.NextReader() // until the client closes
	})
	c := mustDial(t, url, "graphql-transport-ws")
	for n := 0; n < writers*each; n++ {
		if _, err := c.read(5 * time.Second); err != nil {
			t.Fatalf("after %d messages: %v", n, err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestConnAfterPeerClose: the peer's close frame ends reads with
// ErrWebsocketClosed; later data writes are dropped, a second close frame is
// refused, and Close releases the socket at once (no linger).
func TestConnAfterPeerClose(t *testing.T) {
	type result struct {
		data                        string
		readErr, writeErr, closeErr error
	}
	res := make(chan result, 1)
	url := acceptServer(t, wsgorilla.New(wsgorilla.Options{}), func(c transport.WebsocketConn) {
		var r result
		if _, rd, err := c.NextReader(); err == nil {
			b, _ := io.ReadAll(rd)
			r.data = string(b)
		}
		_, _, r.readErr = c.NextReader()
		r.writeErr = c.WriteJSON(msg{Type: "complete", ID: "1"})
		r.closeErr = c.WriteClose(1000, "terminated")
		_ = c.Close()
		res <- r
	})
	c := mustDial(t, url, "graphql-transport-ws")
	c.sendRaw(`{"type":"ping"}`)
	_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), time.Now().Add(time.Second))
	start := time.Now()
	ce := c.expectClose(5 * time.Second)
	if ce.Code != websocket.CloseGoingAway { // gorilla echoes the code
		t.Fatalf("echo %d", ce.Code)
	}
	r := <-res
	if r.data != `{"type":"ping"}` || !errors.Is(r.readErr, transport.ErrWebsocketClosed) ||
		r.writeErr != nil || !errors.Is(r.closeErr, websocket.ErrCloseSent) {
		t.Fatalf("%+v", r)
	}
	// The socket is closed, not lingering: the next read sees EOF at once.
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := c.NetConn().Read(make([]byte, 1)); err == nil || time.Since(start) > time.Second {
		t.Fatalf("socket still open after %v: %v", time.Since(start), err)
	}
}

// TestConnReadDeadline: an expired read deadline fails the read (gqlgen's
// PingPongInterval relies on it).
func TestConnReadDeadline(t *testing.T) {
	res := make(chan error, 1)
	url := acceptServer(t, wsgorilla.New(wsgorilla.Options{}), func(c transport.WebsocketConn) {
		defer c.Close()
		_ = c.(transport.WebsocketReadDeadliner).SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, _, err := c.NextReader()
		res <- err
	})
	mustDial(t, url, "graphql-transport-ws")
	select {
	case err := <-res:
		var ne interface{ Timeout() bool }
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("want a timeout, got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("read deadline not enforced")
	}
}

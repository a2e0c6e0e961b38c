package wsgorilla_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"unionmall/internal/wsgorilla"
)

// TestDetach checks that a detached websocket outlives net/http's handler
// call with its context intact, that its context ends when the handler
// returns, and that refused upgrades and other requests are served as
// without Detach.
func TestDetach(t *testing.T) {
	// call is one request as the test sees it.
	type call struct {
		netHTTPCtx context.Context      // what net/http gave the outermost handler
		handlerCtx chan context.Context // what the wrapped handler saw
		returned   chan struct{}        // the outermost handler returned to net/http
		done       chan struct{}        // the wrapped handler returned
	}
	type key struct{}
	calls := make(chan *call, 1)
	var upgrader websocket.Upgrader
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := r.Context().Value(key{}).(*call)
		defer close(c.done)
		c.handlerCtx <- r.Context()
		if r.URL.Query().Get("refuse") != "" {
			http.Error(w, "refused", http.StatusForbidden)
			return
		}
		if r.Header.Get("Upgrade") == "" {
			_, _ = io.WriteString(w, "plain")
			return
		}
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for { // echo until the client goes
			typ, p, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if err := ws.WriteMessage(typ, p); err != nil {
				return
			}
		}
	})
	detached := wsgorilla.Detach(inner)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{netHTTPCtx: r.Context(), handlerCtx: make(chan context.Context, 1),
			returned: make(chan struct{}), done: make(chan struct{})}
		calls <- c
		defer close(c.returned)
		detached.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), key{}, c)))
	}))
	t.Cleanup(srv.Close)
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http")

	wait := func(t *testing.T, ch <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s did not happen", what)
		}
	}
	next := func(t *testing.T) (*call, context.Context) {
		t.Helper()
		select {
		case c := <-calls:
			select {
			case ctx := <-c.handlerCtx:
				return c, ctx
			case <-time.After(5 * time.Second):
			}
		case <-time.After(5 * time.Second):
		}
		t.Fatal("no request reached the handler")
		return nil, nil
	}

	t.Run("websocket outlives the net/http call", func(t *testing.T) {
		ws, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		c, ctx := next(t)
		wait(t, c.returned, "the return to net/http")
		wait(t, c.netHTTPCtx.Done(), "net/http cancelling its request context")
		// The websocket still works, and its handler's context is alive.
		if err := ws.WriteMessage(websocket.TextMessage, []byte("ping")); err != nil {
			t.Fatal(err)
		}
		if _, p, err := ws.ReadMessage(); err != nil || string(p) != "ping" {
			t.Fatalf("echo: %q, %v", p, err)
		}
		if err := ctx.Err(); err != nil {
			t.Fatalf("the handler's context ended while its websocket is open: %v", err)
		}
		if ctx.Value(key{}) != c {
			t.Fatal("the handler's context lost its values")
		}
		ws.Close()
		wait(t, c.done, "the handler's return after the client left")
		wait(t, ctx.Done(), "the handler's context ending")
	})
	t.Run("refused upgrade", func(t *testing.T) {
		_, resp, err := websocket.DefaultDialer.Dial(wsURL+"?refuse=1", nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("response %v, error %v; want 403", resp, err)
		}
		c, _ := next(t)
		wait(t, c.done, "the handler's return")
		wait(t, c.returned, "the return to net/http")
	})
	t.Run("plain request passes through", func(t *testing.T) {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "plain" {
			t.Fatalf("body %q", b)
		}
		c, ctx := next(t)
		if ctx.Value(key{}) != c || ctx.Done() == nil {
			t.Fatal("wrong context")
		}
		wait(t, c.returned, "the return to net/http")
		wait(t, ctx.Done(), "net/http cancelling the plain request's context")
	})
}

// TestDetachClosesAbandoned: served through Detach, a connection gqlgen's
// handler returned from without closing (a connection_init payload that is
// not a JSON object) is closed with 1011 after the linger, as without it.
func TestDetachClosesAbandoned(t *testing.T) {
	ws := baseWS(newRecorder())
	ws.Implementation = wsgorilla.WithCloseLinger(wsgorilla.New(wsgorilla.Options{}), 100*time.Millisecond)
	srv, _ := newGQLServer(ws)
	ts := httptest.NewServer(wsgorilla.Detach(srv))
	t.Cleanup(ts.Close)
	c := mustDial(t, "ws"+strings.TrimPrefix(ts.URL, "http")+"/query", graphqlTransportWS.name)
	c.send(msg{Type: "connection_init", Payload: json.RawMessage(`[1]`)})
	ce := c.expectClose(5 * time.Second)
	if ce.Code != websocket.CloseInternalServerErr || ce.Text != "internal error" {
		t.Fatalf("close %d %q", ce.Code, ce.Text)
	}
}

// TestDetachRecovers: a handler that panics on its detached goroutine
// neither ends the process nor leaves the request unanswered.
func TestDetachRecovers(t *testing.T) {
	h := wsgorilla.Detach(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	_, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http"), nil)
	if err == nil || res == nil || res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("dial: %v, %v", res, err)
	}
}

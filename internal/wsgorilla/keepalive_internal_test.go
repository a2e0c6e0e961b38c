package wsgorilla

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// A pong read just as the second quiet beat moves the read deadline to
// now makes the transport clear that deadline (gqlgen does on every pong):
// the keepalive must still beat afterwards, or the connection has none
// for the rest of its life. The timer is driven by hand (Stop, then call
// its function) so the interleaving is exact.
func TestKeepAliveSurvivesAPongRacingTheDeadline(t *testing.T) {
	impl := New(Options{KeepAlive: time.Hour})
	accepted := make(chan *conn, 1)
	done := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wc, err := impl.Accept(w, r, transport.WebsocketAcceptOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Error(err)
			return
		}
		accepted <- wc.(*conn)
		<-done
	}))
	defer ts.Close()
	defer close(done)
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
	client, _, err := d.Dial("ws"+strings.TrimPrefix(ts.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c := <-accepted
	defer c.Close()
	if err := c.WriteJSON(map[string]string{"type": "connection_ack"}); err != nil {
		t.Fatal(err)
	}
	fire := func() { // the timer fires
		c.beat.Load().Stop()
		c.heartbeat()
	}
	armed := func() bool { return c.beat.Load().Stop() }
	fire()
	if !armed() {
		t.Fatal("the first quiet beat did not arm the next")
	}
	fire()                             // the second quiet beat: the read deadline moves to now
	c.reads.Add(1)                     // ... as a pong is read,
	_ = c.SetReadDeadline(time.Time{}) // which the transport then clears
	if !armed() {
		t.Fatal("after the pong the keepalive no longer beats")
	}
}

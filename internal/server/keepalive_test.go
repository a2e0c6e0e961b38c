package server_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"unionmall/internal/server"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// The websocket keepalive through the real handler (wsgorilla's
// Options.KeepAlive): a graphql-transport-ws client that answers the
// server's pings stays connected for many beats, one that stops answering
// is closed with 1000 "terminated"; a graphql-ws client gets "ka" and,
// having nothing to answer, stays connected. Not parallel: it changes the
// interval of the servers it creates.
func TestWebsocketKeepAlive(t *testing.T) {
	defer server.SetWebsocketKeepAlive(50 * time.Millisecond)()
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		const beats = 6 // three times the two a silent peer is allowed
		const query = `{ __typename }`

		live, err := servertest.DialWS(m.HTTP.URL, servertest.TransportWS, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer live.Close()
		for range beats {
			if typ := rawType(t, live.Conn); typ != "ping" {
				t.Fatalf("live peer got %q, want ping", typ)
			}
			if err := live.Conn.WriteJSON(map[string]string{"type": "pong"}); err != nil {
				t.Fatal(err)
			}
		}
		if r, err := live.Do(query, nil); err != nil || len(r.Errors) != 0 {
			t.Fatalf("live peer after %d beats: %+v %v", beats, r, err)
		}

		legacy, err := servertest.DialWS(m.HTTP.URL, servertest.LegacyWS, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer legacy.Close()
		for range beats {
			if typ := rawType(t, legacy.Conn); typ != "ka" {
				t.Fatalf("graphql-ws peer got %q, want ka", typ)
			}
		}
		if r, err := legacy.Do(query, nil); err != nil || len(r.Errors) != 0 {
			t.Fatalf("graphql-ws peer after %d beats: %+v %v", beats, r, err)
		}

		dead, err := servertest.DialWS(m.HTTP.URL, servertest.TransportWS, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer dead.Close()
		pings := 0
		for {
			_ = dead.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, data, err := dead.Conn.ReadMessage()
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				if ce.Code != websocket.CloseNormalClosure || ce.Text != "terminated" || pings == 0 {
					t.Fatalf("silent peer: close %d %q after %d pings", ce.Code, ce.Text, pings)
				}
				break
			}
			if err != nil {
				t.Fatalf("silent peer: %v, want a close frame", err)
			}
			if string(data) != `{"type":"ping"}` {
				t.Fatalf("silent peer got %s", data)
			}
			pings++
		}
	})
}

// rawType reads one message without answering it and returns its type.
func rawType(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var m struct{ Type string }
	_, data, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	return m.Type
}

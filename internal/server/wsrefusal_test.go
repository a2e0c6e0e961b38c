package server_test

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A refused websocket upgrade gets one response and logs nothing: neither
// net/http's "superfluous response.WriteHeader" (server ErrorLog) nor
// gqlgen's "unable to upgrade" (the standard logger). Not parallel: it
// captures the standard logger.
func TestRefusedUpgradeWritesOneResponse(t *testing.T) {
	d := testdb.Open(t, "sqlite") // transport behaviour: one database kind is enough
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true, AllowedOrigins: []string{"https://shop.example.org"}})
	var errorLog, stdLog syncBuffer
	ts := httptest.NewUnstartedServer(m.Server.Handler)
	ts.Config.ErrorLog = log.New(&errorLog, "", 0)
	ts.Start()
	defer ts.Close()
	defer func(w io.Writer) { log.SetOutput(w) }(log.Writer())
	log.SetOutput(&stdLog)

	upgrade := func(origin, key string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/graphql", nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Protocol", "graphql-transport-ws")
		if key != "" {
			req.Header.Set("Sec-WebSocket-Key", key)
		}
		req.Header.Set("Origin", origin)
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	code, body := upgrade("https://evil.example", "dGhlIHNhbXBsZSBub25jZQ==")
	if code != http.StatusForbidden || strings.Contains(body, "unable to upgrade") {
		t.Errorf("refused origin: %d %q", code, body)
	}
	if s := stdLog.String(); s != "" {
		t.Errorf("a refused origin was logged: %s", s)
	}
	// A malformed handshake (no key) that gorilla refuses itself: its 400
	// is the only response (gqlgen still logs the refusal once).
	code, body = upgrade("https://shop.example.org", "")
	if code != http.StatusBadRequest || body != "Bad Request\n" {
		t.Errorf("malformed handshake: %d %q", code, body)
	}
	ts.Close() // waits for the handlers, so their logs are in
	if s := errorLog.String(); s != "" {
		t.Errorf("server ErrorLog: %s", s)
	}
}

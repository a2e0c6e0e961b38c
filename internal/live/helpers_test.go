package live_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"unionmall/internal/gid"
	"unionmall/internal/servertest"
)

// liveSale creates (through m) a live event running now and a flash sale
// of qty units of the oil in it, limit one per member.
func liveSale(t *testing.T, m *servertest.Mall, qty int) (eventID, saleID string) {
	t.Helper()
	return servertest.LiveSale(t, m, servertest.OilProduct(t, m, qty+100), qty)
}

func buy(t *testing.T, m *servertest.Mall, token, sale string) {
	t.Helper()
	servertest.BuyFlash(t, m, token, sale)
}

// unknownEvent is a well-formed live event ID that names nothing.
var unknownEvent = string(gid.LiveEvent) + "_01JD0000000000000000000000"

// sseStream is one graphql-sse stream (distinct connections mode) read as
// a plain client would: a POST that accepts text/event-stream.
type sseStream struct {
	resp   *http.Response
	events chan sseEvent
	cancel context.CancelFunc
}

type sseEvent struct {
	Event, Data string
	Comments    int // comment lines (keepalives) before this event
}

func openSSE(t *testing.T, url, token, query string, vars map[string]any) *sseStream {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, "text/event-stream") {
		cancel()
		t.Fatalf("status %d, content type %q", resp.StatusCode, ct)
	}
	s := &sseStream{resp: resp, events: make(chan sseEvent, 64), cancel: cancel}
	go func() {
		defer close(s.events)
		r := bufio.NewReader(resp.Body)
		var ev sseEvent
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			switch {
			case line == "":
				if ev.Event != "" || ev.Data != "" {
					s.events <- ev
					ev = sseEvent{}
				}
			case strings.HasPrefix(line, ":"):
				ev.Comments++
			case strings.HasPrefix(line, "event:"):
				ev.Event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				ev.Data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
			}
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *sseStream) close() { s.cancel(); _ = s.resp.Body.Close() }

var errStreamEnded = errors.New("stream ended")

// next is the next event, failing after timeout.
func (s *sseStream) next(t *testing.T, timeout time.Duration) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatal(errStreamEnded)
		}
		return ev
	case <-time.After(timeout):
		t.Fatalf("no event within %s", timeout)
	}
	return sseEvent{}
}

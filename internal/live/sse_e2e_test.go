package live_test

import (
	"encoding/json"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// Server-sent events (graphql-sse, distinct connections mode) beside the
// websockets: a POST to /graphql with Accept: text/event-stream gets the
// current state at once, each change as "event: next", and "event:
// complete" when the operation ends.
func TestSSE(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		_, sale := liveSale(t, m, 50)
		buyers := m.BulkVerified(3)

		type stock struct {
			FlashSaleStock struct {
				Sold      int
				FlashSale struct {
					ID   string
					Sold int
				}
			}
		}
		waitSold := func(s *sseStream, sold int) {
			t.Helper()
			for {
				ev := s.next(t, 3*time.Second)
				if ev.Event != "next" {
					t.Fatalf("event %q before sold=%d", ev.Event, sold)
				}
				var r struct {
					Data   stock
					Errors []any
				}
				if err := json.Unmarshal([]byte(ev.Data), &r); err != nil || len(r.Errors) > 0 {
					t.Fatalf("%s: %v", ev.Data, err)
				}
				if r.Data.FlashSaleStock.FlashSale.ID != sale || r.Data.FlashSaleStock.FlashSale.Sold != r.Data.FlashSaleStock.Sold {
					t.Fatalf("nested sale %+v", r.Data)
				}
				if r.Data.FlashSaleStock.Sold == sold {
					return
				}
			}
		}

		t.Run("flashSaleStock", func(t *testing.T) {
			s := openSSE(t, m.HTTP.URL, "", `subscription($id: ID!) { flashSaleStock(flashSaleID: $id) { sold flashSale { id sold } } }`,
				map[string]any{"id": sale})
			waitSold(s, 0) // at once
			buy(t, m, buyers[0].Token, sale)
			waitSold(s, 1)
			buy(t, m, buyers[1].Token, sale)
			waitSold(s, 2)
		})

		t.Run("a query: next, then complete", func(t *testing.T) {
			s := openSSE(t, m.HTTP.URL, buyers[2].Token, `{ me { id } }`, nil)
			ev := s.next(t, 3*time.Second)
			var r struct {
				Data struct{ Me struct{ ID string } }
			}
			if err := json.Unmarshal([]byte(ev.Data), &r); ev.Event != "next" || err != nil || r.Data.Me.ID != buyers[2].ID {
				t.Fatalf("%+v (the Authorization header signs the stream in)", ev)
			}
			if ev := s.next(t, 3*time.Second); ev.Event != "complete" {
				t.Fatalf("%+v, want complete", ev)
			}
		})

		t.Run("unknown event: NOT_FOUND, then complete", func(t *testing.T) {
			s := openSSE(t, m.HTTP.URL, "", `subscription($id: ID!) { liveEventFeed(liveEventID: $id) { liveEventID } }`,
				map[string]any{"id": unknownEvent})
			ev := s.next(t, 3*time.Second)
			var r servertest.Result
			if err := json.Unmarshal([]byte(ev.Data), &r); ev.Event != "next" || err != nil || r.Code() != "NOT_FOUND" {
				t.Fatalf("%+v", ev)
			}
			if ev := s.next(t, 3*time.Second); ev.Event != "complete" {
				t.Fatalf("%+v, want complete", ev)
			}
		})
	})
}

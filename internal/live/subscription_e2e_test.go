package live_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

func TestSubscriptions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		oil := servertest.OilProduct(t, m, 1000)
		now := time.Now().UTC()
		var ev struct{ CreateLiveEvent struct{ ID string } }
		servertest.MustDo(t, m, m.Admin, `mutation($i: CreateLiveEventInput!) { createLiveEvent(input: $i) { id } }`,
			map[string]any{"i": map[string]any{"title": "一元秒杀", "startsAt": now.Add(-time.Minute).Format(time.RFC3339),
				"endsAt": now.Add(time.Hour).Format(time.RFC3339)}}, &ev)
		var created struct{ CreateFlashSale struct{ ID string } }
		servertest.MustDo(t, m, m.Admin, `mutation($i: CreateFlashSaleInput!) { createFlashSale(input: $i) { id } }`,
			map[string]any{"i": map[string]any{"productID": oil, "price": "1", "quantity": 500, "perMemberLimit": 1,
				"startsAt": now.Add(-time.Second).Format(time.RFC3339Nano), "endsAt": now.Add(time.Hour).Format(time.RFC3339),
				"liveEventID": ev.CreateLiveEvent.ID}}, &created)
		sale := created.CreateFlashSale.ID
		buyers := m.BulkVerified(60)
		bought := 0
		buy := func(n int) {
			for range n {
				servertest.MustDo(t, m, buyers[bought].Token, `mutation($s: ID!) { buyFlashSale(input: {flashSaleID: $s}) { id } }`,
					map[string]any{"s": sale}, nil)
				bought++
			}
		}

		for _, proto := range []string{servertest.TransportWS, servertest.LegacyWS} {
			t.Run(proto, func(t *testing.T) {
				ws := servertest.WatchStock(t, m.HTTP.URL, proto, nil, sale)
				// The current state at once.
				s := servertest.WaitSold(t, ws, bought, 2*time.Second)
				if s.FlashSaleStock.Quantity != 500 || s.FlashSaleStock.Remaining != 500-bought || s.FlashSaleStock.Status != "ACTIVE" {
					t.Fatalf("initial %+v", s)
				}
				// Then each change; a burst ends on its final state.
				buy(1)
				servertest.WaitSold(t, ws, bought, 2*time.Second)
				buy(20)
				servertest.WaitSold(t, ws, bought, 2*time.Second)

				if _, err := ws.Subscribe(`subscription($id: ID!) { liveEventCounters(liveEventID: $id) {
					liveEventID orders unitsSold gmv flashSales { flashSaleID sold } } }`,
					map[string]any{"id": ev.CreateLiveEvent.ID}); err != nil {
					t.Fatal(err)
				}
				for {
					_, r, err := ws.Next(2 * time.Second)
					if err != nil {
						t.Fatal(err)
					}
					var c struct {
						LiveEventCounters *struct {
							Orders, UnitsSold int
							Gmv               string
						}
					}
					_ = json.Unmarshal(r.Data, &c)
					if c.LiveEventCounters != nil {
						if c.LiveEventCounters.Orders != bought || c.LiveEventCounters.UnitsSold != bought ||
							c.LiveEventCounters.Gmv != fmt.Sprintf("%d.00", bought) {
							t.Fatalf("counters %+v, bought %d", c.LiveEventCounters, bought)
						}
						break
					}
				}
			})
		}

		t.Run("unknown sale", func(t *testing.T) {
			ws, err := servertest.DialWS(m.HTTP.URL, servertest.TransportWS, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			_, _ = ws.Subscribe(servertest.StockSub, map[string]any{"id": "fls_01JD0000000000000000000000"})
			_, r, err := ws.Next(2 * time.Second)
			if err != nil || len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "NOT_FOUND" {
				t.Fatalf("unknown sale: %+v %v", r, err)
			}
		})

		t.Run("a signed-in connection", func(t *testing.T) {
			ws, err := servertest.DialWS(m.HTTP.URL, servertest.TransportWS, map[string]any{"Authorization": "Bearer " + m.Admin})
			if err != nil {
				t.Fatal(err)
			}
			ws.Close()
		})

		for _, proto := range []string{servertest.TransportWS, servertest.LegacyWS} {
			t.Run("a bad token closes with 4403/"+proto, func(t *testing.T) {
				_, err := servertest.DialWS(m.HTTP.URL, proto, map[string]any{"authorization": "Bearer mall_not-a-token"})
				var ce *websocket.CloseError
				if proto == servertest.LegacyWS && err != nil && !errors.As(err, &ce) {
					return // the legacy protocol reports connection_error first
				}
				if !errors.As(err, &ce) || ce.Code != 4403 {
					t.Fatalf("got %v, want close 4403", err)
				}
			})
		}

		t.Run("at most 100 subscriptions per connection", func(t *testing.T) {
			ws, err := servertest.DialWS(m.HTTP.URL, servertest.TransportWS, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			for range 101 {
				if _, err := ws.Subscribe(servertest.StockSub, map[string]any{"id": sale}); err != nil {
					t.Fatal(err)
				}
			}
			if c := ws.FirstErrorCode(t, 3*time.Second); c != "TOO_MANY_SUBSCRIPTIONS" {
				t.Fatalf("code %q, want TOO_MANY_SUBSCRIPTIONS", c)
			}
		})
	})
}

// Changes committed through one instance reach subscribers on another that
// shares the PostgreSQL database; after the listening connection is cut
// and comes back, subscribers get the current state again.
func TestSubscriptionsAcrossInstances(t *testing.T) {
	d := testdb.Open(t, "postgres")
	a := servertest.Start(t, d, servertest.Options{})
	b := servertest.Start(t, d, servertest.Options{})
	oil := servertest.OilProduct(t, a, 1000)
	now := time.Now().UTC()
	sale := servertest.CreateSale(t, a, oil, "1", 100, 1, now.Add(-time.Second), now.Add(time.Hour))
	buyers := a.BulkVerified(10)

	ws := servertest.WatchStock(t, b.HTTP.URL, servertest.TransportWS, nil, sale.ID)
	servertest.WaitSold(t, ws, 0, 2*time.Second)
	time.Sleep(300 * time.Millisecond) // both listeners are up by now
	servertest.MustDo(t, a, buyers[0].Token, `mutation($s: ID!) { buyFlashSale(input: {flashSaleID: $s}) { id } }`, map[string]any{"s": sale.ID}, nil)
	servertest.WaitSold(t, ws, 1, 3*time.Second)

	// Cut every LISTEN connection of this database; while they are gone,
	// sell through instance a. Once back, b's subscriber sees sold = 3.
	cut := d.Int(t, `SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query ILIKE 'listen%' AND pid <> pg_backend_pid()) x`)
	if cut < 2 {
		t.Fatalf("cut %d listening connections, want both instances'", cut)
	}
	for _, bu := range buyers[1:3] {
		servertest.MustDo(t, a, bu.Token, `mutation($s: ID!) { buyFlashSale(input: {flashSaleID: $s}) { id } }`, map[string]any{"s": sale.ID}, nil)
	}
	servertest.WaitSold(t, ws, 3, 8*time.Second)
}

// A logout through one instance ends the token on the others within a
// moment, though they had it cached.
func TestLogoutReachesOtherInstances(t *testing.T) {
	d := testdb.Open(t, "postgres")
	a := servertest.Start(t, d, servertest.Options{})
	b := servertest.Start(t, d, servertest.Options{})
	mem := a.Register("退出")
	var me struct{ Me *struct{ ID string } }
	servertest.MustDo(t, b, mem.Token, `{ me { id } }`, nil, &me) // b caches the token
	if me.Me == nil {
		t.Fatal("b does not know the token")
	}
	time.Sleep(300 * time.Millisecond) // both listeners are up
	servertest.MustDo(t, a, mem.Token, `mutation { logout }`, nil, nil)
	deadline := time.Now().Add(3 * time.Second)
	for {
		servertest.MustDo(t, b, mem.Token, `{ me { id } }`, nil, &me)
		if me.Me == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the other instance still accepts the token 3 s after logout")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

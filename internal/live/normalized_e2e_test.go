package live_test

import (
	"encoding/json"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// A push carries the normalized objects (FlashSale, LiveEvent) with the
// snapshot's values, and costs no statement per subscriber: with many
// subscribers to the stock, the counters and the ticker, a purchase and its
// pushes cost fewer statements than there are subscribers.
func TestNormalizedPushesCostNoReadPerSubscriber(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		counted, counter := d.Counted()
		// Workers on: they listen for the other instance's changes.
		m := servertest.Start(t, d, servertest.Options{DB: counted})
		// On PostgreSQL the purchases go through another instance (the
		// counting driver cannot run the batch's raw statements), so the
		// pushes arrive as they would from a peer and the count is theirs.
		shop := m
		if d.Dialect == "postgres" {
			shop = servertest.Start(t, d, servertest.Options{})
		}
		event, sale := liveSale(t, m, 100)
		buyers := shop.BulkVerified(2)

		docs := []string{
			`subscription($id: ID!) { flashSaleStock(flashSaleID: $id) { sold remaining status flashSale { id sold remaining status quantity } } }`,
			`subscription($id: ID!) { liveEventCounters(liveEventID: $id) { unitsSold liveEvent { id title } flashSales { sold flashSale { id sold } } } }`,
			`subscription($id: ID!) { liveEventFeed(liveEventID: $id) { liveEvent { id } purchases { quantity productName } } }`,
		}
		const perDoc = 25
		type sub struct {
			ws   *servertest.WS
			kind int
		}
		var subs []sub
		for i := range 3 * perDoc {
			ws, err := servertest.DialWS(m.HTTP.URL, servertest.TransportWS, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(ws.Close)
			id := sale
			if i%3 != 0 {
				id = event
			}
			if _, err := ws.Subscribe(docs[i%3], map[string]any{"id": id}); err != nil {
				t.Fatal(err)
			}
			subs = append(subs, sub{ws, i % 3})
		}
		// check reads a subscriber's events until it shows sold units,
		// asserting the nested objects agree with the snapshot.
		check := func(s sub, sold int) {
			t.Helper()
			for {
				_, r, err := s.ws.Next(3 * time.Second)
				if err != nil {
					t.Fatalf("kind %d waiting for %d: %v", s.kind, sold, err)
				}
				if len(r.Errors) > 0 {
					t.Fatal(r.Errors)
				}
				var ev struct {
					FlashSaleStock *struct {
						Sold, Remaining int
						Status          string
						FlashSale       struct {
							ID                        string
							Sold, Remaining, Quantity int
							Status                    string
						}
					}
					LiveEventCounters *struct {
						UnitsSold  int
						LiveEvent  struct{ ID, Title string }
						FlashSales []struct {
							Sold      int
							FlashSale struct {
								ID   string
								Sold int
							}
						}
					}
					LiveEventFeed *struct {
						LiveEvent struct{ ID string }
						Purchases []struct {
							Quantity    int
							ProductName string
						}
					}
				}
				if err := json.Unmarshal(r.Data, &ev); err != nil {
					t.Fatal(err)
				}
				got := -1
				switch {
				case ev.FlashSaleStock != nil:
					s, f := ev.FlashSaleStock, ev.FlashSaleStock.FlashSale
					if f.ID != sale || f.Sold != s.Sold || f.Remaining != s.Remaining || f.Status != s.Status || f.Quantity != 100 || s.Status != "ACTIVE" {
						t.Fatalf("stock %+v", s)
					}
					got = s.Sold
				case ev.LiveEventCounters != nil:
					c := ev.LiveEventCounters
					if c.LiveEvent.ID != event || c.LiveEvent.Title != "一元秒杀" || len(c.FlashSales) != 1 ||
						c.FlashSales[0].FlashSale.ID != sale || c.FlashSales[0].FlashSale.Sold != c.FlashSales[0].Sold {
						t.Fatalf("counters %+v", c)
					}
					got = c.UnitsSold
				case ev.LiveEventFeed != nil:
					f := ev.LiveEventFeed
					if f.LiveEvent.ID != event {
						t.Fatalf("feed %+v", f)
					}
					got = len(f.Purchases)
				}
				if got == sold {
					return
				}
			}
		}
		for _, s := range subs {
			check(s, 0)
		}
		if shop != m {
			time.Sleep(300 * time.Millisecond) // both listeners are up (as in TestSubscriptionsAcrossInstances)
		}
		for round := 1; round <= 2; round++ {
			counter.Reset()
			buy(t, shop, buyers[round-1].Token, sale)
			for _, s := range subs {
				check(s, round)
			}
			n := counter.Count()
			t.Logf("round %d: %d statements on the subscribers' instance for a purchase and its pushes to %d subscribers", round, n, len(subs))
			if n >= perDoc {
				t.Fatalf("%d statements for a purchase pushed to %d subscribers of each feed: a read per subscriber?", n, perDoc)
			}
		}
	})
}

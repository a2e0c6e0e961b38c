package live_test

import (
	"encoding/json"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

const buyersSub = `subscription($id: ID!) { liveEventBuyers(liveEventID: $id) { liveEventID buyers updatedAt } }`

// A live event's buyers: members holding units of its sales, each counted
// once however many sales they bought in, and no more once their orders
// stop being live. On PostgreSQL the overlay watches a second instance,
// so every change reaches it through the other instances' path.
func TestLiveEventBuyers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		watched := m
		if d.Name == "postgres" {
			watched = servertest.Start(t, d, servertest.Options{DB: testdb.Reopen(t, d)})
		}
		now := time.Now().UTC()
		var ev struct{ CreateLiveEvent struct{ ID string } }
		m.MustDo(m.Admin, `mutation($i: CreateLiveEventInput!) { createLiveEvent(input: $i) { id } }`,
			map[string]any{"i": map[string]any{"title": "直播带货", "startsAt": now.Format(time.RFC3339),
				"endsAt": now.Add(time.Hour).Format(time.RFC3339)}}, &ev)
		sales := make([]string, 2)
		for i := range sales {
			var out struct{ CreateFlashSale struct{ ID string } }
			m.MustDo(m.Admin, `mutation($i: CreateFlashSaleInput!) { createFlashSale(input: $i) { id } }`,
				map[string]any{"i": map[string]any{"productID": m.NewProduct("20.00", 100), "price": "1.00",
					"quantity": 10, "perMemberLimit": 2, "liveEventID": ev.CreateLiveEvent.ID,
					"startsAt": now.Add(-time.Minute).Format(time.RFC3339), "endsAt": now.Add(time.Hour).Format(time.RFC3339)}}, &out)
			sales[i] = out.CreateFlashSale.ID
		}
		ws, err := servertest.DialWS(watched.HTTP.URL, "graphql-transport-ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ws.Close)
		if _, err := ws.Subscribe(buyersSub, map[string]any{"id": ev.CreateLiveEvent.ID}); err != nil {
			t.Fatal(err)
		}
		awaitBuyers(t, ws, 0)

		a, b := m.Verified("张三"), m.Verified("李四")
		buy := func(who servertest.Member, sale string) string {
			t.Helper()
			var out struct{ BuyFlashSale struct{ ID string } }
			m.MustDo(who.Token, `mutation($i: BuyFlashSaleInput!) { buyFlashSale(input: $i) { id } }`,
				map[string]any{"i": map[string]any{"flashSaleID": sale}}, &out)
			return out.BuyFlashSale.ID
		}
		cancel := func(who servertest.Member, order string) {
			t.Helper()
			m.MustDo(who.Token, `mutation($id: ID!) { cancelOrder(id: $id) { id } }`, map[string]any{"id": order}, nil)
		}
		first := buy(a, sales[0])
		awaitBuyers(t, ws, 1)
		second := buy(a, sales[1])
		buy(b, sales[0])
		awaitBuyers(t, ws, 2) // a counts once for two sales
		cancel(a, first)
		cancel(a, second)
		awaitBuyers(t, ws, 1) // a holds nothing live any more
	})
}

// awaitBuyers reads pushes until one says want buyers.
func awaitBuyers(t *testing.T, ws *servertest.WS, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	last := -1
	for time.Now().Before(deadline) {
		_, r, err := ws.Next(time.Until(deadline))
		if err != nil {
			t.Fatalf("waiting for %d buyers (last %d): %v", want, last, err)
		}
		if len(r.Errors) > 0 {
			t.Fatalf("subscription refused: %+v", r.Errors)
		}
		var got struct{ LiveEventBuyers struct{ Buyers int } }
		if err := json.Unmarshal(r.Data, &got); err != nil {
			t.Fatal(err)
		}
		if last = got.LiveEventBuyers.Buyers; last == want {
			return
		}
	}
	t.Fatalf("never saw %d buyers (last %d)", want, last)
}

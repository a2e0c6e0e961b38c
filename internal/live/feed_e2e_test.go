package live_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"unionmall/internal/gid"
	"unionmall/internal/mask"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

type feedEvent struct {
	LiveEventFeed *struct {
		LiveEventID string
		Purchases   []struct {
			Buyer, ProductName string
			Quantity           int
			At                 string
		}
	}
}

const feedSub = `subscription($id: ID!) { liveEventFeed(liveEventID: $id) { liveEventID purchases { buyer productName quantity at } } }`

// waitFeed reads ws until the feed holds n purchases.
func waitFeed(t *testing.T, ws *servertest.WS, n int) feedEvent {
	t.Helper()
	for {
		_, r, err := ws.Next(5 * time.Second)
		if err != nil {
			t.Fatalf("waiting for %d purchases: %v", n, err)
		}
		if len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		var ev feedEvent
		if err := json.Unmarshal(r.Data, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.LiveEventFeed != nil && len(ev.LiveEventFeed.Purchases) == n {
			return ev
		}
	}
}

// surnames make the masked names of up to 24 buyers distinct.
var surnames = []rune("张赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施")

// nameBuyers gives members real names (张三丰, 赵三丰, …) straight in the
// database.
func nameBuyers(t *testing.T, m *servertest.Mall, buyers []servertest.Member) map[string]string {
	t.Helper()
	names := map[string]string{}
	for i, b := range buyers {
		name := string(surnames[i]) + "三丰"
		if err := m.Server.DB.Client.Member.UpdateOneID(gid.ID(b.ID)).SetRealName(name).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		names[b.Token] = name
	}
	return names
}

// The ticker: the latest live purchases of the event's sales, newest
// first, at most 20, names masked as on members; NOT_FOUND for an unknown
// event.
func TestLiveEventFeed(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		event, sale := liveSale(t, m, 100)
		buyers := m.BulkVerified(22)
		names := nameBuyers(t, m, buyers)

		ws, err := servertest.DialWS(m.HTTP.URL, servertest.TransportWS, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		if _, err := ws.Subscribe(feedSub, map[string]any{"id": event}); err != nil {
			t.Fatal(err)
		}
		if ev := waitFeed(t, ws, 0); ev.LiveEventFeed.LiveEventID != event {
			t.Fatalf("%+v", ev)
		}
		for i, b := range buyers {
			buy(t, m, b.Token, sale)
			if i == 1 {
				ev := waitFeed(t, ws, 2)
				p := ev.LiveEventFeed.Purchases
				if p[0].Buyer != "赵**" || p[0].Buyer != mask.Name(names[buyers[1].Token]) || p[1].Buyer != mask.Name(names[buyers[0].Token]) {
					t.Fatalf("names %+v, want the newest first, masked", p)
				}
				if p[0].ProductName != "汉中香小榨菜籽油 5L" || p[0].Quantity != 1 || servertest.ParseTime(t, p[0].At).IsZero() {
					t.Fatalf("%+v", p[0])
				}
			}
		}
		// 22 purchases: the ticker keeps the latest 20.
		var ev feedEvent
		for {
			ev = waitFeed(t, ws, 20)
			if ev.LiveEventFeed.Purchases[0].Buyer == mask.Name(names[buyers[21].Token]) {
				break
			}
		}
		for i, p := range ev.LiveEventFeed.Purchases {
			if want := mask.Name(names[buyers[21-i].Token]); p.Buyer != want {
				t.Fatalf("purchase %d by %q, want %q", i, p.Buyer, want)
			}
		}

		t.Run("unknown event", func(t *testing.T) {
			for _, id := range []string{unknownEvent, "fls_01JD0000000000000000000000", "nonsense"} {
				r, err := ws.Do(feedSub, map[string]any{"id": id})
				if err != nil || r.Code() != "NOT_FOUND" {
					t.Fatalf("%s: %+v %v", id, r, err)
				}
			}
		})
	})
}

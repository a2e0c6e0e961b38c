package submux_test

// The multiplexing end to end over the real websocket: many subscribers of
// one sale cost one execution per push; orderUpdated is never shared;
// different operations, variables, languages are different groups; a
// connection that stops reading delays nobody and catches up.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// liveSale creates a live event running now with a flash sale of qty
// units, limit one per member.
func liveSale(t *testing.T, m *servertest.Mall, qty int) (eventID, saleID string) {
	t.Helper()
	return liveSaleOf(t, m, servertest.OilProduct(t, m, qty+100), qty)
}

func liveSaleOf(t *testing.T, m *servertest.Mall, oil string, qty int) (eventID, saleID string) {
	t.Helper()
	return servertest.LiveSale(t, m, oil, qty)
}

func buy(t *testing.T, m *servertest.Mall, token, sale string) {
	t.Helper()
	servertest.BuyFlash(t, m, token, sale)
}

func dial(t *testing.T, m *servertest.Mall, proto string, init map[string]any) *servertest.WS {
	t.Helper()
	ws, err := servertest.DialWS(m.HTTP.URL, proto, init)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ws.Close)
	return ws
}

// dialLang opens a graphql-transport-ws connection whose upgrade request
// prefers lang.
func dialLang(t *testing.T, m *servertest.Mall, lang string) *servertest.WS {
	t.Helper()
	u := "ws" + strings.TrimPrefix(m.HTTP.URL, "http") + "/graphql"
	d := websocket.Dialer{Subprotocols: []string{servertest.TransportWS}, HandshakeTimeout: 5 * time.Second}
	c, _, err := d.Dial(u, http.Header{"Accept-Language": {lang}})
	if err != nil {
		t.Fatal(err)
	}
	ws := &servertest.WS{Conn: c, Protocol: servertest.TransportWS}
	t.Cleanup(ws.Close)
	if err := c.WriteJSON(map[string]any{"type": "connection_init"}); err != nil {
		t.Fatal(err)
	}
	if msg, err := ws.Read(5 * time.Second); err != nil || msg.Type != "connection_ack" {
		t.Fatalf("init: %+v %v", msg, err)
	}
	return ws
}

// waitAll reads ws until each of ids has seen the sale at sold (states
// only grow here, so a skipped state is fine); it fails on an error.
func waitAll(t *testing.T, ws *servertest.WS, ids map[string]bool, sold int) {
	t.Helper()
	left := len(ids)
	seen := map[string]bool{}
	for left > 0 {
		id, r, err := ws.Next(20 * time.Second)
		if err != nil {
			t.Fatalf("waiting for sold=%d (%d left): %v", sold, left, err)
		}
		if len(r.Errors) > 0 {
			t.Fatalf("subscription %s: %+v", id, r.Errors)
		}
		if !ids[id] {
			t.Fatalf("event for unknown subscription %q", id)
		}
		var s servertest.StockEvent
		if err := json.Unmarshal(r.Data, &s); err != nil {
			t.Fatal(err)
		}
		if s.FlashSaleStock.Sold == sold && !seen[id] {
			seen[id] = true
			left--
		}
	}
}

func TestThousandSubscribersOneExecutionPerPush(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		_, sale := liveSale(t, m, 100)
		buyers := m.BulkVerified(3)
		mux := m.Server.Submux
		before := mux.Executions()
		pushesBefore := m.Server.Live.BrokerStats().Pushes

		// 10 connections of 100 subscriptions (the per-connection limit),
		// both protocols.
		conns := make([]*servertest.WS, 10)
		ids := map[string]bool{}
		for i := range conns {
			proto := servertest.TransportWS
			if i%2 == 1 {
				proto = servertest.LegacyWS
			}
			conns[i] = dial(t, m, proto, nil)
			for range 100 {
				id, err := conns[i].Subscribe(servertest.StockSub, map[string]any{"id": sale})
				if err != nil {
					t.Fatal(err)
				}
				ids[id] = true
			}
		}
		for _, ws := range conns {
			waitAll(t, ws, ids, 0)
		}
		if g := mux.Groups(); g != 1 {
			t.Fatalf("%d groups, want 1", g)
		}
		if st := m.Server.Live.BrokerStats(); st.Subscribers != 1 {
			t.Fatalf("broker has %d subscribers, want the group's 1", st.Subscribers)
		}
		if n := mux.Executions() - before; n != 1 {
			t.Fatalf("%d executions for the first state of 1,000 subscribers, want 1", n)
		}
		for k, b := range buyers {
			buy(t, m, b.Token, sale)
			for _, ws := range conns {
				waitAll(t, ws, ids, k+1)
			}
		}
		// One execution per state the broker pushed to the group (a buy
		// pushes once; an echo of its announcement would push again, and
		// cost one more execution, not 1,000).
		execs := mux.Executions() - before
		pushes := m.Server.Live.BrokerStats().Pushes - pushesBefore
		if execs != pushes || execs < uint64(1+len(buyers)) || execs > uint64(1+2*len(buyers)) {
			t.Fatalf("%d executions for %d pushes to 1,000 subscribers (%d buys)", execs, pushes, len(buyers))
		}
		t.Logf("%d executions, %d broker pushes for %d subscribers and %d buys", execs, pushes, len(ids)*len(conns), len(buyers))
	})
}

const orderSub = `subscription($id: ID!) { orderUpdated(orderID: $id) { id status buyer { id } } }`

func TestOrderUpdatedNeverShared(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		shop := servertest.NewShop(t, m)
		tea := shop.Product(t, "泾阳茯茶", "20.00", "20.00", 100)
		before := m.Server.Submux.Executions()

		type member struct {
			ws    *servertest.WS
			order servertest.Order
			token string
		}
		var ms []member
		for _, name := range []string{"甲", "乙"} {
			mem := m.Verified(name)
			o := servertest.PlaceOrder(t, m, mem.Token, []servertest.Line{{ID: tea, Qty: 1}},
				map[string]any{"shippingAddress": servertest.ValidAddress})
			ws := dial(t, m, servertest.TransportWS, map[string]any{"Authorization": "Bearer " + mem.Token})
			if _, err := ws.Subscribe(orderSub, map[string]any{"id": o.ID}); err != nil {
				t.Fatal(err)
			}
			ms = append(ms, member{ws, o, mem.Token})
		}
		if g := m.Server.Submux.Groups(); g != 0 {
			t.Fatalf("orderUpdated formed %d groups", g)
		}
		// Each member's own order, never the other's, through a change
		// (cancelling pushes a second state). Both first states are read
		// before the cancels: a subscription that started after its
		// order's cancel would rightly begin with CANCELLED.
		for _, want := range []string{"PENDING_PAYMENT", "CANCELLED"} {
			if want == "CANCELLED" {
				for _, mb := range ms {
					servertest.MustDo(t, m, mb.token, `mutation($id: ID!) { cancelOrder(id: $id) { id } }`,
						map[string]any{"id": mb.order.ID}, nil)
				}
			}
			for _, mb := range ms {
				_, r, err := mb.ws.Next(10 * time.Second)
				if err != nil || len(r.Errors) > 0 {
					t.Fatalf("%v %+v", err, r)
				}
				var d struct{ OrderUpdated struct{ ID, Status string } }
				_ = json.Unmarshal(r.Data, &d)
				if d.OrderUpdated.ID != mb.order.ID || d.OrderUpdated.Status != want {
					t.Fatalf("member of %s got %+v, want %s", mb.order.ID, d.OrderUpdated, want)
				}
			}
		}
		// The other's order is NOT_FOUND, as before.
		if _, err := ms[0].ws.Subscribe(orderSub, map[string]any{"id": ms[1].order.ID}); err != nil {
			t.Fatal(err)
		}
		if c := ms[0].ws.FirstErrorCode(t, 10*time.Second); c != "NOT_FOUND" {
			t.Fatalf("code %q, want NOT_FOUND", c)
		}
		if n := m.Server.Submux.Executions() - before; n != 0 {
			t.Fatalf("orderUpdated went through %d shared executions", n)
		}
	})
}

// stockOf reads the next event of ws as a stock state.
func stockOf(t *testing.T, ws *servertest.WS) (string, map[string]any) {
	t.Helper()
	id, r, err := ws.Next(10 * time.Second)
	if err != nil || len(r.Errors) > 0 {
		t.Fatalf("%v %+v", err, r)
	}
	var d struct{ FlashSaleStock map[string]any }
	if err := json.Unmarshal(r.Data, &d); err != nil {
		t.Fatal(err)
	}
	return id, d.FlashSaleStock
}

func TestGroupsByOperationVariablesLanguageAndClass(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		_, sale1 := liveSale(t, m, 10)
		_, sale2 := liveSaleOf(t, m, servertest.NewShop(t, m).Product(t, "泾阳茯茶", "20.00", "20.00", 100), 10)
		mux := m.Server.Submux
		member := m.Verified("观众")
		short := `subscription($id: ID!) { flashSaleStock(flashSaleID: $id) { sold } }`
		spaced := "subscription ( $id : ID! ) {\n  flashSaleStock(flashSaleID: $id) {\n flashSaleID quantity sold remaining status updatedAt } }"

		cases := []struct {
			name   string
			ws     *servertest.WS
			query  string
			sale   string
			groups int // after this subscriber
			fields int // in its events
		}{
			{"first", dial(t, m, servertest.TransportWS, nil), servertest.StockSub, sale1, 1, 6},
			{"other variables", dial(t, m, servertest.TransportWS, nil), servertest.StockSub, sale2, 2, 6},
			{"other document", dial(t, m, servertest.TransportWS, nil), short, sale1, 3, 1},
			{"same document spaced out, other protocol", dial(t, m, servertest.LegacyWS, nil), spaced, sale1, 3, 6},
			{"English", dialLang(t, m, "en"), servertest.StockSub, sale1, 4, 6},
			{"Chinese asked for", dialLang(t, m, "zh-CN"), servertest.StockSub, sale1, 4, 6},
			{"a member", dial(t, m, servertest.TransportWS, map[string]any{"Authorization": "Bearer " + member.Token}), servertest.StockSub, sale1, 5, 6},
			{"the admin", dial(t, m, servertest.TransportWS, map[string]any{"Authorization": "Bearer " + m.Admin}), servertest.StockSub, sale1, 6, 6},
		}
		for _, c := range cases {
			if _, err := c.ws.Subscribe(c.query, map[string]any{"id": c.sale}); err != nil {
				t.Fatal(err)
			}
			_, st := stockOf(t, c.ws)
			if len(st) != c.fields || c.fields == 6 && st["flashSaleID"] != c.sale {
				t.Fatalf("%s: got %v", c.name, st)
			}
			if g := mux.Groups(); g != c.groups {
				t.Fatalf("%s: %d groups, want %d", c.name, g, c.groups)
			}
		}
		// Leaving ends a group once its last subscriber left.
		cases[1].ws.Close()
		for deadline := time.Now().Add(10 * time.Second); mux.Groups() != 5; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) { // only bounds a failing test
				t.Fatalf("%d groups after a subscriber left, want 5", mux.Groups())
			}
		}
	})
}

// A connection that stops reading delays nobody else and, once it reads
// again, gets to the latest state.
func TestStalledConnection(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		_, sale := liveSale(t, m, 100)
		buyers := m.BulkVerified(5)
		stalled := servertest.WatchStock(t, m.HTTP.URL, servertest.TransportWS, nil, sale)
		reader := servertest.WatchStock(t, m.HTTP.URL, servertest.TransportWS, nil, sale)
		servertest.WaitSold(t, reader, 0, 10*time.Second)
		for i, b := range buyers {
			buy(t, m, b.Token, sale)
			servertest.WaitSold(t, reader, i+1, 10*time.Second)
		}
		// Now the stalled one reads: the newest state comes, whatever it
		// skipped or had buffered.
		servertest.WaitSold(t, stalled, len(buyers), 10*time.Second)
	})
}

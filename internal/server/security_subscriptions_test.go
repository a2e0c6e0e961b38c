package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"unionmall/internal/mask"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// Subscription fields that anyone may call (broadcast overlays need no
// sign-in); every other subscription field must be in
// secPrivateSubscriptions and covered by a test of who may call it.
var (
	secPublicSubscriptions  = []string{"flashSaleStock", "liveEventCounters", "platformStatsUpdated", "liveEventBuyers", "liveEventFeed"}
	secPrivateSubscriptions = []string{"orderUpdated"} // TestSecurityOrderSearchFlashSalesOrderUpdated
)

// TestSecuritySubscriptions: every served subscription field is known, and
// liveEventFeed shows every caller (the buyer and ADMIN included: it is
// broadcast) the same masked name, over websockets and server-sent events;
// a token the server never issued closes a websocket (4403) and makes an
// SSE request anonymous, as it does any HTTP request.
func TestSecuritySubscriptions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		w := secNewWorld(t, d)
		m := w.m
		for _, f := range secSchemaFields(t, m, "subscriptionType") {
			if !slices.Contains(secPublicSubscriptions, f) && !slices.Contains(secPrivateSubscriptions, f) {
				t.Errorf("subscription %s of the served schema is neither known public nor covered", f)
			}
		}

		now := time.Now().UTC()
		var ev struct{ CreateLiveEvent struct{ ID string } }
		servertest.MustDo(t, m, m.Admin, `mutation($i: CreateLiveEventInput!) { createLiveEvent(input: $i) { id } }`,
			map[string]any{"i": map[string]any{"title": "直播", "startsAt": now.Add(-time.Minute).Format(time.RFC3339),
				"endsAt": now.Add(time.Hour).Format(time.RFC3339)}}, &ev)
		var sale struct{ CreateFlashSale struct{ ID string } }
		servertest.MustDo(t, m, m.Admin, `mutation($i: CreateFlashSaleInput!) { createFlashSale(input: $i) { id } }`,
			map[string]any{"i": map[string]any{"productID": w.tea, "price": "1", "quantity": 10, "perMemberLimit": 1,
				"startsAt": now.Add(-time.Second).Format(time.RFC3339Nano), "endsAt": now.Add(time.Hour).Format(time.RFC3339),
				"liveEventID": ev.CreateLiveEvent.ID}}, &sale)
		owner := w.owner()
		servertest.MustDo(t, m, owner.Token, `mutation($s: ID!) { buyFlashSale(input: {flashSaleID: $s}) { id } }`,
			map[string]any{"s": sale.CreateFlashSale.ID}, nil)
		want := mask.Name(owner.RealName)
		if want == owner.RealName || want == "" {
			t.Fatalf("fixture: %q masks to %q", owner.RealName, want)
		}

		const q = `subscription($id: ID!) { liveEventFeed(liveEventID: $id) { purchases { buyer } } }`
		vars := map[string]any{"id": ev.CreateLiveEvent.ID}
		buyerOf := func(t *testing.T, data json.RawMessage) string {
			t.Helper()
			var out struct {
				LiveEventFeed struct{ Purchases []struct{ Buyer string } }
			}
			if err := json.Unmarshal(data, &out); err != nil || len(out.LiveEventFeed.Purchases) != 1 {
				t.Fatalf("%s: %v", data, err)
			}
			return out.LiveEventFeed.Purchases[0].Buyer
		}
		for _, run := range secRuns(w, [secKinds]string{secOK, secOK, secOK, secOK, secOK, secOK}) {
			t.Run("websocket/"+run.name, func(t *testing.T) {
				var init map[string]any
				if run.c.Token != "" {
					init = map[string]any{"Authorization": "Bearer " + run.c.Token}
				}
				ws, err := servertest.DialWS(m.HTTP.URL, servertest.TransportWS, init)
				if run.c.Token == secGarbageToken {
					var ce *websocket.CloseError
					if !errors.As(err, &ce) || ce.Code != 4403 {
						t.Fatalf("garbage token: %v, want close 4403", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				defer ws.Close()
				r, err := ws.Do(q, vars)
				if err != nil || len(r.Errors) > 0 {
					t.Fatalf("%+v %v", r, err)
				}
				if got := buyerOf(t, r.Data); got != want {
					t.Fatalf("buyer %q, want %q", got, want)
				}
			})
			t.Run("sse/"+run.name, func(t *testing.T) {
				body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
				req, _ := http.NewRequest(http.MethodPost, m.HTTP.URL+"/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "text/event-stream")
				if run.c.Token != "" {
					req.Header.Set("Authorization", "Bearer "+run.c.Token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				sc := bufio.NewScanner(resp.Body)
				for sc.Scan() {
					data, ok := strings.CutPrefix(sc.Text(), "data: ")
					if !ok {
						continue
					}
					var r servertest.Result
					if err := json.Unmarshal([]byte(data), &r); err != nil || len(r.Errors) > 0 {
						t.Fatalf("%s: %v", data, err)
					}
					if got := buyerOf(t, r.Data); got != want {
						t.Fatalf("buyer %q, want %q", got, want)
					}
					return
				}
				t.Fatalf("no event: %v", sc.Err())
			})
		}
	})
}

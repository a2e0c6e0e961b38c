package server_test

import (
	"encoding/json"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// Each typed lookup (product, supplier, county, liveEvent, flashSale,
// order) answers what node(id:) answers for the same caller and ID: the
// object when it is of that type and the caller may see it, else null
// (unknown IDs, IDs of another type, products off sale to members, other
// members' orders).
func TestTypedLookupsAnswerAsNode(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		c := servertest.SeedCatalogue(t, m, 6) // product 5 is off sale
		onSale, offSale := c.Products[0].ID, c.Products[5].ID
		buyer, other := m.Verified("买家"), m.Verified("路人")
		o := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: onSale, Qty: 1}}, nil)
		now := time.Now().UTC()
		var ev struct{ CreateLiveEvent struct{ ID string } }
		servertest.MustDo(t, m, m.Admin, servertest.CreateLiveEventQ, map[string]any{"i": map[string]any{
			"title": "扶贫直播", "startsAt": servertest.FormatTime(now.Add(-time.Minute)), "endsAt": servertest.FormatTime(now.Add(time.Hour))}}, &ev)
		shownSale := servertest.CreateSale(t, m, onSale, "1", 5, 1, now.Add(-time.Second), now.Add(time.Hour)).ID
		offSaleProduct := servertest.CreateProduct(t, m, servertest.ProductIn{Name: "下架前的秒杀品", Category: "TEA", Price: "9.00", Stock: 10, OnSale: true, SupplierID: c.Suppliers[0]})
		hiddenSale := servertest.CreateSale(t, m, offSaleProduct, "1", 5, 1, now.Add(-time.Second), now.Add(time.Hour)).ID
		servertest.MustDo(t, m, m.Admin, servertest.UpdateProductQ, map[string]any{"id": offSaleProduct, "i": map[string]any{"onSale": false}}, nil)

		lookups := map[string]string{
			"product": "Product", "supplier": "Supplier", "county": "County",
			"liveEvent": "LiveEvent", "flashSale": "FlashSale", "order": "Order",
		}
		ids := []string{onSale, offSale, c.Suppliers[0], c.LiftedCounty, ev.CreateLiveEvent.ID, shownSale, hiddenSale, o.ID,
			buyer.ID, "prd_01ARZ3NDEKTSV4RRFFQ69G5FAV", "not-an-id"}
		callers := map[string]string{"anonymous": "", "buyer": buyer.Token, "another member": other.Token, "admin": m.Admin}
		seen := map[string]int{}
		for who, token := range callers {
			for _, id := range ids {
				r := m.Do(token, `query($id: ID!) { node(id: $id) { __typename id } }`, map[string]any{"id": id})
				if len(r.Errors) > 0 {
					t.Fatalf("%s: node(%s): %+v", who, id, r.Errors)
				}
				var n struct {
					Node *struct {
						Typename string `json:"__typename"`
						ID       string
					}
				}
				r.Decode(t, &n)
				for field, typ := range lookups {
					r := m.Do(token, `query($id: ID!) { x: `+field+`(id: $id) { __typename id } }`, map[string]any{"id": id})
					if len(r.Errors) > 0 {
						t.Fatalf("%s: %s(%s): %+v", who, field, id, r.Errors)
					}
					var out struct{ X json.RawMessage }
					r.Decode(t, &out)
					want := "null"
					if n.Node != nil && n.Node.Typename == typ {
						want = `{"__typename":"` + typ + `","id":"` + n.Node.ID + `"}`
						seen[field]++
					}
					if string(out.X) != want {
						t.Errorf("%s: %s(%s) = %s, node says %s", who, field, id, out.X, want)
					}
				}
			}
		}
		// Each lookup found something for someone, and what is private
		// stayed so.
		for field := range lookups {
			if seen[field] == 0 {
				t.Errorf("%s never found anything", field)
			}
		}
		for _, who := range []string{"", other.Token} {
			var out struct{ Order *struct{ ID string } }
			servertest.MustDo(t, m, who, `query($id: ID!) { order(id: $id) { id } }`, map[string]any{"id": o.ID}, &out)
			if out.Order != nil {
				t.Errorf("someone but the buyer and admins sees order %s", o.ID)
			}
		}
	})
}

// myOrders(status:) is the member's orders in one state, newest first.
func TestMyOrdersByStatus(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		s := servertest.NewShop(t, m)
		tea := s.Product(t, "紫阳富硒茶", "26.60", "", 50)
		buyer, other := m.Verified("买家"), m.Verified("路人")
		pending := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 1}}, nil)
		paid := servertest.Pay(t, m, servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 2}}, nil), "BANK-1")
		cancelled := servertest.MustOrder(t, m, buyer.Token, servertest.CancelOrderQ, map[string]any{
			"id": servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 3}}, nil).ID})
		servertest.PlaceOrder(t, m, other.Token, []servertest.Line{{ID: tea, Qty: 1}}, nil)
		for _, c := range []struct {
			status string
			want   []string
		}{
			{"PENDING_PAYMENT", []string{pending.ID}},
			{"PAID", []string{paid.ID}},
			{"CANCELLED", []string{cancelled.ID}},
			{"SHIPPED", nil},
			{"", []string{cancelled.ID, paid.ID, pending.ID}},
		} {
			vars := map[string]any{}
			if c.status != "" {
				vars["s"] = c.status
			}
			var out struct {
				MyOrders struct {
					TotalCount int
					Edges      []struct{ Node struct{ ID, Status string } }
				}
			}
			servertest.MustDo(t, m, buyer.Token, `query($s: OrderStatus) { myOrders(first: 10, status: $s) { totalCount edges { node { id status } } } }`, vars, &out)
			var got []string
			for _, e := range out.MyOrders.Edges {
				got = append(got, e.Node.ID)
				if c.status != "" && e.Node.Status != c.status {
					t.Errorf("status %s: an order %s", c.status, e.Node.Status)
				}
			}
			if len(got) != len(c.want) || out.MyOrders.TotalCount != len(c.want) {
				t.Fatalf("status %q: %v (total %d), want %v", c.status, got, out.MyOrders.TotalCount, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("status %q: %v, want %v (newest first)", c.status, got, c.want)
				}
			}
		}
	})
}

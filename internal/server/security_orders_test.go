package server_test

// The security matrix's rows for issue 12's order search, flash-sale list
// and order subscription: orders' search filters are ADMIN's only,
// flashSales is anyone's (without sales of products off sale, as node),
// and orderUpdated is the buyer's and ADMIN's (NOT_FOUND for everyone
// else, as the contract says for subscriptions). Every subscription
// field of the served schema must be known here as public or private.

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

func TestSecurityOrderSearchFlashSalesOrderUpdated(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		w := secNewWorld(t, d)
		m := w.m
		owner := w.owner()

		order := w.pendingOrder(t)
		offSale := servertest.CreateProduct(t, m, servertest.ProductIn{Name: "下架商品", Category: "GRAIN_OIL", Price: "10.00", Stock: 10, OnSale: true, SupplierID: w.supplier})
		now := time.Now().UTC()
		hidden := servertest.CreateSale(t, m, offSale, "1", 5, 1, now.Add(-time.Second), now.Add(time.Hour)).ID
		servertest.MustDo(t, m, m.Admin, servertest.UpdateProductQ, map[string]any{"id": offSale, "i": map[string]any{"onSale": false}}, nil)

		const searchQ = `query($n: String, $p: String) { orders(number: $n, buyerPhone: $p) { edges { node { id buyer { phone } } } } }`
		const salesQ = `{ flashSales(first: 100) { edges { node { id } } } }`
		for _, run := range secRuns(w, secAdminOnly) {
			t.Run(run.name, func(t *testing.T) {
				// orders(number:, buyerPhone:): ADMIN only; others learn
				// nothing, not even whether the number exists.
				r := m.Do(run.c.Token, searchQ, map[string]any{"n": order.Number, "p": owner.Phone})
				if run.want != secOK {
					servertest.WantCode(t, r, run.want)
					if string(r.Data) != "null" {
						t.Fatalf("refused search returned %s", r.Data)
					}
				} else {
					var out struct {
						Orders struct {
							Edges []struct {
								Node struct {
									ID    string
									Buyer struct{ Phone string }
								}
							}
						}
					}
					r.Decode(t, &out)
					if e := out.Orders.Edges; len(e) != 1 || e[0].Node.ID != order.ID || e[0].Node.Buyer.Phone != owner.Phone {
						t.Fatalf("search: %+v", out)
					}
				}

				// flashSales: anyone; the off-sale product's sale for ADMIN only.
				var sales struct {
					FlashSales struct {
						Edges []struct{ Node struct{ ID string } }
					}
				}
				m.MustDo(run.c.Token, salesQ, nil, &sales)
				var ids []string
				for _, e := range sales.FlashSales.Edges {
					ids = append(ids, e.Node.ID)
				}
				admin := run.c.kind == secAdmin && run.c.Token != secGarbageToken
				if !slices.Contains(ids, w.sale) || slices.Contains(ids, hidden) != admin {
					t.Fatalf("flashSales %v: sale %s, hidden %s (admin %v)", ids, w.sale, hidden, admin)
				}

				// orderUpdated: the buyer and ADMIN; NOT_FOUND for the rest.
				wantSub := secNF
				if run.c.kind == secVerified || admin {
					wantSub = secOK
				}
				var init map[string]any
				if run.c.Token != "" && run.c.Token != secGarbageToken {
					init = map[string]any{"Authorization": "Bearer " + run.c.Token}
				}
				ws, err := servertest.DialWS(m.HTTP.URL, servertest.TransportWS, init)
				if err != nil {
					t.Fatal(err)
				}
				defer ws.Close()
				if _, err := ws.Subscribe(`subscription($id: ID!) { orderUpdated(orderID: $id) { id status buyer { phone } } }`, map[string]any{"id": order.ID}); err != nil {
					t.Fatal(err)
				}
				_, res, err := ws.Next(10 * time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if wantSub != secOK {
					if len(res.Errors) == 0 || res.Errors[0].Extensions["code"] != wantSub {
						t.Fatalf("orderUpdated: %+v %s, want %s", res.Errors, res.Data, wantSub)
					}
					return
				}
				var got struct{ OrderUpdated struct{ ID, Status string } }
				if len(res.Errors) > 0 || json.Unmarshal(res.Data, &got) != nil || got.OrderUpdated.ID != order.ID {
					t.Fatalf("orderUpdated: %+v %s", res.Errors, res.Data)
				}
			})
		}
	})
}

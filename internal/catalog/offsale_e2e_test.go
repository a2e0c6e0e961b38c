package catalog_test

import (
	"strings"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// Non-admins see only products on sale, on every path that reaches a
// product: a flash sale of a product off sale is hidden from them too
// (null from flashSale and node, left out of a live event's flash sales),
// while a member's own order still shows what was bought. Admins see all.
func TestOffSaleProductHiddenOnEveryPath(t *testing.T) {
	const (
		onName  = "紫阳富硒茶 250g"
		offName = "下架的秦岭香菇"
	)
	type caller int
	const (
		anonymous caller = iota
		buyer
		admin
	)
	callerNames := []string{"anonymous", "member", "ADMIN"}
	// Each path: the query, and whether each caller sees the off-sale
	// product (its name, and its sale's ID). Where on is set, every caller
	// must see the on-sale product, so that the query is known to reach it.
	tests := []struct {
		name  string
		query string
		vars  func(offSaleSeed) map[string]any
		sees  [3]bool // anonymous, member, ADMIN
		on    bool
		null  string // for callers who may not see it, the data must be exactly this
	}{
		{name: "flashSale(id) of its sale", sees: [3]bool{false, false, true}, null: `{"flashSale":null}`,
			query: `query($id: ID!) { flashSale(id: $id) { id product { name } } }`,
			vars:  func(x offSaleSeed) map[string]any { return map[string]any{"id": x.offSale} }},
		{name: "node(id) of its sale", sees: [3]bool{false, false, true}, null: `{"node":null}`,
			query: `query($id: ID!) { node(id: $id) { id ... on FlashSale { product { name } } } }`,
			vars:  func(x offSaleSeed) map[string]any { return map[string]any{"id": x.offSale} }},
		{name: "nodes(ids) of both sales", sees: [3]bool{false, false, true}, on: true,
			query: `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on FlashSale { product { name } } } }`,
			vars:  func(x offSaleSeed) map[string]any { return map[string]any{"ids": []string{x.onSale, x.offSale}} }},
		{name: "node(id) of the product", sees: [3]bool{false, false, true}, null: `{"node":null}`,
			query: `query($id: ID!) { node(id: $id) { id ... on Product { name } } }`,
			vars:  func(x offSaleSeed) map[string]any { return map[string]any{"id": x.offProduct} }},
		{name: "products", sees: [3]bool{false, false, true}, on: true,
			query: `{ products(first: 100) { edges { node { id name } } } }`},
		{name: "liveEvents' flash sales", sees: [3]bool{false, false, true}, on: true,
			query: `{ liveEvents { edges { node { flashSales { id product { name } } } } } }`},
		{name: "node(id) of the live event, its flash sales", sees: [3]bool{false, false, true}, on: true,
			query: `query($id: ID!) { node(id: $id) { ... on LiveEvent { flashSales { id product { name } } } } }`,
			vars:  func(x offSaleSeed) map[string]any { return map[string]any{"id": x.event} }},
		{name: "the other sale's live event's flash sales", sees: [3]bool{false, false, true}, on: true,
			query: `query($id: ID!) { flashSale(id: $id) { product { name } liveEvent { flashSales { id product { name } } } } }`,
			vars:  func(x offSaleSeed) map[string]any { return map[string]any{"id": x.onSale} }},
		{name: "the member's order: its lines", sees: [3]bool{false, true, true}, null: `{"node":null}`,
			query: `query($id: ID!) { node(id: $id) { ... on Order { items { product { name } } } } }`,
			vars:  func(x offSaleSeed) map[string]any { return map[string]any{"id": x.order} }},
		{name: "the member's order: its flash sale", sees: [3]bool{false, true, true}, null: `{"node":null}`,
			query: `query($id: ID!) { node(id: $id) { ... on Order { flashSale { id product { name } } } } }`,
			vars:  func(x offSaleSeed) map[string]any { return map[string]any{"id": x.order} }},
		{name: "the member's order: its sale's live event's flash sales", sees: [3]bool{false, false, true},
			query: `query($id: ID!) { node(id: $id) { ... on Order { flashSale { liveEvent { flashSales { id product { name } } } } } } }`,
			vars:  func(x offSaleSeed) map[string]any { return map[string]any{"id": x.order} }},
	}
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		x := seedOffSale(t, m, onName, offName)
		tokens := [3]string{"", x.buyer.Token, m.Admin}
		for _, tt := range tests {
			for who := anonymous; who <= admin; who++ {
				t.Run(tt.name+"/"+callerNames[who], func(t *testing.T) {
					var vars map[string]any
					if tt.vars != nil {
						vars = tt.vars(x)
					}
					r := m.Do(tokens[who], tt.query, vars)
					if len(r.Errors) > 0 {
						t.Fatalf("errors %+v", r.Errors)
					}
					data := string(r.Data)
					sees := strings.Contains(data, offName) || strings.Contains(data, x.offSale)
					if sees != tt.sees[who] {
						t.Fatalf("sees the off-sale product: %v, want %v; data %s", sees, tt.sees[who], data)
					}
					if tt.on && !strings.Contains(data, onName) {
						t.Fatalf("the on-sale product is missing: %s", data)
					}
					if !tt.sees[who] && tt.null != "" && data != tt.null {
						t.Fatalf("data %s, want %s", data, tt.null)
					}
				})
			}
		}
	})
}

// offSaleSeed is what seedOffSale created.
type offSaleSeed struct {
	onProduct, offProduct, onSale, offSale, event, order string
	buyer                                                servertest.Member
}

// seedOffSale creates a live event with two running flash sales, of a
// product on sale and of one that goes off sale after a member bought it
// in its sale.
func seedOffSale(t *testing.T, m *servertest.Mall, onName, offName string) offSaleSeed {
	t.Helper()
	county := servertest.CreateCounty(t, m, "紫阳县", "安康市", "LIFTED")
	sup := servertest.CreateSupplier(t, m, "紫阳茶业合作社", county, 12)
	x := offSaleSeed{
		onProduct:  servertest.CreateProduct(t, m, servertest.ProductIn{Name: onName, Category: "TEA", Price: "50.00", Stock: 100, OnSale: true, SupplierID: sup}),
		offProduct: servertest.CreateProduct(t, m, servertest.ProductIn{Name: offName, Category: "MOUNTAIN_GOODS", Price: "30.00", Stock: 100, OnSale: true, SupplierID: sup}),
		buyer:      m.Verified("买家"),
	}
	now := time.Now().UTC()
	var ev struct{ CreateLiveEvent struct{ ID string } }
	servertest.MustDo(t, m, m.Admin, servertest.CreateLiveEventQ, map[string]any{"i": map[string]any{
		"title": "扶贫直播", "startsAt": servertest.FormatTime(now.Add(-time.Minute)), "endsAt": servertest.FormatTime(now.Add(time.Hour))}}, &ev)
	x.event = ev.CreateLiveEvent.ID
	sale := func(product string) string {
		var out struct{ CreateFlashSale struct{ ID string } }
		servertest.MustDo(t, m, m.Admin, servertest.CreateSaleQ, map[string]any{"i": map[string]any{
			"productID": product, "price": "1.00", "quantity": 10, "perMemberLimit": 1, "liveEventID": x.event,
			"startsAt": servertest.FormatTime(now.Add(-time.Second)), "endsAt": servertest.FormatTime(now.Add(time.Hour))}}, &out)
		return out.CreateFlashSale.ID
	}
	x.onSale, x.offSale = sale(x.onProduct), sale(x.offProduct)
	var bought struct{ BuyFlashSale struct{ ID string } }
	servertest.MustDo(t, m, x.buyer.Token, servertest.BuyQ, map[string]any{"i": map[string]any{"flashSaleID": x.offSale, "quantity": 1}}, &bought)
	x.order = bought.BuyFlashSale.ID
	servertest.MustDo(t, m, m.Admin, servertest.UpdateProductQ, map[string]any{"id": x.offProduct, "i": map[string]any{"onSale": false}}, nil)
	return x
}

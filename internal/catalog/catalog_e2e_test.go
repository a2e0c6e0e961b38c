package catalog_test

import (
	"slices"
	"sort"
	"testing"
	"time"

	"unionmall/graph/scalar"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

const productsQ = `query($first: Int, $after: Cursor, $last: Int, $before: Cursor, $orderBy: ProductOrder, $where: ProductWhereInput) {
	products(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy, where: $where) {
		totalCount
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		edges { cursor node { id name category price salePrice soldCount onSale } }
	}
}`

type productNode struct {
	ID, Name, Category, Price, SalePrice string
	SoldCount                            int
	OnSale                               bool
}

type productPage struct {
	TotalCount int
	PageInfo   struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
	Edges []struct {
		Cursor string
		Node   productNode
	}
}

func (p productPage) ids() []string {
	out := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Node.ID
	}
	return out
}

func products(t testing.TB, m *servertest.Mall, token string, vars map[string]any) productPage {
	t.Helper()
	var out struct{ Products productPage }
	servertest.MustDo(t, m, token, productsQ, vars, &out)
	return out.Products
}

// The products connection: page sizes, cursors both ways, bad arguments.
func TestProductsPagination(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		c := servertest.SeedCatalogue(t, m, 30)
		onSale := c.IDs(func(p servertest.Seeded) bool { return p.OnSale })
		if len(onSale) != 25 {
			t.Fatalf("fixture: %d products on sale, want 25", len(onSale))
		}
		if !slices.IsSorted(onSale) {
			t.Fatal("fixture: IDs are not in creation order")
		}
		member := m.Verified("会员")

		t.Run("default page", func(t *testing.T) {
			for _, token := range []string{"", member.Token} {
				p := products(t, m, token, nil)
				if len(p.Edges) != 20 || !p.PageInfo.HasNextPage || p.PageInfo.HasPreviousPage || p.TotalCount != 25 {
					t.Fatalf("default page: %d edges, pageInfo %+v, totalCount %d", len(p.Edges), p.PageInfo, p.TotalCount)
				}
				if !slices.Equal(p.ids(), onSale[:20]) {
					t.Fatalf("default page is not the first 20 by id:\n%v\n%v", p.ids(), onSale[:20])
				}
			}
		})
		t.Run("first 100", func(t *testing.T) {
			p := products(t, m, "", map[string]any{"first": 100})
			if len(p.Edges) != 25 || p.PageInfo.HasNextPage || p.TotalCount != 25 || !slices.Equal(p.ids(), onSale) {
				t.Fatalf("first 100: %d edges, %+v", len(p.Edges), p.PageInfo)
			}
			p = products(t, m, "", map[string]any{"last": 100})
			if !slices.Equal(p.ids(), onSale) || p.PageInfo.HasPreviousPage {
				t.Fatalf("last 100: %v %+v", p.ids(), p.PageInfo)
			}
		})
		t.Run("bad arguments", func(t *testing.T) {
			for _, vars := range []map[string]any{
				{"first": 101}, {"last": 101}, {"first": -1}, {"last": -1}, {"first": 1000000},
				{"after": "garbage"}, {"before": "garbage"}, {"after": ""},
				{"after": "eyJpZCI6MX0"}, // base64 of {"id":1}: a cursor of the wrong shape
			} {
				r := m.Do("", productsQ, vars)
				if r.Code() != "BAD_USER_INPUT" || string(r.Data) != "null" {
					t.Errorf("%v: code %q, data %s, errors %+v", vars, r.Code(), r.Data, r.Errors)
				}
			}
		})
		t.Run("forward", func(t *testing.T) {
			var got []string
			vars := map[string]any{"first": 7}
			for pages := 1; ; pages++ {
				p := products(t, m, "", vars)
				if p.TotalCount != 25 {
					t.Fatalf("totalCount %d on page %d", p.TotalCount, pages)
				}
				got = append(got, p.ids()...)
				if pages > 1 && !p.PageInfo.HasPreviousPage {
					// Relay allows false here; the mall says whether there is one.
					t.Logf("page %d: hasPreviousPage false while paginating forward", pages)
				}
				if !p.PageInfo.HasNextPage {
					if pages != 4 {
						t.Fatalf("%d pages of 7 for 25 products", pages)
					}
					break
				}
				if pages > 10 {
					t.Fatal("forward pagination does not end")
				}
				if p.PageInfo.EndCursor == nil || *p.PageInfo.EndCursor != p.Edges[len(p.Edges)-1].Cursor {
					t.Fatalf("endCursor %v is not the last edge's cursor", p.PageInfo.EndCursor)
				}
				vars = map[string]any{"first": 7, "after": *p.PageInfo.EndCursor}
			}
			if !slices.Equal(got, onSale) {
				t.Fatalf("forward walk:\n%v\nwant\n%v", got, onSale)
			}
		})
		t.Run("backward", func(t *testing.T) {
			var got []string
			vars := map[string]any{"last": 6}
			for pages := 1; ; pages++ {
				p := products(t, m, "", vars)
				ids := p.ids()
				if !slices.IsSorted(ids) {
					t.Fatalf("a backward page is not in id order: %v", ids)
				}
				got = append(ids, got...)
				if !p.PageInfo.HasPreviousPage {
					if pages != 5 {
						t.Fatalf("%d pages of 6 for 25 products", pages)
					}
					break
				}
				if pages > 10 {
					t.Fatal("backward pagination does not end")
				}
				if p.PageInfo.StartCursor == nil || *p.PageInfo.StartCursor != p.Edges[0].Cursor {
					t.Fatalf("startCursor %v is not the first edge's cursor", p.PageInfo.StartCursor)
				}
				vars = map[string]any{"last": 6, "before": *p.PageInfo.StartCursor}
			}
			if !slices.Equal(got, onSale) {
				t.Fatalf("backward walk:\n%v\nwant\n%v", got, onSale)
			}
		})
		t.Run("admin sees everything", func(t *testing.T) {
			all := c.IDs(func(servertest.Seeded) bool { return true })
			p := products(t, m, m.Admin, map[string]any{"first": 100})
			if p.TotalCount != 30 || !slices.Equal(p.ids(), all) {
				t.Fatalf("admin: totalCount %d, %v", p.TotalCount, p.ids())
			}
		})
	})
}

// Orders and filters of the products connection, and that non-admins
// never see products off sale, whatever they filter on.
func TestProductsOrderAndFilter(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		c := servertest.SeedCatalogue(t, m, 30)
		member := m.Verified("会员")
		price := map[string]int64{}
		for _, p := range c.Products {
			price[p.ID] = p.PriceFen
		}

		t.Run("price descending", func(t *testing.T) {
			want := c.IDs(func(p servertest.Seeded) bool { return p.OnSale })
			sort.Slice(want, func(i, j int) bool { return price[want[i]] > price[want[j]] })
			desc := map[string]any{"field": "PRICE", "direction": "DESC"}
			p := products(t, m, "", map[string]any{"first": 100, "orderBy": desc})
			if !slices.Equal(p.ids(), want) {
				t.Fatalf("PRICE DESC:\n%v\nwant\n%v", p.ids(), want)
			}
			for i, e := range p.Edges {
				if servertest.Fen(t, e.Node.Price) != price[e.Node.ID] {
					t.Fatalf("price of %s: %s, want %s", e.Node.ID, e.Node.Price, servertest.Yuan(price[e.Node.ID]))
				}
				if i > 0 && servertest.Fen(t, e.Node.Price) > servertest.Fen(t, p.Edges[i-1].Node.Price) {
					t.Fatalf("not descending at %d: %s after %s", i, e.Node.Price, p.Edges[i-1].Node.Price)
				}
			}
			// The same order, a page at a time.
			var got []string
			vars := map[string]any{"first": 6, "orderBy": desc}
			for pages := 0; pages < 10; pages++ {
				p := products(t, m, "", vars)
				got = append(got, p.ids()...)
				if !p.PageInfo.HasNextPage {
					break
				}
				vars = map[string]any{"first": 6, "orderBy": desc, "after": *p.PageInfo.EndCursor}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("PRICE DESC paginated:\n%v\nwant\n%v", got, want)
			}
		})
		t.Run("price ascending", func(t *testing.T) {
			p := products(t, m, "", map[string]any{"first": 100, "orderBy": map[string]any{"field": "PRICE"}})
			if len(p.Edges) != 25 {
				t.Fatalf("%d edges", len(p.Edges))
			}
			for i := 1; i < len(p.Edges); i++ {
				if servertest.Fen(t, p.Edges[i].Node.Price) < servertest.Fen(t, p.Edges[i-1].Node.Price) {
					t.Fatalf("not ascending at %d", i)
				}
			}
		})
		t.Run("sold count", func(t *testing.T) {
			for _, dir := range []string{"ASC", "DESC"} {
				p := products(t, m, "", map[string]any{"first": 100,
					"orderBy": map[string]any{"field": "SOLD_COUNT", "direction": dir}})
				if len(p.Edges) != 25 || p.TotalCount != 25 {
					t.Fatalf("SOLD_COUNT %s: %d edges", dir, len(p.Edges))
				}
				for i := 1; i < len(p.Edges); i++ {
					a, b := p.Edges[i-1].Node.SoldCount, p.Edges[i].Node.SoldCount
					if (dir == "ASC" && b < a) || (dir == "DESC" && b > a) {
						t.Fatalf("SOLD_COUNT %s out of order at %d", dir, i)
					}
				}
			}
		})
		t.Run("sale prices", func(t *testing.T) {
			p := products(t, m, m.Admin, map[string]any{"first": 100})
			for i, e := range p.Edges {
				s := c.Products[i]
				if e.Node.ID != s.ID || servertest.Fen(t, e.Node.Price) != s.PriceFen || servertest.Fen(t, e.Node.SalePrice) != s.SalePriceFen ||
					e.Node.Category != s.Category || e.Node.Name != s.Name || e.Node.OnSale != s.OnSale {
					t.Fatalf("product %d: %+v, created %+v", i, e.Node, s)
				}
			}
		})

		lifted := map[string]any{"povertyStatus": "LIFTED"}
		for _, f := range []struct {
			name  string
			where map[string]any
			keep  func(p servertest.Seeded) bool
		}{
			{"category", map[string]any{"category": "TEA"},
				func(p servertest.Seeded) bool { return p.Category == "TEA" }},
			{"categoryIn", map[string]any{"categoryIn": []string{"TEA", "GRAIN_OIL"}},
				func(p servertest.Seeded) bool { return p.Category == "TEA" || p.Category == "GRAIN_OIL" }},
			{"nameContainsFold", map[string]any{"nameContainsFold": "tea cake"},
				func(p servertest.Seeded) bool { return p.Category == "SNACKS" }},
			{"nameContainsFold number", map[string]any{"nameContainsFold": "NO.1"},
				func(p servertest.Seeded) bool { return p.Name[len(p.Name)-2] == '1' }},
			{"hasCountyWith LIFTED", map[string]any{"hasCountyWith": []any{lifted}},
				func(p servertest.Seeded) bool { return p.Lifted }},
			{"hasCountyWith city", map[string]any{"hasCountyWith": []any{map[string]any{"city": "咸阳市"}}},
				func(p servertest.Seeded) bool { return !p.Lifted }},
			{"hasCountyWith id", map[string]any{"hasCountyWith": []any{map[string]any{"id": c.PoorCounty}}},
				func(p servertest.Seeded) bool { return !p.Lifted }},
			{"hasSupplierWith id", map[string]any{"hasSupplierWith": []any{map[string]any{"id": c.Suppliers[1]}}},
				func(p servertest.Seeded) bool { return p.SupplierID == c.Suppliers[1] }},
			{"hasSupplierWith name", map[string]any{"hasSupplierWith": []any{map[string]any{"nameContainsFold": "supplier c"}}},
				func(p servertest.Seeded) bool { return p.SupplierID == c.Suppliers[2] }},
			{"and", map[string]any{"and": []any{
				map[string]any{"categoryIn": []string{"TEA", "SNACKS", "OTHER"}},
				map[string]any{"hasCountyWith": []any{lifted}}}},
				func(p servertest.Seeded) bool {
					return (p.Category == "TEA" || p.Category == "SNACKS" || p.Category == "OTHER") && p.Lifted
				}},
			{"or", map[string]any{"or": []any{
				map[string]any{"category": "SEASONAL"},
				map[string]any{"hasSupplierWith": []any{map[string]any{"id": c.Suppliers[0]}}}}},
				func(p servertest.Seeded) bool { return p.Category == "SEASONAL" || p.SupplierID == c.Suppliers[0] }},
			{"not", map[string]any{"not": map[string]any{"category": "TEA"}},
				func(p servertest.Seeded) bool { return p.Category != "TEA" }},
			{"not or", map[string]any{"not": map[string]any{"or": []any{
				map[string]any{"hasCountyWith": []any{lifted}},
				map[string]any{"category": "GRAIN_OIL"}}}},
				func(p servertest.Seeded) bool { return !p.Lifted && p.Category != "GRAIN_OIL" }},
			{"nothing", map[string]any{"and": []any{map[string]any{"category": "TEA"}, map[string]any{"category": "OTHER"}}},
				func(p servertest.Seeded) bool { return false }},
		} {
			t.Run("where "+f.name, func(t *testing.T) {
				for _, caller := range []struct {
					name, token string
					admin       bool
				}{{"anonymous", "", false}, {"member", member.Token, false}, {"admin", m.Admin, true}} {
					want := c.IDs(func(p servertest.Seeded) bool { return (p.OnSale || caller.admin) && f.keep(p) })
					p := products(t, m, caller.token, map[string]any{"first": 100, "where": f.where})
					if !slices.Equal(p.ids(), want) || p.TotalCount != len(want) {
						t.Fatalf("%s: got %d (totalCount %d) %v\nwant %d %v", caller.name, len(p.Edges), p.TotalCount, p.ids(), len(want), want)
					}
				}
			})
		}

		t.Run("off sale", func(t *testing.T) {
			offSale := c.IDs(func(p servertest.Seeded) bool { return !p.OnSale })
			if len(offSale) != 5 {
				t.Fatalf("fixture: %d off sale", len(offSale))
			}
			for _, where := range []map[string]any{
				{"onSale": false},
				{"or": []any{map[string]any{"onSale": false}, map[string]any{"onSale": true}}},
				{"not": map[string]any{"onSale": true}},
				{"idIn": offSale},
			} {
				for _, token := range []string{"", member.Token} {
					p := products(t, m, token, map[string]any{"first": 100, "where": where})
					for _, e := range p.Edges {
						if !e.Node.OnSale {
							t.Fatalf("non-admin sees %s off sale with %v", e.Node.ID, where)
						}
					}
					if slices.ContainsFunc(p.ids(), func(id string) bool { return slices.Contains(offSale, id) }) {
						t.Fatalf("non-admin sees an off-sale product with %v", where)
					}
				}
			}
			p := products(t, m, "", map[string]any{"where": map[string]any{"onSale": false}})
			if p.TotalCount != 0 || len(p.Edges) != 0 {
				t.Fatalf("anonymous onSale:false: %d", p.TotalCount)
			}
			p = products(t, m, m.Admin, map[string]any{"where": map[string]any{"onSale": false}})
			if p.TotalCount != 5 || !slices.Equal(p.ids(), offSale) {
				t.Fatalf("admin onSale:false: %v, want %v", p.ids(), offSale)
			}
		})
	})
}

// The other public lists: suppliers, counties, live events, union
// organizations, flash sales, coupon campaigns.
func TestCatalogueLists(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		c := servertest.SeedCatalogue(t, m, 3)

		t.Run("suppliers", func(t *testing.T) {
			const q = `query($first: Int, $after: Cursor, $where: SupplierWhereInput) {
				suppliers(first: $first, after: $after, where: $where) {
					totalCount pageInfo { hasNextPage endCursor }
					edges { node { id name beneficiaries county { id povertyStatus } } } } }`
			type page struct {
				Suppliers struct {
					TotalCount int
					PageInfo   struct {
						HasNextPage bool
						EndCursor   string
					}
					Edges []struct {
						Node struct {
							ID, Name      string
							Beneficiaries int
							County        struct{ ID, PovertyStatus string }
						}
					}
				}
			}
			var p1, p2, all, filtered page
			servertest.MustDo(t, m, "", q, map[string]any{"first": 2}, &p1)
			servertest.MustDo(t, m, "", q, map[string]any{"first": 2, "after": p1.Suppliers.PageInfo.EndCursor}, &p2)
			if p1.Suppliers.TotalCount != 3 || len(p1.Suppliers.Edges) != 2 || !p1.Suppliers.PageInfo.HasNextPage ||
				len(p2.Suppliers.Edges) != 1 || p2.Suppliers.PageInfo.HasNextPage {
				t.Fatalf("pages: %+v / %+v", p1, p2)
			}
			got := []string{p1.Suppliers.Edges[0].Node.ID, p1.Suppliers.Edges[1].Node.ID, p2.Suppliers.Edges[0].Node.ID}
			if !slices.Equal(got, c.Suppliers) {
				t.Fatalf("suppliers %v, want %v", got, c.Suppliers)
			}
			servertest.MustDo(t, m, "", q, nil, &all)
			for i, e := range all.Suppliers.Edges {
				wantCounty := c.LiftedCounty
				if i == 1 {
					wantCounty = c.PoorCounty
				}
				if e.Node.Name != c.SupplierNames[i] || e.Node.Beneficiaries != 10*(i+1) || e.Node.County.ID != wantCounty {
					t.Fatalf("supplier %d: %+v", i, e.Node)
				}
			}
			servertest.MustDo(t, m, "", q, map[string]any{"where": map[string]any{"nameContainsFold": "SUPPLIER b"}}, &filtered)
			if filtered.Suppliers.TotalCount != 1 || len(filtered.Suppliers.Edges) != 1 ||
				filtered.Suppliers.Edges[0].Node.ID != c.Suppliers[1] {
				t.Fatalf("nameContainsFold: %+v", filtered)
			}
			for _, vars := range []map[string]any{{"first": 101}, {"first": -1}, {"after": "nope"}} {
				servertest.WantCode(t, m.Do("", q, vars), "BAD_USER_INPUT")
			}
		})
		t.Run("counties", func(t *testing.T) {
			var out struct {
				Counties []struct{ ID, Name, City, PovertyStatus string }
			}
			servertest.MustDo(t, m, "", `{ counties { id name city povertyStatus } }`, nil, &out)
			want := []string{c.LiftedCounty, c.PoorCounty}
			slices.Sort(want)
			if len(out.Counties) != 2 || out.Counties[0].ID != want[0] || out.Counties[1].ID != want[1] {
				t.Fatalf("counties: %+v", out)
			}
			for _, k := range out.Counties {
				if (k.ID == c.LiftedCounty) != (k.PovertyStatus == "LIFTED" && k.Name == "紫阳县" && k.City == "安康市") {
					t.Fatalf("county: %+v", k)
				}
			}
		})
		t.Run("live events", func(t *testing.T) {
			start := time.Now().UTC().Truncate(time.Second)
			var ids []string
			for i, title := range []string{"秦岭山货节", "紫阳富硒茶专场"} {
				var out struct{ CreateLiveEvent struct{ ID string } }
				servertest.MustDo(t, m, m.Admin, servertest.CreateLiveEventQ, map[string]any{"i": map[string]any{"title": title,
					"startsAt": start.Add(time.Duration(i) * time.Hour).Format(time.RFC3339),
					"endsAt":   start.Add(time.Duration(i+1) * time.Hour).Format(time.RFC3339)}}, &out)
				ids = append(ids, out.CreateLiveEvent.ID)
			}
			const q = `query($first: Int) { liveEvents(first: $first) { totalCount
				edges { node { id title startsAt endsAt streamURL flashSales { id } counters { orders unitsSold gmv } } } } }`
			var out struct {
				LiveEvents struct {
					TotalCount int
					Edges      []struct {
						Node struct {
							ID, Title, StartsAt string
							StreamURL           *string
							FlashSales          []struct{ ID string }
							Counters            struct {
								Orders, UnitsSold int
								Gmv               string
							}
						}
					}
				}
			}
			servertest.MustDo(t, m, "", q, nil, &out)
			ev := out.LiveEvents
			if ev.TotalCount != 2 || len(ev.Edges) != 2 || ev.Edges[0].Node.ID != ids[0] || ev.Edges[1].Node.ID != ids[1] ||
				ev.Edges[0].Node.Title != "秦岭山货节" || ev.Edges[0].Node.StartsAt != scalar.Format(start) ||
				ev.Edges[0].Node.StreamURL != nil || len(ev.Edges[0].Node.FlashSales) != 0 ||
				ev.Edges[0].Node.Counters.Orders != 0 || ev.Edges[0].Node.Counters.Gmv != "0.00" {
				t.Fatalf("liveEvents: %+v", ev)
			}
			servertest.WantCode(t, m.Do("", q, map[string]any{"first": 101}), "BAD_USER_INPUT")
		})
		t.Run("union organizations", func(t *testing.T) {
			r := m.Do("", `{ unionOrganizations { id name kind parent { id } } }`, nil)
			var out struct {
				UnionOrganizations []struct{ ID, Name, Kind string }
			}
			if len(r.Errors) > 0 {
				t.Fatal(r.Errors)
			}
			r.Decode(t, &out)
			if out.UnionOrganizations == nil {
				t.Fatalf("unionOrganizations is not a list: %s", r.Data)
			}
			for _, o := range out.UnionOrganizations {
				if o.ID == "" || o.Name == "" || o.Kind == "" {
					t.Fatalf("organization: %+v", o)
				}
			}
		})
		t.Run("unknown flash sale", func(t *testing.T) {
			for _, id := range []string{"fls_01JD5Z8Q5V8N4W3X2Y1Z0A9B8C", "nope", "", c.Products[0].ID} {
				r := m.Do("", `query($id: ID!) { flashSale(id: $id) { id } }`, map[string]any{"id": id})
				if len(r.Errors) > 0 || string(r.Data) != `{"flashSale":null}` {
					t.Fatalf("flashSale(%q): %s %+v", id, r.Data, r.Errors)
				}
			}
		})
		t.Run("coupon campaigns", func(t *testing.T) {
			for _, q := range []string{`{ couponCampaigns { id } }`, `{ couponCampaigns(activeOnly: false) { id tiers { threshold } } }`} {
				r := m.Do("", q, nil)
				if len(r.Errors) > 0 || string(r.Data) != `{"couponCampaigns":[]}` {
					t.Fatalf("%s: %s %+v", q, r.Data, r.Errors)
				}
			}
		})
	})
}

// platformStats counts what the test created.
func TestPlatformStats(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		m.Register("甲")
		pending := m.Register("乙")
		servertest.MustDo(t, m, pending.Token, servertest.SubmitRealNameQ, map[string]any{"i": map[string]any{
			"realName": "乙", "idNumber": servertest.NextIDNumber()}}, nil)
		m.Verified("丙")
		m.Verified("丁")
		for _, name := range []string{"西安市总工会", "咸阳市总工会", "陕西省教育工会"} {
			servertest.MustDo(t, m, m.Admin, servertest.RegisterUnitQ, map[string]any{"i": map[string]any{"name": name}}, nil)
		}
		servertest.SeedCatalogue(t, m, 2)
		var out struct {
			PlatformStats struct {
				PurchasingUnits, Members, VerifiedMembers, PaidOrders, Beneficiaries, CouponsIssued, CouponsRedeemed int
				OnlineProcurement, OfflineProcurement, TotalProcurement, UpdatedAt                                   string
			}
		}
		servertest.MustDo(t, m, "", `{ platformStats { purchasingUnits members verifiedMembers onlineProcurement offlineProcurement
			totalProcurement paidOrders beneficiaries couponsIssued couponsRedeemed updatedAt } }`, nil, &out)
		s := out.PlatformStats
		// members: the four registered and the ADMIN, who is a member too.
		if s.PurchasingUnits != 3 || s.Members != 5 || s.VerifiedMembers != 2 || s.PaidOrders != 0 ||
			s.Beneficiaries != 0 || s.CouponsIssued != 0 || s.CouponsRedeemed != 0 ||
			s.OnlineProcurement != "0.00" || s.OfflineProcurement != "0.00" || s.TotalProcurement != "0.00" {
			t.Fatalf("platformStats: %+v", s)
		}
		if u, err := time.Parse(time.RFC3339Nano, s.UpdatedAt); err != nil || time.Since(u) > time.Minute {
			t.Fatalf("updatedAt %q", s.UpdatedAt)
		}
		if n := servertest.Rows(t, d, "members"); n != s.Members {
			t.Fatalf("members %d, rows %d", s.Members, n)
		}
	})
}

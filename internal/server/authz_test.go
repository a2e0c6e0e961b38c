package server_test

import (
	"slices"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// Every ADMIN operation of the served schema: anonymous callers get
// UNAUTHENTICATED, members (verified or not) FORBIDDEN, and neither writes
// anything; the ADMIN succeeds. A member granted ADMIN then may run them.
func TestAdminOperationsAuthorization(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		county := servertest.CreateCounty(t, m, "镇安县", "商洛市", "LIFTED")
		supplier := servertest.CreateSupplier(t, m, "Zhen'an Chestnut Co-op", county, 12)
		product := servertest.CreateProduct(t, m, servertest.ProductIn{Name: "Chestnuts", Category: "MOUNTAIN_GOODS",
			Price: "30", Stock: 5, OnSale: true, SupplierID: supplier})
		unverified := m.Register("未认证")
		verified := m.Verified("已认证")
		target := m.Register("将成管理员")
		pending := m.Register("待审核")
		servertest.MustDo(t, m, pending.Token, servertest.SubmitRealNameQ, map[string]any{"i": map[string]any{
			"realName": "王五", "idNumber": servertest.NextIDNumber()}}, nil)

		start := time.Now().UTC().Add(time.Hour)
		cases := []struct {
			name  string
			query string
			vars  map[string]any
			// probe reads the state that a refused call must leave alone.
			probe func() int
			// check asserts the ADMIN's result.
			check func(t *testing.T, r *servertest.Response)
		}{
			{
				name:  "createCounty",
				query: servertest.CreateCountyQ,
				vars:  map[string]any{"i": map[string]any{"name": "宁陕县", "city": "安康市", "povertyStatus": "NON_POOR_WITH_TASKS"}},
				probe: func() int { return servertest.Rows(t, d, "counties") },
				check: func(t *testing.T, r *servertest.Response) {
					var out struct {
						CreateCounty struct{ ID, Name, City, PovertyStatus string }
					}
					r.Decode(t, &out)
					c := out.CreateCounty
					if c.ID == "" || c.Name != "宁陕县" || c.City != "安康市" || c.PovertyStatus != "NON_POOR_WITH_TASKS" {
						t.Fatalf("createCounty: %+v", c)
					}
				},
			},
			{
				name:  "createSupplier",
				query: servertest.CreateSupplierQ,
				vars:  map[string]any{"i": map[string]any{"name": "Ningshan Honey", "countyID": county, "beneficiaries": 7}},
				probe: func() int { return servertest.Rows(t, d, "suppliers") },
				check: func(t *testing.T, r *servertest.Response) {
					var out struct {
						CreateSupplier struct {
							Name          string
							Beneficiaries int
							County        struct{ ID string }
						}
					}
					r.Decode(t, &out)
					s := out.CreateSupplier
					if s.Name != "Ningshan Honey" || s.Beneficiaries != 7 || s.County.ID != county {
						t.Fatalf("createSupplier: %+v", s)
					}
				},
			},
			{
				name:  "createProduct",
				query: servertest.CreateProductQ,
				vars: servertest.ProductIn{Name: "Walnuts", Category: "SNACKS", Price: "25.5", SalePrice: "20",
					Stock: 9, OnSale: true, SupplierID: supplier}.Vars(),
				probe: func() int { return servertest.Rows(t, d, "products") },
				check: func(t *testing.T, r *servertest.Response) {
					var out struct {
						CreateProduct struct {
							Name, Category, Price, SalePrice string
							Stock                            int
							OnSale                           bool
							Supplier, County                 struct{ ID string }
						}
					}
					r.Decode(t, &out)
					p := out.CreateProduct
					if p.Name != "Walnuts" || p.Category != "SNACKS" || p.Price != "25.50" || p.SalePrice != "20.00" ||
						p.Stock != 9 || !p.OnSale || p.Supplier.ID != supplier || p.County.ID != county {
						t.Fatalf("createProduct: %+v", p)
					}
				},
			},
			{
				name:  "updateProduct",
				query: servertest.UpdateProductQ,
				vars:  map[string]any{"id": product, "i": map[string]any{"name": "Renamed Chestnuts", "stockDelta": 3}},
				probe: func() int {
					p := servertest.ReadProduct(t, d, product)
					if p.Name == "Renamed Chestnuts" {
						return -1
					}
					return p.Stock
				},
				check: func(t *testing.T, r *servertest.Response) {
					var out struct {
						UpdateProduct struct {
							ID, Name string
							Stock    int
						}
					}
					r.Decode(t, &out)
					if p := out.UpdateProduct; p.ID != product || p.Name != "Renamed Chestnuts" || p.Stock != 8 {
						t.Fatalf("updateProduct: %+v", p)
					}
				},
			},
			{
				name:  "createLiveEvent",
				query: servertest.CreateLiveEventQ,
				vars: map[string]any{"i": map[string]any{"title": "助农直播", "startsAt": start.Format(time.RFC3339),
					"endsAt": start.Add(2 * time.Hour).Format(time.RFC3339), "streamURL": "https://live.example.org/1"}},
				probe: func() int { return servertest.Rows(t, d, "live_events") },
				check: func(t *testing.T, r *servertest.Response) {
					var out struct {
						CreateLiveEvent struct {
							ID, Title, StartsAt, EndsAt string
							StreamURL                   *string
						}
					}
					r.Decode(t, &out)
					e := out.CreateLiveEvent
					if e.ID == "" || e.Title != "助农直播" || e.StartsAt != start.Truncate(time.Second).Format(time.RFC3339Nano) ||
						e.StreamURL == nil || *e.StreamURL != "https://live.example.org/1" {
						t.Fatalf("createLiveEvent: %+v", e)
					}
				},
			},
			{
				name:  "registerPurchasingUnit",
				query: servertest.RegisterUnitQ,
				vars:  map[string]any{"i": map[string]any{"name": "陕西省总工会机关"}},
				probe: func() int { return servertest.Rows(t, d, "purchasing_units") },
				check: func(t *testing.T, r *servertest.Response) {
					var out struct{ RegisterPurchasingUnit struct{ ID, Name string } }
					r.Decode(t, &out)
					if u := out.RegisterPurchasingUnit; u.ID == "" || u.Name != "陕西省总工会机关" {
						t.Fatalf("registerPurchasingUnit: %+v", u)
					}
				},
			},
			{
				name:  "grantRole",
				query: servertest.GrantRoleQ,
				vars:  map[string]any{"i": map[string]any{"memberID": target.ID, "role": "ADMIN"}},
				probe: func() int {
					return d.Int(t, `SELECT COUNT(*) FROM members WHERE CAST(roles AS TEXT) LIKE ?`, "%ADMIN%")
				},
				check: func(t *testing.T, r *servertest.Response) {
					var out struct {
						GrantRole struct {
							ID    string
							Roles []string
						}
					}
					r.Decode(t, &out)
					if g := out.GrantRole; g.ID != target.ID || !slices.Equal(g.Roles, []string{"MEMBER", "ADMIN"}) {
						t.Fatalf("grantRole: %+v", g)
					}
				},
			},
			{
				name:  "pendingVerifications",
				query: `{ pendingVerifications { totalCount edges { node { id verificationStatus } } } }`,
				probe: func() int { return 0 },
				check: func(t *testing.T, r *servertest.Response) {
					var out struct {
						PendingVerifications struct {
							TotalCount int
							Edges      []struct {
								Node struct{ ID, VerificationStatus string }
							}
						}
					}
					r.Decode(t, &out)
					p := out.PendingVerifications
					if p.TotalCount != 1 || len(p.Edges) != 1 || p.Edges[0].Node.ID != pending.ID ||
						p.Edges[0].Node.VerificationStatus != "PENDING" {
						t.Fatalf("pendingVerifications: %+v", p)
					}
				},
			},
			{
				name:  "reviewRealNameVerifications",
				query: servertest.ReviewQ,
				vars:  map[string]any{"i": map[string]any{"memberIDs": []string{pending.ID}, "approve": true}},
				probe: func() int {
					return d.Int(t, `SELECT COUNT(*) FROM members WHERE verification_status = 'PENDING'`)
				},
				check: func(t *testing.T, r *servertest.Response) {
					var out struct {
						ReviewRealNameVerifications []struct{ ID, VerificationStatus string }
					}
					r.Decode(t, &out)
					rv := out.ReviewRealNameVerifications
					if len(rv) != 1 || rv[0].ID != pending.ID || rv[0].VerificationStatus != "VERIFIED" {
						t.Fatalf("review: %+v", rv)
					}
				},
			},
		}
		callers := []struct {
			name, token, code string
		}{
			{"anonymous", "", "UNAUTHENTICATED"},
			{"garbage token", "mall_not-a-real-token", "UNAUTHENTICATED"},
			{"unverified member", unverified.Token, "FORBIDDEN"},
			{"verified member", verified.Token, "FORBIDDEN"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := c.probe()
				for _, caller := range callers {
					r := m.Do(caller.token, c.query, c.vars)
					if r.Code() != caller.code {
						t.Fatalf("%s: code %q, want %q (%+v)", caller.name, r.Code(), caller.code, r.Errors)
					}
					if string(r.Data) != "null" {
						t.Errorf("%s: refused call returned data %s", caller.name, r.Data)
					}
					if after := c.probe(); after != before {
						t.Fatalf("%s: refused call changed the state: %d → %d", caller.name, before, after)
					}
				}
				r := m.Do(m.Admin, c.query, c.vars)
				if len(r.Errors) > 0 {
					t.Fatalf("admin: %+v", r.Errors)
				}
				c.check(t, r)
			})
		}

		// The member granted ADMIN above now runs an admin mutation with the
		// token they had before the grant.
		n := servertest.Rows(t, d, "counties")
		var out struct{ CreateCounty struct{ Name string } }
		servertest.MustDo(t, m, target.Token, servertest.CreateCountyQ, map[string]any{"i": map[string]any{
			"name": "石泉县", "city": "安康市", "povertyStatus": "LIFTED"}}, &out)
		if out.CreateCounty.Name != "石泉县" || servertest.Rows(t, d, "counties") != n+1 {
			t.Fatalf("new admin's createCounty: %+v, counties %d → %d", out, n, servertest.Rows(t, d, "counties"))
		}
		// The other members are still refused.
		servertest.WantCode(t, m.Do(verified.Token, `{ pendingVerifications { totalCount } }`, nil), "FORBIDDEN")
	})
}

// Mutations that need a signed-in member refuse anonymous callers and
// write nothing.
func TestSignedInMutationsAnonymous(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		m.Register("someone")
		state := func() [3]int {
			return [3]int{
				servertest.Rows(t, d, "auth_tokens"),
				d.Int(t, `SELECT COUNT(*) FROM members WHERE verification_status <> 'UNVERIFIED'`),
				d.Int(t, `SELECT COUNT(DISTINCT password_hash) FROM members`),
			}
		}
		before := state()
		for _, c := range []struct {
			name, query string
			vars        map[string]any
		}{
			{"logout", `mutation { logout }`, nil},
			{"changePassword", `mutation($i: ChangePasswordInput!) { changePassword(input: $i) }`,
				map[string]any{"i": map[string]any{"oldPassword": "password-someone", "newPassword": "another-password"}}},
			{"submitRealNameVerification", servertest.SubmitRealNameQ,
				map[string]any{"i": map[string]any{"realName": "赵六", "idNumber": servertest.NextIDNumber()}}},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := m.Do("", c.query, c.vars)
				servertest.WantCode(t, r, "UNAUTHENTICATED")
				if after := state(); after != before {
					t.Fatalf("state changed: %v → %v", before, after)
				}
			})
		}
	})
}

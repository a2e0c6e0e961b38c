package server_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

const nodeQ = `query($id: ID!) { node(id: $id) { __typename id
	... on Member { phone realName verificationStatus }
	... on Product { name onSale } } }`

// node and nodes answer null, without an error, for IDs that are no IDs
// of the mall at all, and nodes takes at most 100 IDs.
//
// Well-formed IDs are not tested here: node(id:) of any well-formed ID
// fails with INTERNAL_SERVER_ERROR (see the report: gid.ID.UnmarshalGQL
// refuses the gid.ID that ent's generated noder hands it).
func TestNodeMalformedIDs(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		c := servertest.SeedCatalogue(t, m, 1)
		member := m.Register("会员")
		product := c.Products[0].ID
		garbage := []string{"nope", "prd_123", "", "prd_", "_", "prd_" + product, product + " ", " " + product,
			"tok" + member.ID[3:], "tir" + product[3:], "itm" + product[3:], "fsh" + product[3:],
			"prd_01JD5Z8Q5V8N4W3X2Y1Z0A9B8C' OR '1'='1", strings.Repeat("x", 10000), "prd_" + strings.Repeat("Z", 26)}

		for _, id := range garbage {
			for _, token := range []string{"", member.Token, m.Admin} {
				r := m.Do(token, nodeQ, map[string]any{"id": id})
				if len(r.Errors) > 0 || string(r.Data) != `{"node":null}` {
					t.Fatalf("node(%.40q): %s %+v", id, r.Data, r.Errors)
				}
			}
		}

		const nodesQ = `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`
		for _, token := range []string{"", m.Admin} {
			r := m.Do(token, nodesQ, map[string]any{"ids": garbage})
			var out struct{ Nodes []*struct{ ID string } }
			if len(r.Errors) > 0 {
				t.Fatalf("nodes: %+v", r.Errors)
			}
			r.Decode(t, &out)
			if len(out.Nodes) != len(garbage) || slices.ContainsFunc(out.Nodes, func(n *struct{ ID string }) bool { return n != nil }) {
				t.Fatalf("nodes of garbage: %s", r.Data)
			}
		}
		r := m.Do("", nodesQ, map[string]any{"ids": []string{}})
		if len(r.Errors) > 0 || string(r.Data) != `{"nodes":[]}` {
			t.Fatalf("nodes([]): %s %+v", r.Data, r.Errors)
		}

		for _, n := range []int{101, 1000} {
			many := make([]string, n)
			for i := range many {
				many[i] = "nope"
			}
			for _, token := range []string{"", m.Admin} {
				r := m.Do(token, nodesQ, map[string]any{"ids": many})
				servertest.WantCode(t, r, "BAD_USER_INPUT")
				if string(r.Data) != "null" {
					t.Fatalf("%d nodes: data %s", n, r.Data)
				}
			}
		}
		r = m.Do("", nodesQ, map[string]any{"ids": make([]string, 100)})
		var hundred struct{ Nodes []*struct{ ID string } }
		if len(r.Errors) > 0 {
			t.Fatalf("100 nodes: %+v", r.Errors)
		}
		r.Decode(t, &hundred)
		if len(hundred.Nodes) != 100 {
			t.Fatalf("100 nodes: %d", len(hundred.Nodes))
		}
	})
}

// me shows the member's own phone and real name in full; anonymous me is
// null.
func TestMeShowsOwnData(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		alice := m.Verified("爱丽丝")
		var me struct {
			Me struct {
				ID, Phone, VerificationStatus string
				RealName                      *string
				IDNumberMasked                *string
			}
		}
		servertest.MustDo(t, m, alice.Token, `{ me { id phone verificationStatus realName idNumberMasked } }`, nil, &me)
		if me.Me.ID != alice.ID || me.Me.Phone != alice.Phone || me.Me.VerificationStatus != "VERIFIED" ||
			me.Me.RealName == nil || *me.Me.RealName != "张爱丽丝" ||
			me.Me.IDNumberMasked == nil || !strings.Contains(*me.Me.IDNumberMasked, "**************") {
			t.Fatalf("me: %+v", me.Me)
		}
		r := m.Do("", servertest.MeQ, nil)
		if len(r.Errors) > 0 || string(r.Data) != `{"me":null}` {
			t.Fatalf("anonymous me: %s %+v", r.Data, r.Errors)
		}
		// The admin sees a member in full too (pendingVerifications is the
		// one list of members).
		bob := m.Register("鲍勃")
		servertest.MustDo(t, m, bob.Token, servertest.SubmitRealNameQ, servertest.RealNameVars("鲍勃", servertest.NextIDNumber()), nil)
		var pending struct {
			PendingVerifications struct {
				Edges []struct {
					Node struct{ ID, Phone, RealName string }
				}
			}
		}
		servertest.MustDo(t, m, m.Admin, `{ pendingVerifications { edges { node { id phone realName } } } }`, nil, &pending)
		e := pending.PendingVerifications.Edges
		if len(e) != 1 || e[0].Node.ID != bob.ID || e[0].Node.Phone != bob.Phone || e[0].Node.RealName != "鲍勃" {
			t.Fatalf("pendingVerifications: %+v", e)
		}
	})
}

// Filters never reach private data: no where-input of the served schema
// leads, however deep, to members, orders, coupons, tokens or their fields,
// and asking for such filters fails validation.
func TestWhereInputsStayPublic(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})

		type typeRef struct {
			Name   *string
			Kind   string
			OfType *typeRef
		}
		var schema struct {
			Schema struct {
				Types []struct {
					Name        string
					Kind        string
					InputFields []struct {
						Name string
						Type typeRef
					}
				}
			} `json:"__schema"`
		}
		m.MustDo("", `{ __schema { types { name kind inputFields { name
			type { name kind ofType { name kind ofType { name kind ofType { name kind } } } } } } } }`, nil, &schema)

		inputs := map[string][]struct {
			name, typ string
		}{}
		var roots []string
		for _, ty := range schema.Schema.Types {
			if ty.Kind != "INPUT_OBJECT" {
				continue
			}
			for _, f := range ty.InputFields {
				base := &f.Type
				for base.OfType != nil {
					base = base.OfType
				}
				name := ""
				if base.Name != nil && base.Kind == "INPUT_OBJECT" {
					name = *base.Name
				}
				inputs[ty.Name] = append(inputs[ty.Name], struct{ name, typ string }{f.Name, name})
			}
			if strings.HasSuffix(ty.Name, "WhereInput") {
				roots = append(roots, ty.Name)
			}
		}
		if !slices.Contains(roots, "ProductWhereInput") || !slices.Contains(roots, "SupplierWhereInput") ||
			!slices.Contains(roots, "CountyWhereInput") {
			t.Fatalf("where inputs: %v", roots)
		}
		forbiddenTypes := []string{"MemberWhereInput", "OrderWhereInput", "CouponWhereInput", "AuthTokenWhereInput",
			"CouponCampaignWhereInput", "CouponTierWhereInput", "OrderItemWhereInput", "FlashSaleHoldingWhereInput",
			"ProcurementRecordWhereInput"}
		for _, name := range forbiddenTypes {
			if _, ok := inputs[name]; ok {
				t.Errorf("the schema has %s", name)
			}
		}
		forbiddenWords := []string{"member", "order", "coupon", "token", "buyer", "phone", "password", "holding", "realname", "idnumber"}
		seen := map[string]bool{}
		queue := slices.Clone(roots)
		for len(queue) > 0 {
			name := queue[0]
			queue = queue[1:]
			if seen[name] {
				continue
			}
			seen[name] = true
			if slices.Contains(forbiddenTypes, name) {
				t.Errorf("a where input reaches %s", name)
			}
			for _, f := range inputs[name] {
				lower := strings.ToLower(f.name)
				for _, w := range forbiddenWords {
					if strings.Contains(lower, w) {
						t.Errorf("%s.%s reaches private data (%q)", name, f.name, w)
					}
				}
				if f.typ != "" {
					queue = append(queue, f.typ)
				}
			}
		}
		t.Logf("where inputs reachable: %v", slices.Sorted(maps.Keys(seen)))

		for _, q := range []string{
			`{ products(where: {hasOrderItemsWith: {}}) { totalCount } }`,
			`{ products(where: {hasOrderItems: true}) { totalCount } }`,
			`{ products(where: {hasFlashSalesWith: {}}) { totalCount } }`,
			`{ products(where: {hasSupplierWith: [{hasProductsWith: [{}]}]}) { totalCount } }`,
			`{ products(where: {hasSupplierWith: [{hasProcurementRecordsWith: [{}]}]}) { totalCount } }`,
			`{ products(where: {hasCountyWith: [{hasProductsWith: [{}]}]}) { totalCount } }`,
			`{ suppliers(where: {hasProductsWith: [{}]}) { totalCount } }`,
			`{ liveEvents(where: {hasFlashSalesWith: [{}]}) { totalCount } }`,
			`{ products(where: {updatedAt: "2020-01-01T00:00:00Z"}) { totalCount } }`,
		} {
			r := m.Do("", q, nil)
			servertest.WantCode(t, r, "GRAPHQL_VALIDATION_FAILED")
			if r.Status == 500 {
				t.Fatalf("%s: status 500", q)
			}
		}
	})
}

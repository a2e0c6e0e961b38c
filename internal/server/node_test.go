package server_test

import (
	"slices"
	"strings"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

const nodeVisQ = `query($id: ID!) { node(id: $id) { __typename id
	... on Member { phone realName verificationStatus }
	... on Product { name onSale } } }`

type nodeOut struct {
	Typename           string `json:"__typename"`
	ID                 string
	Phone              string
	RealName           *string
	VerificationStatus string
	Name               string
	OnSale             bool
}

// node and nodes show what the caller may see and null for everything
// else: unknown IDs, malformed IDs, other members, products off sale.
func TestNodeVisibility(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		c := servertest.SeedCatalogue(t, m, 6) // product 5 is off sale
		onSale, offSale := c.Products[0].ID, c.Products[5].ID
		if c.Products[5].OnSale {
			t.Fatal("fixture: product 5 is on sale")
		}
		alice := m.Verified("爱丽丝")
		bob := m.Register("鲍勃")
		var tokenID string
		if err := d.Pool.QueryRow(`SELECT id FROM auth_tokens LIMIT 1`).Scan(&tokenID); err != nil {
			t.Fatal(err)
		}

		node := func(t *testing.T, token, id string) *nodeOut {
			t.Helper()
			r := m.Do(token, nodeVisQ, map[string]any{"id": id})
			if len(r.Errors) > 0 {
				t.Fatalf("node(%q): %+v", id, r.Errors)
			}
			var out struct{ Node *nodeOut }
			r.Decode(t, &out)
			return out.Node
		}

		t.Run("members", func(t *testing.T) {
			if n := node(t, bob.Token, alice.ID); n != nil {
				t.Fatalf("bob sees alice: %+v", n)
			}
			if n := node(t, "", alice.ID); n != nil {
				t.Fatalf("anonymous sees alice: %+v", n)
			}
			if n := node(t, alice.Token, alice.ID); n == nil || n.Typename != "Member" || n.Phone != alice.Phone ||
				n.RealName == nil || *n.RealName != "张爱丽丝" || n.VerificationStatus != "VERIFIED" {
				t.Fatalf("alice sees herself: %+v", n)
			}
			if n := node(t, m.Admin, alice.ID); n == nil || n.Phone != alice.Phone || n.RealName == nil || *n.RealName != "张爱丽丝" {
				t.Fatalf("admin sees alice: %+v", n)
			}
			// me: the member's own data in full.
			var me struct {
				Me struct {
					ID, Phone string
					RealName  *string
				}
			}
			servertest.MustDo(t, m, alice.Token, servertest.MeQ, nil, &me)
			if me.Me.ID != alice.ID || me.Me.Phone != alice.Phone || me.Me.RealName == nil || *me.Me.RealName != "张爱丽丝" {
				t.Fatalf("me: %+v", me.Me)
			}
			r := m.Do("", servertest.MeQ, nil)
			if len(r.Errors) > 0 || string(r.Data) != `{"me":null}` {
				t.Fatalf("anonymous me: %s %+v", r.Data, r.Errors)
			}
		})
		t.Run("products", func(t *testing.T) {
			for _, token := range []string{"", bob.Token, alice.Token} {
				if n := node(t, token, offSale); n != nil {
					t.Fatalf("non-admin sees an off-sale product: %+v", n)
				}
				if n := node(t, token, onSale); n == nil || n.Typename != "Product" || n.Name != c.Products[0].Name || !n.OnSale {
					t.Fatalf("on-sale product: %+v", n)
				}
			}
			if n := node(t, m.Admin, offSale); n == nil || n.ID != offSale || n.OnSale || n.Name != c.Products[5].Name {
				t.Fatalf("admin, off-sale product: %+v", n)
			}
		})
		t.Run("public types", func(t *testing.T) {
			for id, typ := range map[string]string{c.LiftedCounty: "County", c.Suppliers[0]: "Supplier"} {
				if n := node(t, "", id); n == nil || n.Typename != typ || n.ID != id {
					t.Fatalf("node(%s): %+v", id, n)
				}
			}
		})
		t.Run("garbage", func(t *testing.T) {
			unknown := "prd_01JD5Z8Q5V8N4W3X2Y1Z0A9B8C"
			for _, id := range []string{"nope", "prd_123", "", "prd_", "_", unknown, strings.ToLower(onSale),
				"mem" + onSale[3:], "cty" + onSale[3:], tokenID, "tok" + alice.ID[3:], onSale + " ",
				"prd_01JD5Z8Q5V8N4W3X2Y1Z0A9B8C' OR '1'='1", strings.Repeat("x", 10000)} {
				for _, token := range []string{"", m.Admin} {
					if n := node(t, token, id); n != nil {
						t.Fatalf("node(%q) = %+v", id, n)
					}
				}
			}
		})
		t.Run("nodes", func(t *testing.T) {
			ids := []string{onSale, "nope", alice.ID, offSale, c.LiftedCounty, bob.ID, "prd_123", onSale}
			q := `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`
			get := func(token string) []string {
				var out struct {
					Nodes []*struct{ ID string }
				}
				servertest.MustDo(t, m, token, q, map[string]any{"ids": ids}, &out)
				got := make([]string, len(out.Nodes))
				for i, n := range out.Nodes {
					if n != nil {
						got[i] = n.ID
					}
				}
				return got
			}
			if got, want := get(bob.Token), []string{onSale, "", "", "", c.LiftedCounty, bob.ID, "", onSale}; !slices.Equal(got, want) {
				t.Fatalf("bob:\n%v\nwant\n%v", got, want)
			}
			if got, want := get(""), []string{onSale, "", "", "", c.LiftedCounty, "", "", onSale}; !slices.Equal(got, want) {
				t.Fatalf("anonymous:\n%v\nwant\n%v", got, want)
			}
			if got, want := get(m.Admin), []string{onSale, "", alice.ID, offSale, c.LiftedCounty, bob.ID, "", onSale}; !slices.Equal(got, want) {
				t.Fatalf("admin:\n%v\nwant\n%v", got, want)
			}
			var empty struct{ Nodes []*struct{ ID string } }
			servertest.MustDo(t, m, "", q, map[string]any{"ids": []string{}}, &empty)
			if empty.Nodes == nil || len(empty.Nodes) != 0 {
				t.Fatalf("nodes([]) = %+v", empty)
			}

			many := make([]string, 101)
			for i := range many {
				many[i] = onSale
			}
			r := m.Do("", q, map[string]any{"ids": many})
			servertest.WantCode(t, r, "BAD_USER_INPUT")
			if string(r.Data) != "null" {
				t.Fatalf("101 nodes: data %s", r.Data)
			}
			var hundred struct{ Nodes []*struct{ ID string } }
			servertest.MustDo(t, m, "", q, map[string]any{"ids": many[:100]}, &hundred)
			if len(hundred.Nodes) != 100 || hundred.Nodes[99] == nil || hundred.Nodes[99].ID != onSale {
				t.Fatalf("100 nodes: %d", len(hundred.Nodes))
			}
		})
	})
}

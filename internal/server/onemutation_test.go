package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// A mutation operation has one root field: a document whose mutation
// selects more, however written, is refused with BAD_USER_INPUT before
// anything runs (no order, no stock taken); fields that merge into one
// response key, or that @skip/@include leave out, do not count.
func TestMutationOfSeveralRootFieldsRefused(t *testing.T) {
	const (
		place  = `placeOrder(input: $i) { id }`
		cancel = `cancelOrder(id: "ord_01JD0000000000000000000000") { id }`
		vars   = `$i: PlaceOrderInput!`
	)
	tests := []struct {
		name    string
		query   string
		vars    map[string]any
		refused bool
	}{
		{name: "two aliased fields", refused: true,
			query: `mutation(` + vars + `) { a: ` + place + ` b: ` + cancel + ` }`},
		{name: "two fields", refused: true,
			query: `mutation(` + vars + `) { ` + place + ` ` + cancel + ` }`},
		{name: "one field under two aliases", refused: true,
			query: `mutation(` + vars + `) { a: ` + place + ` b: ` + place + ` }`},
		{name: "a fragment of two fields", refused: true,
			query: `mutation(` + vars + `) { ...Two } fragment Two on Mutation { ` + place + ` ` + cancel + ` }`},
		{name: "a field and a fragment", refused: true,
			query: `mutation(` + vars + `) { ` + place + ` ...Cancel } fragment Cancel on Mutation { ` + cancel + ` }`},
		{name: "inline fragments", refused: true,
			query: `mutation(` + vars + `) { ... on Mutation { ` + place + ` } ... { c: ` + cancel + ` } }`},
		{name: "@include by a variable that is true", refused: true, vars: map[string]any{"two": true},
			query: `mutation(` + vars + `, $two: Boolean!) { ` + place + ` c: cancelOrder(id: "ord_nope") @include(if: $two) { id } }`},
		{name: "@skip by a variable that is false", refused: true, vars: map[string]any{"one": false},
			query: `mutation(` + vars + `, $one: Boolean!) { ` + place + ` c: cancelOrder(id: "ord_nope") @skip(if: $one) { id } }`},
		{name: "__typename beside a field", refused: true,
			query: `mutation(` + vars + `) { __typename ` + place + ` }`},

		{name: "@include by a variable that is false", vars: map[string]any{"two": false},
			query: `mutation(` + vars + `, $two: Boolean!) { ` + place + ` c: cancelOrder(id: "ord_nope") @include(if: $two) { id } }`},
		{name: "identical fields merge into one", query: `mutation(` + vars + `) { ` + place + ` placeOrder(input: $i) { number } }`},
		{name: "one field in a fragment", query: `mutation(` + vars + `) { ...One } fragment One on Mutation { ` + place + ` }`},
	}
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		buyer := m.Verified("买家")
		tea := servertest.NewShop(t, m).Product(t, "紫阳富硒茶", "10.00", "", 100)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				vars := servertest.OrderInput([]servertest.Line{{ID: tea, Qty: 2}}, nil)
				for k, v := range tt.vars {
					vars[k] = v
				}
				orders, stock := servertest.Rows(t, d, "orders"), servertest.StockOf(t, d, tea)
				if tt.refused {
					servertest.Refused(t, m, d, buyer.Token, tt.query, vars, "BAD_USER_INPUT")
					return
				}
				servertest.MustDo(t, m, buyer.Token, tt.query, vars, nil)
				if servertest.Rows(t, d, "orders") != orders+1 || servertest.StockOf(t, d, tea) != stock-2 {
					t.Fatalf("want one order of 2: orders %d → %d, stock %d → %d",
						orders, servertest.Rows(t, d, "orders"), stock, servertest.StockOf(t, d, tea))
				}
			})
		}
	})
}

// The same holds over websockets, on both subprotocols.
func TestMutationOfSeveralRootFieldsRefusedOverWebsockets(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		buyer := m.Verified("买家")
		tea := servertest.NewShop(t, m).Product(t, "紫阳富硒茶", "10.00", "", 100)
		const two = `mutation($i: PlaceOrderInput!) { a: placeOrder(input: $i) { id } b: cancelOrder(id: "ord_nope") { id } }`
		for _, proto := range []string{servertest.TransportWS, servertest.LegacyWS} {
			t.Run(proto, func(t *testing.T) {
				ws, err := servertest.DialWS(m.HTTP.URL, proto, map[string]any{"Authorization": "Bearer " + buyer.Token})
				if err != nil {
					t.Fatal(err)
				}
				defer ws.Conn.Close()
				before := servertest.OrderState(t, d)
				if _, err := ws.Subscribe(two, servertest.OrderInput([]servertest.Line{{ID: tea, Qty: 2}}, nil)); err != nil {
					t.Fatal(err)
				}
				var got []string
				for {
					msg, err := ws.Read(5 * time.Second)
					if err != nil {
						t.Fatalf("after %v: %v", got, err)
					}
					got = append(got, msg.Type+" "+string(msg.Payload))
					if msg.Type == "complete" || msg.Type == "error" {
						break
					}
				}
				if all := strings.Join(got, "\n"); !strings.Contains(all, `"code":"BAD_USER_INPUT"`) || strings.Contains(all, `"placeOrder"`) ||
					strings.Contains(all, `"a":{`) {
					t.Fatalf("want a BAD_USER_INPUT refusal and no data, got:\n%s", all)
				}
				servertest.Unchanged(t, d, before)
			})
		}
	})
}

// Forty aliased changePassword fields, the first with the right old
// password, are refused before any of them runs: the password and every
// token stay as they were.
func TestAliasedChangePasswordsRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		member := m.Register("会员")
		other := m.Login(member.Phone, member.Password)
		var q strings.Builder
		q.WriteString("mutation {")
		for i := range 40 {
			old := "guess-" + fmt.Sprint(i)
			if i == 0 {
				old = member.Password
			}
			fmt.Fprintf(&q, " a%d: changePassword(input: {oldPassword: %q, newPassword: \"new-password-%d\"})", i, old, i)
		}
		q.WriteString(" }")
		state := func() []string {
			return append(servertest.RowLines(t, d, "member", `SELECT id, password_hash FROM members ORDER BY id`),
				servertest.RowLines(t, d, "token", `SELECT id, member_id, token_hash FROM auth_tokens ORDER BY id`)...)
		}
		before := state()
		r := m.Do(member.Token, q.String(), nil)
		servertest.WantCode(t, r, "BAD_USER_INPUT")
		if data := strings.TrimSpace(string(r.Data)); data != "" && data != "null" {
			t.Fatalf("refusal returned data %s", data)
		}
		if after := state(); strings.Join(after, "\n") != strings.Join(before, "\n") {
			t.Fatalf("members or tokens changed:\nbefore %v\nafter  %v", before, after)
		}
		var me struct{ Me *struct{ ID string } }
		servertest.MustDo(t, m, other, `{ me { id } }`, nil, &me)
		if me.Me == nil || me.Me.ID != member.ID {
			t.Fatalf("the member's other token stopped working: %+v", me)
		}
		m.Login(member.Phone, member.Password) // the old password still signs in
		// One changePassword alone still works.
		var ok map[string]bool
		servertest.MustDo(t, m, member.Token, `mutation { changePassword(input: {oldPassword: "`+member.Password+`", newPassword: "new-password-x"}) }`, nil, &ok)
		if b, _ := json.Marshal(ok); string(b) != `{"changePassword":true}` {
			t.Fatalf("changePassword: %s", b)
		}
	})
}

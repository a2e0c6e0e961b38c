package orders_test

// ADMIN's order search through HTTP: by number, buyer phone, time range
// (half-open) and status, AND-ed, newest first; malformed filters are
// BAD_USER_INPUT.

import (
	"slices"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

const searchQ = `query($n: String, $p: String, $a: Time, $b: Time, $s: OrderStatus) {
	orders(number: $n, buyerPhone: $p, placedAfter: $a, placedBefore: $b, status: $s, first: 100) {
		totalCount edges { node { id number } } } }`

func search(t *testing.T, m *servertest.Mall, token string, vars map[string]any) []string {
	t.Helper()
	var out struct {
		Orders struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID, Number string } }
		}
	}
	servertest.MustDo(t, m, token, searchQ, vars, &out)
	ids := []string{}
	for _, e := range out.Orders.Edges {
		ids = append(ids, e.Node.ID)
	}
	if out.Orders.TotalCount != len(ids) {
		t.Fatalf("totalCount %d, %d edges", out.Orders.TotalCount, len(ids))
	}
	return ids
}

func TestOrderSearch(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		shop := servertest.NewShop(t, m)
		tea := shop.Product(t, "汉中仙毫", "10.00", "10.00", 100)
		ann, bob := m.Verified("安"), m.Verified("博")
		lines := []servertest.Line{{ID: tea, Qty: 1}}
		// Placed one after another: a1 < b1 < a2 < a3 in createdAt.
		a1 := servertest.PlaceOrder(t, m, ann.Token, lines, nil)
		b1 := servertest.PlaceOrder(t, m, bob.Token, lines, nil)
		a2 := servertest.PlaceOrder(t, m, ann.Token, lines, nil)
		a3 := servertest.PlaceOrder(t, m, ann.Token, lines, nil)
		servertest.Pay(t, m, a2, "ref-"+a2.Number)
		// Whole hours apart, whatever precision the API writes times with.
		base := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
		for i, o := range []*servertest.Order{&a1, &b1, &a2, &a3} {
			at := base.Add(time.Duration(i) * time.Hour)
			if _, err := d.Pool.Exec(d.Q(`UPDATE orders SET created_at = ? WHERE id = ?`), at, o.ID); err != nil {
				t.Fatal(err)
			}
			o.CreatedAt = at.Format(time.RFC3339)
		}

		for _, tc := range []struct {
			name string
			vars map[string]any
			want []string // newest first
		}{
			{"no filter", nil, []string{a3.ID, a2.ID, b1.ID, a1.ID}},
			{"number", map[string]any{"n": b1.Number}, []string{b1.ID}},
			{"number, padded", map[string]any{"n": " " + b1.Number + " "}, []string{b1.ID}},
			{"number of nothing", map[string]any{"n": "202001010000000000000000"}, []string{}},
			{"buyer phone", map[string]any{"p": ann.Phone}, []string{a3.ID, a2.ID, a1.ID}},
			{"phone of nobody", map[string]any{"p": "19999999999"}, []string{}},
			{"number and another buyer's phone", map[string]any{"n": b1.Number, "p": ann.Phone}, []string{}},
			{"placedAfter is inclusive", map[string]any{"a": b1.CreatedAt}, []string{a3.ID, a2.ID, b1.ID}},
			{"placedBefore is exclusive", map[string]any{"b": a2.CreatedAt}, []string{b1.ID, a1.ID}},
			{"range", map[string]any{"a": b1.CreatedAt, "b": a3.CreatedAt}, []string{a2.ID, b1.ID}},
			{"range and phone", map[string]any{"a": b1.CreatedAt, "b": a3.CreatedAt, "p": ann.Phone}, []string{a2.ID}},
			{"status and phone", map[string]any{"s": "PENDING_PAYMENT", "p": ann.Phone}, []string{a3.ID, a1.ID}},
			{"status, phone and range", map[string]any{"s": "PAID", "p": ann.Phone, "a": a1.CreatedAt}, []string{a2.ID}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := search(t, m, m.Admin, tc.vars)
				// Other tests' orders are not in this database: exact lists.
				if !slices.Equal(got, tc.want) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			})
		}

		for _, tc := range []struct {
			name string
			vars map[string]any
		}{
			{"number too short", map[string]any{"n": "2026"}},
			{"number with letters", map[string]any{"n": "20261201abcdefghijklmnop"}},
			{"empty number", map[string]any{"n": ""}},
			{"phone too short", map[string]any{"p": "1380000"}},
			{"phone with letters", map[string]any{"p": "1380000000x"}},
			{"phone not starting with 1", map[string]any{"p": "23800000000"}},
			{"after = before", map[string]any{"a": a2.CreatedAt, "b": a2.CreatedAt}},
			{"after > before", map[string]any{"a": a3.CreatedAt, "b": a1.CreatedAt}},
		} {
			t.Run("refused: "+tc.name, func(t *testing.T) {
				r := m.Do(m.Admin, searchQ, tc.vars)
				servertest.WantCode(t, r, "BAD_USER_INPUT")
			})
		}

		t.Run("every bad filter at once", func(t *testing.T) {
			r := m.Do(m.Admin, searchQ, map[string]any{"n": "2026", "p": "1380000", "a": a3.CreatedAt, "b": a1.CreatedAt})
			servertest.WantCode(t, r, "BAD_USER_INPUT")
			var got []string
			if fs, ok := r.Errors[0].Extensions["fields"].([]any); ok {
				for _, f := range fs {
					if f, ok := f.(map[string]any); ok {
						got = append(got, f["field"].(string))
					}
				}
			}
			if want := []string{"number", "buyerPhone", "placedBefore"}; !slices.Equal(got, want) {
				t.Fatalf("extensions.fields names %v, want %v", got, want)
			}
		})

		t.Run("ADMIN only", func(t *testing.T) {
			servertest.WantCode(t, m.Do("", searchQ, map[string]any{"p": ann.Phone}), "UNAUTHENTICATED")
			servertest.WantCode(t, m.Do(ann.Token, searchQ, map[string]any{"p": ann.Phone}), "FORBIDDEN")
		})
	})
}

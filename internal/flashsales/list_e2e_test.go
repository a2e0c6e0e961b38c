package flashsales_test

// flashSales (秒杀日历) through HTTP: every visible sale, with or without a
// live event, by startsAt then ID; the status filter says what each
// sale's status field says; the startsAt range is half-open; Relay paging
// both ways; sales of products off sale for ADMIN only.

import (
	"slices"
	"sort"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

const listQ = `query($s: FlashSaleStatus, $a: Time, $b: Time, $first: Int, $after: Cursor, $last: Int, $before: Cursor) {
	flashSales(status: $s, startsAfter: $a, startsBefore: $b, first: $first, after: $after, last: $last, before: $before) {
		totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		edges { cursor node { id status startsAt liveEvent { id } } } } }`

type listed struct {
	FlashSales struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage, HasPreviousPage bool
			StartCursor, EndCursor       *string
		}
		Edges []struct {
			Cursor string
			Node   struct {
				ID, Status, StartsAt string
				LiveEvent            *struct{ ID string }
			}
		}
	}
}

func (l listed) ids() []string {
	out := []string{}
	for _, e := range l.FlashSales.Edges {
		out = append(out, e.Node.ID)
	}
	return out
}

func TestFlashSalesList(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		oil := servertest.OilProduct(t, m, 1000)
		gone := servertest.NewShop(t, m).Product(t, "紫阳富硒茶", "30.00", "30.00", 100)
		now := time.Now().UTC().Truncate(time.Second)
		from, to := now.Add(-time.Minute), now.Add(time.Hour)
		scheduled := servertest.CreateSale(t, m, oil, "1", 5, 1, now.Add(time.Hour), now.Add(2*time.Hour)).ID
		// Three sales starting at the same moment: ID breaks the tie.
		active := servertest.CreateSale(t, m, oil, "1", 5, 1, from, to).ID
		soldOut := servertest.CreateSale(t, m, oil, "1", 1, 1, from, to).ID
		ended := servertest.CreateSale(t, m, oil, "1", 5, 1, from, to).ID
		early := servertest.CreateSale(t, m, oil, "1", 5, 1, now.Add(-2*time.Hour), to).ID
		hidden := servertest.CreateSale(t, m, gone, "1", 5, 1, from, to).ID
		buyer := m.Verified("秒杀")
		servertest.MustDo(t, m, buyer.Token, servertest.BuyQ, map[string]any{"i": map[string]any{"flashSaleID": soldOut}}, nil)
		for _, id := range []string{ended, early} {
			servertest.MustDo(t, m, m.Admin, `mutation($id: ID!) { endFlashSale(id: $id) { id } }`, map[string]any{"id": id}, nil)
		}
		servertest.MustDo(t, m, m.Admin, servertest.UpdateProductQ, map[string]any{"id": gone, "i": map[string]any{"onSale": false}}, nil)

		same := []string{active, soldOut, ended, hidden}
		sort.Strings(same)
		all := append(append([]string{early}, same...), scheduled)
		public := slices.DeleteFunc(slices.Clone(all), func(id string) bool { return id == hidden })
		list := func(token string, vars map[string]any) listed {
			t.Helper()
			var out listed
			servertest.MustDo(t, m, token, listQ, vars, &out)
			if out.FlashSales.TotalCount < len(out.FlashSales.Edges) {
				t.Fatalf("totalCount %d below %d edges", out.FlashSales.TotalCount, len(out.FlashSales.Edges))
			}
			return out
		}

		t.Run("by startsAt then ID; off sale for ADMIN only", func(t *testing.T) {
			for _, c := range []struct {
				who, token string
				want       []string
			}{{"anonymous", "", public}, {"member", buyer.Token, public}, {"admin", m.Admin, all}} {
				l := list(c.token, nil)
				if got := l.ids(); !slices.Equal(got, c.want) || l.FlashSales.TotalCount != len(c.want) {
					t.Fatalf("%s: %v (total %d), want %v", c.who, got, l.FlashSales.TotalCount, c.want)
				}
			}
		})

		t.Run("status means the status field", func(t *testing.T) {
			want := map[string]string{scheduled: "SCHEDULED", active: "ACTIVE", soldOut: "SOLD_OUT", ended: "ENDED", early: "ENDED", hidden: "ACTIVE"}
			for _, token := range []string{"", m.Admin} {
				for _, st := range []string{"SCHEDULED", "ACTIVE", "SOLD_OUT", "ENDED"} {
					l := list(token, map[string]any{"s": st})
					var wantIDs []string
					for _, id := range all {
						if want[id] == st && (token != "" || id != hidden) {
							wantIDs = append(wantIDs, id)
						}
					}
					if got := l.ids(); !slices.Equal(got, wantIDs) {
						t.Fatalf("status %s (admin %v): %v, want %v", st, token != "", got, wantIDs)
					}
					for _, e := range l.FlashSales.Edges {
						if e.Node.Status != st {
							t.Fatalf("status %s lists %s whose status is %s", st, e.Node.ID, e.Node.Status)
						}
					}
				}
			}
		})

		t.Run("startsAt range is half-open", func(t *testing.T) {
			f := func(t time.Time) string { return t.Format(time.RFC3339) }
			for _, c := range []struct {
				name string
				vars map[string]any
				want []string
			}{
				{"startsAfter inclusive", map[string]any{"a": f(from)}, append(slices.DeleteFunc(slices.Clone(same), func(id string) bool { return id == hidden }), scheduled)},
				{"startsBefore exclusive", map[string]any{"b": f(from)}, []string{early}},
				{"both", map[string]any{"a": f(from), "b": f(now.Add(time.Hour))}, slices.DeleteFunc(slices.Clone(same), func(id string) bool { return id == hidden })},
				{"with status", map[string]any{"a": f(from), "s": "ENDED"}, []string{ended}},
			} {
				if got := list("", c.vars).ids(); !slices.Equal(got, c.want) {
					t.Fatalf("%s: %v, want %v", c.name, got, c.want)
				}
			}
		})

		t.Run("Relay paging both ways", func(t *testing.T) {
			var walked []string
			vars := map[string]any{"first": 2}
			for {
				l := list("", vars)
				walked = append(walked, l.ids()...)
				if !l.FlashSales.PageInfo.HasNextPage {
					break
				}
				vars = map[string]any{"first": 2, "after": *l.FlashSales.PageInfo.EndCursor}
			}
			if !slices.Equal(walked, public) {
				t.Fatalf("forward: %v, want %v", walked, public)
			}
			var back []string
			vars = map[string]any{"last": 2}
			for {
				l := list("", vars)
				back = append(l.ids(), back...)
				if !l.FlashSales.PageInfo.HasPreviousPage {
					break
				}
				vars = map[string]any{"last": 2, "before": *l.FlashSales.PageInfo.StartCursor}
			}
			if !slices.Equal(back, public) {
				t.Fatalf("backward: %v, want %v", back, public)
			}
		})

		t.Run("refused", func(t *testing.T) {
			for name, vars := range map[string]map[string]any{
				"first 101":              {"first": 101},
				"last 101":               {"last": 101},
				"first -1":               {"first": -1},
				"startsAfter = before":   {"a": from.Format(time.RFC3339), "b": from.Format(time.RFC3339)},
				"startsAfter after it":   {"a": to.Format(time.RFC3339), "b": from.Format(time.RFC3339)},
				"an unknown status enum": {"s": "SOON"},
			} {
				r := m.Do("", listQ, vars)
				if code := r.Code(); code != "BAD_USER_INPUT" && !(name == "an unknown status enum" && code == "GRAPHQL_VALIDATION_FAILED") {
					t.Fatalf("%s: code %q (%+v)", name, code, r.Errors)
				}
			}
			if got := len(list("", map[string]any{"first": 100}).FlashSales.Edges); got != len(public) {
				t.Fatalf("first 100: %d edges", got)
			}
		})
	})
}

package flashsales

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"unionmall/ent"
	"unionmall/internal/gid"
	"unionmall/internal/idempotency"
)

// decide alone: the contract's refusals, in its order, with no database.

// decideSale is the sale every case starts from (a case changes what it
// tests): open from 10:00 to 11:00 UTC, 10 units, 3 a member.
func decideSale() *ent.FlashSale {
	return &ent.FlashSale{
		ID: "fls_00000000000000000000000001", ProductID: "prd_00000000000000000000000001", Price: 990,
		Quantity: 10, Sold: 0, PerMemberLimit: 3,
		StartsAt: time.Date(2026, 11, 9, 10, 0, 0, 0, time.UTC),
		EndsAt:   time.Date(2026, 11, 9, 11, 0, 0, 0, time.UTC),
	}
}

// decideAsk is one request of a case: a buyer ("a", "b"...), units and a key.
type decideAsk struct {
	buyer string
	q     int
	key   string // "" for none
}

// Outcomes of a request, as a case states them.
const (
	outWon      = "won"
	outExisting = "existing" // answered with the order its key names
)

func TestDecide(t *testing.T) {
	thisSale, otherSale := decideSale().ID, gid.ID("fls_00000000000000000000000002")
	at := func(h, m int) time.Time { return time.Date(2026, 11, 9, h, m, 0, 0, time.UTC) }
	settled := at(10, 30)
	// Orders that idempotency keys name: one of this sale, one of another
	// sale, one placed through placeOrder (no sale).
	named := map[string]keyed{
		keyFor("mem_a", "mine"):  {id: "ord_00000000000000000000000001", saleID: &thisSale},
		keyFor("mem_a", "other"): {id: "ord_00000000000000000000000002", saleID: &otherSale},
		keyFor("mem_a", "place"): {id: "ord_00000000000000000000000003"},
	}
	cases := []struct {
		name  string
		sale  func(*ent.FlashSale)
		now   time.Time
		held  map[string]int
		asks  []decideAsk
		want  []any // outWon, outExisting or the error
		units int
	}{
		{name: "open: every request fits", now: at(10, 30),
			asks: []decideAsk{{"a", 1, ""}, {"b", 3, ""}, {"c", 2, "k"}},
			want: []any{outWon, outWon, outWon}, units: 6},
		{name: "settled before its end time has ended", now: at(10, 40), sale: func(s *ent.FlashSale) { s.SettledAt = &settled },
			asks: []decideAsk{{"a", 1, ""}}, want: []any{errEnded}},
		{name: "ended at its end time", now: at(11, 0),
			asks: []decideAsk{{"a", 1, ""}}, want: []any{errEnded}},
		{name: "ended after its end time", now: at(12, 0),
			asks: []decideAsk{{"a", 1, ""}}, want: []any{errEnded}},
		{name: "not started", now: at(9, 59),
			asks: []decideAsk{{"a", 1, ""}}, want: []any{errNotStarted}},
		{name: "open at its start time", now: at(10, 0),
			asks: []decideAsk{{"a", 1, ""}}, want: []any{outWon}, units: 1},
		{name: "ended comes before sold out and the limit", now: at(11, 0), sale: func(s *ent.FlashSale) { s.Sold = 10 },
			held: map[string]int{"a": 3}, asks: []decideAsk{{"a", 1, ""}}, want: []any{errEnded}},
		{name: "not started comes before the limit", now: at(9, 0),
			asks: []decideAsk{{"a", 4, ""}}, want: []any{errNotStarted}},
		{name: "sold out", now: at(10, 30), sale: func(s *ent.FlashSale) { s.Sold = 10 },
			asks: []decideAsk{{"a", 1, ""}}, want: []any{errSoldOut}},
		{name: "a quantity above what remains is sold out", now: at(10, 30), sale: func(s *ent.FlashSale) { s.Sold = 8 },
			asks: []decideAsk{{"a", 3, ""}, {"b", 2, ""}}, want: []any{errSoldOut, outWon}, units: 2},
		{name: "sold out comes before the limit", now: at(10, 30), sale: func(s *ent.FlashSale) { s.Sold = 9 },
			asks: []decideAsk{{"a", 4, ""}}, want: []any{errSoldOut}},
		{name: "above the limit", now: at(10, 30),
			asks: []decideAsk{{"a", 4, ""}, {"b", 3, ""}}, want: []any{errLimit, outWon}, units: 3},
		{name: "holdings from earlier batches count toward the limit", now: at(10, 30),
			held: map[string]int{"a": 2, "b": 2}, asks: []decideAsk{{"a", 2, ""}, {"b", 1, ""}}, want: []any{errLimit, outWon}, units: 1},
		{name: "a buyer twice in one batch: the first request's units count", now: at(10, 30),
			asks: []decideAsk{{"a", 2, ""}, {"a", 2, ""}, {"a", 1, ""}}, want: []any{outWon, errLimit, outWon}, units: 3},
		{name: "requests share what remains in arrival order", now: at(10, 30), sale: func(s *ent.FlashSale) { s.Sold = 5 },
			asks: []decideAsk{{"a", 2, ""}, {"b", 2, ""}, {"c", 2, ""}, {"d", 1, ""}, {"e", 1, ""}},
			want: []any{outWon, outWon, errSoldOut, outWon, errSoldOut}, units: 5},
		{name: "a key naming an order of this sale is answered with it", now: at(10, 30),
			asks: []decideAsk{{"a", 1, "mine"}, {"b", 1, "mine"}}, want: []any{outExisting, outWon}, units: 1},
		{name: "... also once the sale has ended or sold out", now: at(11, 30), sale: func(s *ent.FlashSale) { s.Sold = 10 },
			asks: []decideAsk{{"a", 1, "mine"}}, want: []any{outExisting}},
		{name: "... and takes no units", now: at(10, 30), sale: func(s *ent.FlashSale) { s.Sold = 9 },
			asks: []decideAsk{{"a", 3, "mine"}, {"b", 1, ""}}, want: []any{outExisting, outWon}, units: 1},
		{name: "a key naming an order of another sale is another request", now: at(10, 30),
			asks: []decideAsk{{"a", 1, "other"}}, want: []any{idempotency.ErrOtherRequest}},
		{name: "a key naming a placeOrder order is another request", now: at(10, 30),
			asks: []decideAsk{{"a", 1, "place"}}, want: []any{idempotency.ErrOtherRequest}},
		{name: "... whatever the sale's state", now: at(9, 0),
			asks: []decideAsk{{"a", 1, "place"}, {"a", 1, "other"}}, want: []any{idempotency.ErrOtherRequest, idempotency.ErrOtherRequest}},
		{name: "a new key buys", now: at(10, 30),
			asks: []decideAsk{{"a", 1, "new"}}, want: []any{outWon}, units: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sale := decideSale()
			if c.sale != nil {
				c.sale(sale)
			}
			st := state{now: c.now, held: map[gid.ID]int{}, existing: named}
			for b, n := range c.held {
				st.held[gid.ID("mem_"+b)] = n
			}
			batch := make([]*buyRequest, len(c.asks))
			for i, a := range c.asks {
				batch[i] = &buyRequest{ctx: context.Background(), sale: sale.ID, buyer: gid.ID("mem_" + a.buyer), q: a.q}
				if a.key != "" {
					batch[i].key = &a.key
				}
			}
			before := *sale
			d := decide(sale, batch, st)
			if !reflect.DeepEqual(*sale, before) {
				t.Error("decide changed the sale")
			}
			winners := map[int]winner{}
			for _, w := range d.winners {
				winners[w.req] = w
			}
			for i, want := range c.want {
				var got any
				switch _, win := winners[i]; {
				case d.results[i].err != nil:
					got = d.results[i].err
					if win || d.existing[i] != "" {
						t.Errorf("request %d: refused (%v) and also a winner or answered", i, got)
					}
				case win && d.existing[i] == "":
					got = outWon
				case !win && d.existing[i] != "":
					got = outExisting
					if k := named[keyOf(batch[i])]; d.existing[i] != k.id {
						t.Errorf("request %d: answered with %s, want %s", i, d.existing[i], k.id)
					}
				default:
					t.Fatalf("request %d: neither refused, won nor answered (winner %v, existing %q)", i, win, d.existing[i])
				}
				if got != want {
					t.Errorf("request %d (%+v): %v, want %v", i, c.asks[i], got, want)
				}
			}
			if d.units != c.units {
				t.Errorf("units %d, want %d", d.units, c.units)
			}
			sum := 0
			for _, w := range d.winners {
				sum += batch[w.req].q
			}
			if sum != d.units {
				t.Errorf("the winners want %d units, the decision counts %d", sum, d.units)
			}
			checkWinners(t, d, c.now)
		})
	}
}

// checkWinners checks the new orders' IDs and numbers: fresh, of the
// right kinds, numbered at the batch's clock, in arrival order.
func checkWinners(t *testing.T, d decision, now time.Time) {
	t.Helper()
	seen := map[string]bool{}
	prefix := now.In(time.FixedZone("Asia/Shanghai", 8*60*60)).Format("20060102150405")
	for j, w := range d.winners {
		if j > 0 && w.req <= d.winners[j-1].req {
			t.Errorf("winners out of arrival order: %d after %d", w.req, d.winners[j-1].req)
		}
		if !w.orderID.Is(gid.Order) || !w.itemID.Is(gid.OrderItem) || !gid.ID(w.holdingID).Is(gid.FlashSaleHolding) {
			t.Errorf("winner %d has IDs %s, %s, %s", j, w.orderID, w.itemID, w.holdingID)
		}
		if !strings.HasPrefix(w.number, prefix) {
			t.Errorf("winner %d is numbered %s, want it to start with the batch's time %s", j, w.number, prefix)
		}
		for _, id := range []string{string(w.orderID), string(w.itemID), w.holdingID, w.number} {
			if seen[id] {
				t.Errorf("%s given twice", id)
			}
			seen[id] = true
		}
	}
}

// The state decide leaves holds the winners' units, which is what the
// rows of a stale-holdings build overwrite holdings with.
func TestDecideAddsWinnersToHeld(t *testing.T) {
	sale := decideSale()
	st := state{now: sale.StartsAt, held: map[gid.ID]int{"mem_a": 1}, existing: map[string]keyed{}}
	batch := []*buyRequest{
		{buyer: "mem_a", q: 2}, {buyer: "mem_b", q: 1}, {buyer: "mem_c", q: 4},
	}
	d := decide(sale, batch, st)
	if st.held["mem_a"] != 3 || st.held["mem_b"] != 1 || st.held["mem_c"] != 0 {
		t.Fatalf("held after decide: %v", st.held)
	}
	rows := rowsOf(sale, batch, d, st, time.Hour)
	if len(rows.holdings) != 2 || rows.holdings[0].held != 3 || rows.holdings[0].units != 2 || rows.holdings[1].held != 1 {
		t.Fatalf("holding rows %+v", rows.holdings)
	}
}

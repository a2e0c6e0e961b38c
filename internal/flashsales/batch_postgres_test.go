package flashsales

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"unionmall/internal/gid"
	"unionmall/internal/testdb"
)

// PostgreSQL's batch decides on rows read without a lock; its write must
// re-decide what changed since. Each case decides on a stale copy (the
// sale and holdings as they were before another instance's batch) and
// writes: the write takes only the winners the rows allow, or fails whole
// and writes nothing.
func TestPostgresWriteRedecidesStaleBatches(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		if !d.Postgres() {
			t.Skip("the write that re-decides is PostgreSQL's; SQLite decides inside its write lock")
		}
		ctx := context.Background()
		svc := New(d.DB, 30*time.Minute, nil)
		sale := seedSale(t, d, svc, 5, 2)
		m := seedMembers(t, d, 4) // a, b, c, e
		stale := *sale            // as read before anything was bought
		before := state{now: time.Now().UTC(), held: map[gid.ID]int{}, existing: map[string]keyed{}}

		// Another instance's batch: a buys 2 (a's limit), b buys 1.
		for _, buy := range []struct {
			who gid.ID
			q   int
		}{{m[0], 2}, {m[1], 1}} {
			if _, err := svc.Buy(ctx, buy.who, sale.ID, buy.q, nil); err != nil {
				t.Fatal(err)
			}
		}
		orders := d.Int(t, "SELECT count(*) FROM orders")

		write := func(asks ...*buyRequest) (decision, batchRows, int, []int, error) {
			st := before
			st.held = map[gid.ID]int{}
			dec := decide(&stale, asks, st)
			rows := rowsOf(&stale, asks, dec, st, svc.window)
			sold, took, err := writeRowsPostgres(ctx, svc.prepared, rows)
			return dec, rows, sold, took, err
		}

		// a again (decided as holding nothing) and c: only c is taken.
		dec, rows, sold, took, err := write(&buyRequest{buyer: m[0], q: 1}, &buyRequest{buyer: m[2], q: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(dec.winners) != 2 || !slices.Equal(took, []int{1}) || sold != 4 {
			t.Fatalf("winners %d, took %v, sold %d; want 2 decided, [1] taken (c), sold 4", len(dec.winners), took, sold)
		}
		dec.keep(took, rows)
		if !errors.Is(dec.results[0].err, errLimit) || dec.results[1].err != nil {
			t.Fatalf("answers %v, %v; want a refused above the limit, c served", dec.results[0].err, dec.results[1].err)
		}
		if n := d.Int(t, "SELECT count(*) FROM orders"); n != orders+1 {
			t.Fatalf("%d orders, want %d: only c's is written", n, orders+1)
		}
		if u := d.Int(t, "SELECT units FROM flash_sale_holdings WHERE member_id = ?", m[0]); u != 2 {
			t.Fatalf("a holds %d, want 2", u)
		}

		// e wants 2 and b 1 more, decided on the stale copy (5 left): 1 is
		// left, so the write fails whole.
		checkStale := func(what string, asks ...*buyRequest) {
			t.Helper()
			ordersNow := d.Int(t, "SELECT count(*) FROM orders")
			soldNow := d.Int(t, "SELECT sold FROM flash_sales WHERE id = ?", sale.ID)
			if _, _, _, _, err := write(asks...); !errors.Is(err, errStale) {
				t.Fatalf("%s: %v, want errStale", what, err)
			}
			if n := d.Int(t, "SELECT count(*) FROM orders"); n != ordersNow {
				t.Fatalf("%s: the failed write left %d orders, want %d", what, n, ordersNow)
			}
			if s := d.Int(t, "SELECT sold FROM flash_sales WHERE id = ?", sale.ID); s != soldNow {
				t.Fatalf("%s: sold %d after a failed write, want %d", what, s, soldNow)
			}
		}
		checkStale("too few units left", &buyRequest{buyer: m[3], q: 2}, &buyRequest{buyer: m[1], q: 1})

		// The sale ended (another instance's endFlashSale) after the read.
		if _, err := d.Pool.Exec("UPDATE flash_sales SET ends_at = now() - interval '1 second', starts_at = now() - interval '1 minute' WHERE id = $1", sale.ID); err != nil {
			t.Fatal(err)
		}
		checkStale("the sale ended", &buyRequest{buyer: m[1], q: 1})

		// Settled after the read.
		if _, err := d.Pool.Exec("UPDATE flash_sales SET ends_at = now() + interval '1 hour', settled_at = now() WHERE id = $1", sale.ID); err != nil {
			t.Fatal(err)
		}
		checkStale("the sale settled", &buyRequest{buyer: m[1], q: 1})
	})
}

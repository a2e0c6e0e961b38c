package flashsales

import (
	"context"
	"testing"
	"time"

	"unionmall/internal/testdb"
)

// A buyer's answer is the order as the batch wrote it, not read back: it
// must equal what ent reads, field by field, with and without an
// idempotency key, and load its edges like a read order.
func TestBoughtOrderEqualsItsRow(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		svc := New(d.DB, 30*time.Minute, nil)
		sale := seedSale(t, d, svc, 10, 3)
		m := seedMembers(t, d, 2)
		key := "k-答案"
		for i, k := range []*string{nil, &key} {
			o, err := svc.Buy(ctx, m[i], sale.ID, 2, k)
			if err != nil {
				t.Fatal(err)
			}
			stored, err := d.Client.Order.Get(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			diffs, n := entityDiff(o, stored)
			if len(diffs) > 0 || n < 10 {
				t.Errorf("order %d: %d fields compared, differences %v", i, n, diffs)
			}
			items, err := o.QueryItems().All(ctx)
			if err != nil || len(items) != 1 || items[0].Quantity != 2 {
				t.Errorf("order %d's lines through the answer: %v, %v", i, items, err)
			}
		}
		// The same key again is answered with the order it names, read.
		again, err := svc.Buy(ctx, m[1], sale.ID, 2, &key)
		if err != nil {
			t.Fatal(err)
		}
		if stored := d.Client.Order.GetX(ctx, again.ID); stored.IdempotencyKey == nil || *stored.IdempotencyKey != key {
			t.Errorf("a repeated key answered %s", again.ID)
		}
	})
}

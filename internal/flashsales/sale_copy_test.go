package flashsales

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"unionmall/ent"
	"unionmall/ent/order"
	"unionmall/internal/changes"
	"unionmall/internal/testdb"
)

// The gate keeps a copy of its sale (gate.sale), written after each batch
// from the row it locked plus the units it sold, and re-read on Refresh
// and Reload. It must equal what ent reads, field by field.

// saleCopyDiff lists the fields in which the gate's copy differs from
// ent's: every exported field of ent.FlashSale but its edges, so that a
// field added to the schema is compared too. Times are compared as
// instants.
func saleCopyDiff(kept, stored *ent.FlashSale) (diffs []string, compared int) {
	return entityDiff(kept, stored)
}

// entityDiff is saleCopyDiff for any two ent entities of one type.
func entityDiff(kept, stored any) (diffs []string, compared int) {
	a, b := reflect.ValueOf(kept).Elem(), reflect.ValueOf(stored).Elem()
	typ := a.Type()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() || f.Name == "Edges" {
			continue
		}
		compared++
		x, y := a.Field(i).Interface(), b.Field(i).Interface()
		if !sameValue(x, y) {
			diffs = append(diffs, fmt.Sprintf("%s: kept %v, ent %v", f.Name, shown(x), shown(y)))
		}
	}
	return diffs, compared
}

func sameValue(x, y any) bool {
	switch x := x.(type) {
	case time.Time:
		return x.Equal(y.(time.Time))
	case *time.Time:
		y := y.(*time.Time)
		return (x == nil) == (y == nil) && (x == nil || x.Equal(*y))
	}
	return reflect.DeepEqual(x, y)
}

func shown(v any) any {
	if r := reflect.ValueOf(v); r.Kind() == reflect.Pointer {
		if r.IsNil() {
			return "nil"
		}
		return r.Elem().Interface()
	}
	return v
}

// sameSale fails the test when the gate's copy differs from ent's.
func sameSale(t *testing.T, d *testdb.DB, g *gate, when string) {
	t.Helper()
	stored, err := d.Client.FlashSale.Get(context.Background(), g.id)
	if err != nil {
		t.Fatal(err)
	}
	diffs, compared := saleCopyDiff(g.sale.Load(), stored)
	if compared < 10 {
		t.Fatalf("compared only %d fields of ent.FlashSale", compared)
	}
	for _, diff := range diffs {
		t.Errorf("%s: the gate's copy differs from ent's in %s", when, diff)
	}
	if g.soldOut.Load() != (stored.Sold >= stored.Quantity) {
		t.Errorf("%s: the gate says sold out %v with %d of %d sold", when, g.soldOut.Load(), stored.Sold, stored.Quantity)
	}
}

// awaitReload brings a stale copy up to date, as the gate's next refusal
// would.
func awaitReload(t *testing.T, g *gate) {
	t.Helper()
	if err := g.fresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestGateCopyEqualsEnt(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		reg := changes.New()
		svc := New(d.DB, time.Hour, reg)
		sale := seedSale(t, d, svc, 20, 3)
		ids := seedMembers(t, d, 10)
		g, err := svc.gateFor(ctx, sale.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameSale(t, d, g, "loaded")

		var wg sync.WaitGroup
		for _, id := range ids[:8] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := svc.Buy(ctx, id, sale.ID, 2, nil); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		sameSale(t, d, g, "after batches")

		if _, err := svc.Buy(ctx, ids[0], sale.ID, 2, nil); err != errLimit {
			t.Fatalf("a buy above the limit: %v", err)
		}
		sameSale(t, d, g, "after a batch without winners")

		// An order is cancelled: its units come back (orders.Service does
		// this, then announces the sale's change).
		o := d.Client.Order.Query().Where(order.BuyerID(ids[1])).OnlyX(ctx)
		var touched []changes.Change
		err = d.Tx(ctx, func(tx *ent.Tx) error {
			if err := tx.Order.UpdateOne(o).SetStatus(order.StatusCANCELLED).SetClosedAt(time.Now()).Exec(ctx); err != nil {
				return err
			}
			touched, err = ReturnUnits(ctx, tx, sale.ID, ids[1], 2, true)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		reg.Announce(touched...)
		awaitReload(t, g)
		sameSale(t, d, g, "after units came back")

		// Another instance sells the rest; this one's copy is stale until
		// it hears of the change.
		otherReg := changes.New()
		other := New(testdb.Reopen(t, d), time.Hour, otherReg)
		for i, id := range ids[8:] {
			if _, err := other.Buy(ctx, id, sale.ID, 3-2*i, nil); err != nil {
				t.Fatal(err)
			}
		}
		if diffs, _ := saleCopyDiff(g.sale.Load(), d.Client.FlashSale.GetX(ctx, sale.ID)); len(diffs) == 0 {
			t.Fatal("the other instance's sales did not show: the comparison cannot see a stale copy")
		}
		reg.Announce(changes.FlashSale(sale.ID)) // as the other instance's would arrive
		awaitReload(t, g)
		sameSale(t, d, g, "after a reload")

		if _, err := svc.Buy(ctx, ids[1], sale.ID, 2, nil); err != nil {
			t.Fatal(err)
		}
		sameSale(t, d, g, "after selling out")

		if _, err := svc.End(ctx, sale.ID); err != nil {
			t.Fatal(err)
		}
		awaitReload(t, g)
		sameSale(t, d, g, "after the end and settlement")
		og, err := other.gateFor(ctx, sale.ID)
		if err != nil {
			t.Fatal(err)
		}
		otherReg.Announce(changes.FlashSale(sale.ID))
		awaitReload(t, og)
		sameSale(t, d, og, "the other instance, after a reload")
		checkSaleRows(t, d, sale, 20)
	})
}

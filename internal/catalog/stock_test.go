package catalog_test

import (
	"context"
	"testing"

	"unionmall/ent"
	"unionmall/internal/apperr"
	"unionmall/internal/catalog"
	"unionmall/internal/gid"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// TakeStock takes only what is there (OUT_OF_STOCK, nothing written,
// otherwise); ReturnStock gives units back.
func TestTakeAndReturnStock(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		id := gid.ID(m.NewProduct("10.00", 3))
		ctx := context.Background()
		stock := func() int { return d.Int(t, "SELECT stock FROM products WHERE id = ?", id) }
		inTx := func(f func(tx *ent.Tx, p *ent.Product) error) error {
			return d.Tx(ctx, func(tx *ent.Tx) error {
				p, err := tx.Product.Get(ctx, id)
				if err != nil {
					return err
				}
				return f(tx, p)
			})
		}
		take := func(q int) error {
			return inTx(func(tx *ent.Tx, p *ent.Product) error { return catalog.TakeStock(ctx, tx, p, q) })
		}
		if err := take(4); apperr.CodeOf(err) != apperr.OutOfStock || stock() != 3 {
			t.Fatalf("taking 4 of 3: %v, stock %d; want OUT_OF_STOCK and 3", err, stock())
		}
		if err := take(3); err != nil || stock() != 0 {
			t.Fatalf("taking 3 of 3: %v, stock %d", err, stock())
		}
		if err := take(1); apperr.CodeOf(err) != apperr.OutOfStock || stock() != 0 {
			t.Fatalf("taking 1 of 0: %v, stock %d", err, stock())
		}
		if err := inTx(func(tx *ent.Tx, _ *ent.Product) error { return catalog.ReturnStock(ctx, tx, id, 2) }); err != nil || stock() != 2 {
			t.Fatalf("returning 2: %v, stock %d", err, stock())
		}
	})
}

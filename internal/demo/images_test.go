package demo

import (
	"context"
	"os"
	"testing"
	"time"

	"unionmall/ent/product"
	"unionmall/internal/media"
	"unionmall/internal/testdb"
)

// The demo catalogue's products get a cover each, through media's checks,
// into the store; a second run adds none.
func TestDemoImages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		if _, err := Load(ctx, d.DB, time.Now()); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		store, err := media.NewDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		m := media.New(d.DB, store, media.Limits{}, nil)
		n, err := Images(ctx, d.Client, m)
		if err != nil {
			t.Fatal(err)
		}
		products := d.Client.Product.Query().CountX(ctx)
		if n != products || d.Client.Product.Query().Where(product.HasImages()).CountX(ctx) != products {
			t.Fatalf("%d images for %d products", n, products)
		}
		if files, _ := os.ReadDir(dir); len(files) < 2 {
			t.Fatalf("%d files in the store", len(files))
		}
		if again, err := Images(ctx, d.Client, m); err != nil || again != 0 {
			t.Fatalf("second run: %d, %v", again, err)
		}
	})
}

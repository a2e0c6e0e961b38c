package migrations_test

import (
	"context"
	"testing"

	"unionmall/internal/testdb"
	"unionmall/migrations"
)

// The scale-out migration adds per_member_limit to holdings and
// stock_received to products, with CHECKs: a database that already has
// sales, holdings (one of them wrong, as the old stale-read bug left them)
// and orders migrates, and the new columns are backfilled from the rows.
func TestScaleOutMigrationBackfills(t *testing.T) {
	const before = 20261128171942 // partial_order_indexes; SQLite's is 20261128171941
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		d = testdb.OpenEmpty(t, d.Name)
		version := int64(before)
		if d.Name == "sqlite" {
			version--
		}
		if err := migrations.UpTo(ctx, d.Pool, d.Dialect, version); err != nil {
			t.Fatal(err)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := d.Pool.ExecContext(ctx, d.Q(q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		now := "2026-11-30 10:00:00"
		exec(`INSERT INTO counties (id, name, city, poverty_status) VALUES ('cty_1', '城固县', '汉中市', 'LIFTED')`)
		exec(`INSERT INTO suppliers (id, name, county_id, beneficiaries, joined_at) VALUES ('sup_1', '粮油', 'cty_1', 5, ?)`, now)
		// 100 units: 20 in a sale (3 sold, to two members), 5 in an order
		// that shipped and was refunded, 75 left in stock.
		exec(`INSERT INTO products (id, name, description, category, price, sale_price, stock, sold_count, on_sale,
			created_at, updated_at, county_id, supplier_id)
			VALUES ('prd_1', '菜籽油', '', 'GRAIN_OIL', 7990, 7990, 75, 0, true, ?, ?, 'cty_1', 'sup_1')`, now, now)
		exec(`INSERT INTO flash_sales (id, product_id, price, quantity, sold, per_member_limit, starts_at, ends_at, created_at)
			VALUES ('fls_1', 'prd_1', 100, 20, 3, 2, ?, '2026-12-30 10:00:00', ?)`, now, now)
		for _, m := range []string{"mem_a", "mem_b"} {
			exec(`INSERT INTO members (id, phone, password_hash, display_name, roles, verification_status, created_at)
				VALUES (?, ?, '-', '买家', '["MEMBER"]', 'VERIFIED', ?)`, m, "1380000000"+m[4:], now)
		}
		order := func(id, buyer, status string, sale *string, q int, shipped bool) {
			t.Helper()
			var shippedAt any
			if shipped {
				shippedAt = now
			}
			exec(`INSERT INTO orders (id, number, buyer_id, subtotal, discount, total, flash_sale_id, status, created_at, shipped_at)
				VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?)`, id, "n"+id, buyer, 100*q, 100*q, sale, status, now, shippedAt)
			exec(`INSERT INTO order_items (id, order_id, product_id, quantity, unit_price, line_total)
				VALUES (?, ?, 'prd_1', ?, 100, ?)`, "itm"+id, id, q, 100*q)
		}
		sale := "fls_1"
		order("ord_1", "mem_a", "PAID", &sale, 2, false)
		order("ord_2", "mem_b", "PENDING_PAYMENT", &sale, 1, false)
		order("ord_3", "mem_b", "CANCELLED", &sale, 1, false)
		order("ord_4", "mem_a", "REFUNDED", nil, 5, true)
		// mem_a's holding is right; mem_b's says 2 with 1 live unit.
		exec(`INSERT INTO flash_sale_holdings (id, flash_sale_id, member_id, units) VALUES ('fsh_a', 'fls_1', 'mem_a', 2)`)
		exec(`INSERT INTO flash_sale_holdings (id, flash_sale_id, member_id, units) VALUES ('fsh_b', 'fls_1', 'mem_b', 2)`)

		if _, err := migrations.Up(ctx, d.Pool, d.Dialect); err != nil {
			t.Fatalf("migrate a database with data: %v", err)
		}
		if got := d.Int(t, "SELECT stock_received FROM products WHERE id = 'prd_1'"); got != 100 {
			t.Errorf("stock_received %d, want 100 (75 in stock + 3 live + 5 shipped and refunded + 17 unsold in the sale)", got)
		}
		for _, c := range []struct {
			id         string
			units, lim int
		}{{"fsh_a", 2, 2}, {"fsh_b", 1, 2}} {
			if u, l := d.Int(t, "SELECT units FROM flash_sale_holdings WHERE id = ?", c.id),
				d.Int(t, "SELECT per_member_limit FROM flash_sale_holdings WHERE id = ?", c.id); u != c.units || l != c.lim {
				t.Errorf("holding %s: units %d, limit %d; want %d, %d", c.id, u, l, c.units, c.lim)
			}
		}
		// The new CHECKs hold from now on.
		if _, err := d.Pool.ExecContext(ctx, "UPDATE flash_sale_holdings SET units = 3 WHERE id = 'fsh_a'"); err == nil {
			t.Error("a holding above its limit was written")
		}
		if _, err := d.Pool.ExecContext(ctx, "UPDATE products SET stock = 101 WHERE id = 'prd_1'"); err == nil {
			t.Error("stock above the units received was written")
		}
	})
}

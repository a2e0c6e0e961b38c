package flashsales

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"unionmall/ent"
	"unionmall/ent/county"
	"unionmall/ent/member"
	"unionmall/ent/order"
	"unionmall/ent/product"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/role"
	"unionmall/internal/testdb"
)

// The two writers (writeRowsPostgres, writeRowsEnt) encode the same rows
// (rowsOf), so the same batches must leave the same rows on both
// databases. writersRun runs the same batches on a database, with every
// ID, order number and clock fixed, and reads back the tables a batch
// writes, every column (SELECT *), so that a column added later is
// compared too.

// The tables a batch writes.
var batchTables = []string{"flash_sales", "flash_sale_holdings", "orders", "order_items"}

// fixedID is the n-th ID of a kind, the same on every database.
func fixedID(prefix string, n int) gid.ID { return gid.ID(fmt.Sprintf("%s_%026d", prefix, n)) }

// writersRun returns the rows of each table of batchTables after the
// batches of writersBatches, by table and then by ID.
func writersRun(t *testing.T, d *testdb.DB) map[string][]map[string]any {
	t.Helper()
	ctx := context.Background()
	c := d.Client
	starts := time.Date(2026, 11, 9, 2, 0, 0, 0, time.UTC)
	c.County.Create().SetID(fixedID(gid.County, 1)).SetName("城固县").SetCity("汉中市").
		SetPovertyStatus(county.PovertyStatusLIFTED).SaveX(ctx)
	c.Supplier.Create().SetID(fixedID(gid.Supplier, 1)).SetName("汉中粮油").SetCountyID(fixedID(gid.County, 1)).
		SetBeneficiaries(10).SaveX(ctx)
	c.Product.Create().SetID(fixedID(gid.Product, 1)).SetName("菜籽油 5L").SetCategory(product.CategoryGRAIN_OIL).
		SetPrice(7990).SetSalePrice(7990).SetStock(0).SetStockReceived(7).
		SetSupplierID(fixedID(gid.Supplier, 1)).SetCountyID(fixedID(gid.County, 1)).SaveX(ctx)
	for i, name := range []string{"a", "b", "c", "d", "e"} {
		c.Member.Create().SetID(fixedID(gid.Member, i+1)).SetPhone(fmt.Sprintf("1390000000%d", i)).SetPasswordHash("-").
			SetDisplayName("买家" + name).SetRoles(role.Set{role.Member}).
			SetVerificationStatus(member.VerificationStatusVERIFIED).SaveX(ctx)
	}
	// The sale runs until 2100: PostgreSQL's write checks the window by
	// the database's clock, not the batch's fixed one.
	ends := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	sale := c.FlashSale.Create().SetID(fixedID(gid.FlashSale, 1)).SetProductID(fixedID(gid.Product, 1)).
		SetPrice(money.Yuan*9 + 90).SetQuantity(7).SetPerMemberLimit(3).
		SetStartsAt(starts).SetEndsAt(ends).SetCreatedAt(starts.Add(-time.Hour)).SaveX(ctx)

	svc := New(d.DB, 30*time.Minute, nil)
	n := 0
	for b, asks := range writersBatches() {
		batch := make([]*buyRequest, len(asks))
		for i, a := range asks {
			batch[i] = &buyRequest{ctx: ctx, sale: sale.ID, buyer: fixedID(gid.Member, int(a.buyer[0]-'a'+1)), q: a.q}
			if a.key != "" {
				batch[i].key = &a.key
			}
		}
		// reserve, with the clock and the new IDs fixed.
		now := starts.Add(time.Duration(b+1) * 7 * time.Minute).Add(123456 * time.Microsecond)
		err := d.Tx(ctx, func(tx *ent.Tx) error {
			read := svc.readEnt
			if d.Postgres() {
				read = func(ctx context.Context, tx *ent.Tx, id gid.ID, batch []*buyRequest) (state, error) {
					_, st, err := readPostgres(ctx, tx, sale, batch)
					return st, err
				}
			}
			locked, err := svc.lockSale(ctx, tx, sale.ID)
			if err != nil {
				return err
			}
			st, err := read(ctx, tx, sale.ID, batch)
			if err != nil {
				return err
			}
			st.now = now
			dec := decide(locked, batch, st)
			for j := range dec.winners {
				n++
				w := &dec.winners[j]
				w.orderID, w.itemID = fixedID(gid.Order, n), fixedID(gid.OrderItem, n)
				w.holdingID, w.number = string(fixedID(gid.FlashSaleHolding, n)), fmt.Sprintf("2026110910%010d", n)
			}
			rows := rowsOf(locked, batch, dec, st, svc.window)
			if !d.Postgres() {
				return writeRowsEnt(ctx, tx, rows)
			}
			// Within this test's transaction the sale is as decided, so
			// the write takes every winner.
			_, took, err := writeRowsPostgres(ctx, tx, rows)
			if err == nil && !slices.Equal(took, allOf(rows)) {
				err = fmt.Errorf("the write took winners %v of %d", took, len(rows.orders))
			}
			return err
		})
		if err != nil {
			t.Fatalf("batch %d: %v", b, err)
		}
	}
	out := map[string][]map[string]any{}
	for _, table := range batchTables {
		out[table] = tableRows(t, d, table)
	}
	return out
}

// writersBatches are the batches of writersRun: a sale of 7 units, 3 a
// member.
func writersBatches() [][]decideAsk {
	return [][]decideAsk{
		{{"a", 2, "ka"}, {"b", 1, ""}, {"c", 4, ""}, {"d", 1, "kd"}}, // c above the limit
		// a adds to a holding; b's key is new (a's "ka" is a's); d's key
		// names d's first order; e wants more than the 1 left.
		{{"a", 1, ""}, {"b", 1, "ka"}, {"d", 1, "kd"}, {"e", 2, ""}},
		{{"c", 1, "kc"}, {"e", 1, ""}}, // the last unit, then sold out
	}
}

// tableRows reads a table's rows (ordered by ID) as column → value, with
// values normalised across drivers: text as string, times in UTC.
func tableRows(t *testing.T, d *testdb.DB, table string) []map[string]any {
	t.Helper()
	rows, err := d.Pool.Query("SELECT * FROM " + table + " ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make(map[string]any, len(cols))
		for i, col := range cols {
			row[col] = normalise(vals[i])
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func normalise(v any) any {
	switch v := v.(type) {
	case []byte:
		return string(v)
	case time.Time:
		return v.UTC()
	case int:
		return int64(v)
	case int32:
		return int64(v)
	}
	return v
}

func TestWritersStoreTheSameRows(t *testing.T) {
	lite := writersRun(t, testdb.Open(t, "sqlite"))
	t.Run("sqlite", func(t *testing.T) { checkWritersRows(t, lite) })
	t.Run("postgres", func(t *testing.T) {
		pg := writersRun(t, testdb.Open(t, "postgres"))
		checkWritersRows(t, pg)
		for _, table := range batchTables {
			diffTables(t, table, lite[table], pg[table])
		}
	})
}

// checkWritersRows checks the rows of writersRun against what its batches
// decide, so the SQLite run means something without PostgreSQL too.
func checkWritersRows(t *testing.T, rows map[string][]map[string]any) {
	t.Helper()
	sale := rows["flash_sales"]
	if len(sale) != 1 || sale[0]["sold"] != int64(7) {
		t.Errorf("flash_sales %v, want one sale with 7 sold", sale)
	}
	held := map[any]any{}
	for _, h := range rows["flash_sale_holdings"] {
		held[h["member_id"]] = h["units"]
		if h["per_member_limit"] != int64(3) {
			t.Errorf("holding %v does not carry the limit of 3", h)
		}
	}
	want := map[any]any{
		string(fixedID(gid.Member, 1)): int64(3), string(fixedID(gid.Member, 2)): int64(2),
		string(fixedID(gid.Member, 3)): int64(1), string(fixedID(gid.Member, 4)): int64(1),
	}
	if !reflect.DeepEqual(held, want) {
		t.Errorf("holdings %v, want %v", held, want)
	}
	orders, items := rows["orders"], rows["order_items"]
	if len(orders) != 6 || len(items) != 6 {
		t.Fatalf("%d orders and %d lines, want 6 of each", len(orders), len(items))
	}
	for i, o := range orders {
		it := items[i]
		created, _ := o["created_at"].(time.Time)
		payBy, _ := o["pay_by"].(time.Time)
		switch {
		case o["status"] != string(order.StatusPENDING_PAYMENT):
			t.Errorf("order %v is not awaiting payment", o)
		case payBy.Sub(created) != 30*time.Minute:
			t.Errorf("order %v: created_at %v (%T), pay_by %v (%T): want the 30-minute window", o["id"], o["created_at"], o["created_at"], o["pay_by"], o["pay_by"])
		case it["order_id"] != o["id"] || it["unit_price"] != int64(990) ||
			o["subtotal"] != it["line_total"] || o["total"] != it["line_total"] || o["discount"] != int64(0) ||
			it["line_total"] != 990*it["quantity"].(int64):
			t.Errorf("order %v and its line %v disagree on the amounts", o, it)
		case o["flash_sale_id"] != string(fixedID(gid.FlashSale, 1)):
			t.Errorf("order %v is not of the sale", o)
		}
	}
	keys := []any{}
	for _, o := range orders {
		keys = append(keys, o["idempotency_key"])
	}
	if want := []any{"ka", nil, "kd", nil, "ka", "kc"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("idempotency keys %v, want %v", keys, want)
	}
}

// diffTables compares two engines' rows of a table column by column.
func diffTables(t *testing.T, table string, lite, pg []map[string]any) {
	t.Helper()
	if len(lite) != len(pg) {
		t.Errorf("%s: %d rows on SQLite, %d on PostgreSQL", table, len(lite), len(pg))
		return
	}
	for i := range lite {
		cols := map[string]bool{}
		for c := range lite[i] {
			cols[c] = true
		}
		for c := range pg[i] {
			cols[c] = true
		}
		names := make([]string, 0, len(cols))
		for c := range cols {
			names = append(names, c)
		}
		slices.Sort(names)
		var diffs []string
		for _, c := range names {
			l, lok := lite[i][c]
			p, pok := pg[i][c]
			switch {
			case !lok || !pok:
				diffs = append(diffs, fmt.Sprintf("%s only on one database (SQLite %v, PostgreSQL %v)", c, lok, pok))
			case !reflect.DeepEqual(l, p):
				diffs = append(diffs, fmt.Sprintf("%s: SQLite %#v, PostgreSQL %#v", c, l, p))
			}
		}
		if len(diffs) > 0 {
			t.Errorf("%s row %v:\n\t%s", table, lite[i]["id"], strings.Join(diffs, "\n\t"))
		}
	}
}

// rowsOf is where an order's contents are decided; both writers only
// encode what it returns.
func TestRowsOf(t *testing.T) {
	sale := decideSale()
	key := "k"
	batch := []*buyRequest{{buyer: "mem_a", q: 2, key: &key}, {buyer: "mem_b", q: 4}, {buyer: "mem_c", q: 1}}
	now := sale.StartsAt.Add(time.Minute)
	st := state{now: now, held: map[gid.ID]int{"mem_c": 1}, existing: map[string]keyed{}}
	d := decide(sale, batch, st)
	rows := rowsOf(sale, batch, d, st, 15*time.Minute)
	if len(rows.orders) != 2 || len(rows.items) != 2 || len(rows.holdings) != 2 {
		t.Fatalf("rows %+v for two winners", rows)
	}
	if want := (soldRow{id: sale.ID, units: 3, quantity: 10, at: now}); rows.sold != want {
		t.Errorf("sold %+v, want %+v", rows.sold, want)
	}
	w := d.winners[0]
	if want := (orderRow{id: w.orderID, number: w.number, buyerID: "mem_a", subtotal: 1980, discount: 0, total: 1980,
		flashSaleID: sale.ID, status: order.StatusPENDING_PAYMENT, createdAt: now, payBy: now.Add(15 * time.Minute),
		idempotencyKey: &key}); !reflect.DeepEqual(rows.orders[0], want) {
		t.Errorf("order %+v, want %+v", rows.orders[0], want)
	}
	if want := (itemRow{id: w.itemID, orderID: w.orderID, productID: sale.ProductID, quantity: 2, unitPrice: 990,
		lineTotal: 1980}); rows.items[0] != want {
		t.Errorf("line %+v, want %+v", rows.items[0], want)
	}
	if want := (holdingRow{id: gid.ID(w.holdingID), flashSaleID: sale.ID, memberID: "mem_a", units: 2, perMemberLimit: 3,
		held: 2}); rows.holdings[0] != want {
		t.Errorf("holding %+v, want %+v", rows.holdings[0], want)
	}
	if h := rows.holdings[1]; h.memberID != "mem_c" || h.units != 1 || h.held != 2 {
		t.Errorf("holding %+v: want mem_c adding 1 to the 1 they held", h)
	}
	if rows.orders[1].idempotencyKey != nil {
		t.Error("a request without a key got one")
	}
}

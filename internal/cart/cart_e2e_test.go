package cart_test

import (
	"fmt"
	"maps"
	"sync"
	"testing"

	"unionmall/internal/gid"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// The cart's operations in sequence on one member's cart: each step's
// answer is the cart it leaves, and a refusal leaves the cart's rows as
// they were (timestamps included).
func TestCartOps(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		shop := servertest.NewShop(t, m)
		a := shop.Product(t, "紫阳富硒茶", "10.00", "", 100)
		b := shop.Product(t, "秦岭香菇", "25.00", "20.00", 100)
		off := servertest.CreateProduct(t, m, servertest.ProductIn{Name: "下架茶", Category: "TEA", Price: "5.00",
			Stock: 10, SupplierID: shop.Supplier})
		unknown := string(gid.New(gid.Product))
		mem := m.Verified("购物车")
		other := m.Verified("旁人")
		add(t, m, other.Token, a, 7) // another cart, untouched by mem's steps

		steps := []struct {
			name     string
			query    string
			vars     map[string]any
			wantCode string
			want     map[string]int
		}{
			{"add a line", addQ, lineVars(a, 2), "", map[string]int{a: 2}},
			{"add to the line", addQ, lineVars(a, 3), "", map[string]int{a: 5}},
			{"add a second product", addQ, lineVars(b, 1), "", map[string]int{a: 5, b: 1}},
			{"add zero", addQ, lineVars(a, 0), "BAD_USER_INPUT", nil},
			{"add a negative quantity", addQ, lineVars(a, -1), "BAD_USER_INPUT", nil},
			{"add past 999 on the line", addQ, lineVars(a, 995), "BAD_USER_INPUT", nil},
			{"add up to 999", addQ, lineVars(a, 994), "", map[string]int{a: 999, b: 1}},
			{"add 1000 at once", addQ, lineVars(b, 1000), "BAD_USER_INPUT", nil},
			{"add an off-sale product", addQ, lineVars(off, 1), "PRODUCT_UNAVAILABLE", nil},
			{"add an unknown product", addQ, lineVars(unknown, 1), "PRODUCT_UNAVAILABLE", nil},
			{"set a line", setQ, lineVars(a, 3), "", map[string]int{a: 3, b: 1}},
			{"set zero removes", setQ, lineVars(b, 0), "", map[string]int{a: 3}},
			{"set adds a missing line", setQ, lineVars(b, 4), "", map[string]int{a: 3, b: 4}},
			{"set a negative quantity", setQ, lineVars(a, -1), "BAD_USER_INPUT", nil},
			{"set past 999", setQ, lineVars(a, 1000), "BAD_USER_INPUT", nil},
			{"set an off-sale product", setQ, lineVars(off, 1), "PRODUCT_UNAVAILABLE", nil},
			{"remove a line", removeQ, map[string]any{"p": b}, "", map[string]int{a: 3}},
			{"remove a missing line", removeQ, map[string]any{"p": b}, "", map[string]int{a: 3}},
			{"clear", clearQ, nil, "", map[string]int{}},
			{"clear an empty cart", clearQ, nil, "", map[string]int{}},
		}
		for _, s := range steps {
			before := cartRows(t, d)
			r := m.Do(mem.Token, s.query, s.vars)
			if s.wantCode != "" {
				servertest.WantCode(t, r, s.wantCode)
				servertest.SameRows(t, s.name+": a refusal changed the cart", before, cartRows(t, d))
				continue
			}
			if len(r.Errors) > 0 {
				t.Fatalf("%s: %+v", s.name, r.Errors)
			}
			var out map[string]cartOut
			r.Decode(t, &out)
			for _, c := range out {
				if got := c.quantities(); !maps.Equal(got, s.want) {
					t.Fatalf("%s: cart %v, want %v", s.name, got, s.want)
				}
				if !maps.Equal(getCart(t, m, mem.Token).quantities(), s.want) {
					t.Fatalf("%s: the cart read back differs from the answer", s.name)
				}
			}
		}
		if got := getCart(t, m, other.Token).quantities(); !maps.Equal(got, map[string]int{a: 7}) {
			t.Fatalf("the other member's cart: %v", got)
		}
	})
}

// A cart's amounts: unit prices are the sale price, lines oldest first.
func TestCartAmounts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		shop := servertest.NewShop(t, m)
		a := shop.Product(t, "紫阳富硒茶", "10.00", "", 100)
		b := shop.Product(t, "秦岭香菇", "25.00", "20.00", 100)
		mem := m.Verified("金额")
		if c := getCart(t, m, mem.Token); len(c.Lines) != 0 || c.Subtotal != "0.00" || c.ItemCount != 0 || c.UpdatedAt != nil {
			t.Fatalf("empty cart: %+v", c)
		}
		add(t, m, mem.Token, a, 5)
		c := add(t, m, mem.Token, b, 2)
		if len(c.Lines) != 2 || c.Lines[0].Product.ID != a || c.Lines[1].Product.ID != b {
			t.Fatalf("lines: %+v", c.Lines)
		}
		if l := c.Lines[1]; l.UnitPrice != "20.00" || l.LineTotal != "40.00" || l.Problem != nil || !gid.ID(l.ID).Is(gid.CartLine) {
			t.Fatalf("line b: %+v", l)
		}
		if c.Subtotal != "90.00" || c.ItemCount != 7 || c.UpdatedAt == nil {
			t.Fatalf("cart: %+v", c)
		}
	})
}

// A cart holds at most 50 lines; the 51st product is refused, and a
// product already in a full cart can still be added to.
func TestCartLineBound(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		shop := servertest.NewShop(t, m)
		mem := m.Verified("满车")
		var first string
		for i := range 50 {
			p := shop.Product(t, fmt.Sprintf("商品%d", i), "1.00", "", 10)
			if i == 0 {
				first = p
			}
			add(t, m, mem.Token, p, 1)
		}
		extra := shop.Product(t, "第五十一件", "1.00", "", 10)
		before := cartRows(t, d)
		servertest.WantCode(t, m.Do(mem.Token, addQ, lineVars(extra, 1)), "BAD_USER_INPUT")
		servertest.WantCode(t, m.Do(mem.Token, setQ, lineVars(extra, 1)), "BAD_USER_INPUT")
		servertest.SameRows(t, "a refused 51st line changed the cart", before, cartRows(t, d))
		if c := add(t, m, mem.Token, first, 1); len(c.Lines) != 50 || c.line(first).Quantity != 2 {
			t.Fatalf("adding to a full cart's line: %d lines, %+v", len(c.Lines), c.line(first))
		}
	})
}

// One member adding at once through two instances on one database: every
// add counts (the increment is one upsert), and of adds of new products
// racing for a cart's last free lines exactly as many as fit succeed.
func TestCartConcurrentAdds(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		one := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		two := servertest.StartOwnPool(t, d, servertest.Options{NoWorkers: true})
		shop := servertest.NewShop(t, one)
		p := shop.Product(t, "紫阳富硒茶", "10.00", "", 100)
		mem := one.Verified("并发")
		const adds = 20
		var wg sync.WaitGroup
		codes := make([]string, adds)
		for i := range adds {
			wg.Go(func() {
				m := one
				if i%2 == 1 {
					m = two
				}
				codes[i] = m.Do(mem.Token, addQ, lineVars(p, 3)).Code()
			})
		}
		wg.Wait()
		for i, c := range codes {
			if c != "" {
				t.Fatalf("add %d: %s", i, c)
			}
		}
		if got := getCart(t, two, mem.Token).line(p).Quantity; got != 3*adds {
			t.Fatalf("quantity %d after %d adds of 3", got, adds)
		}

		// 48 lines, then 6 new products at once: 2 fit.
		for i := range 47 {
			add(t, one, mem.Token, shop.Product(t, fmt.Sprintf("填充%d", i), "1.00", "", 10), 1)
		}
		racers := make([]string, 6)
		for i := range racers {
			racers[i] = shop.Product(t, fmt.Sprintf("抢位%d", i), "1.00", "", 10)
		}
		got := map[string]int{}
		var mu sync.Mutex
		for i, r := range racers {
			wg.Go(func() {
				m := one
				if i%2 == 1 {
					m = two
				}
				c := m.Do(mem.Token, addQ, lineVars(r, 1)).Code()
				mu.Lock()
				got[c]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if got[""] != 2 || got["BAD_USER_INPUT"] != 4 {
			t.Fatalf("racing for 2 free lines: %v", got)
		}
		if n := d.Int(t, `SELECT COUNT(*) FROM cart_lines WHERE member_id = ?`, mem.ID); n != 50 {
			t.Fatalf("%d lines, want 50", n)
		}
	})
}

// Lines whose product went off sale or short of stock are flagged, never
// dropped, and priced out of the subtotal; they come back when the
// product does.
func TestCartProblems(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		shop := servertest.NewShop(t, m)
		short := shop.Product(t, "库存少", "10.00", "", 5)
		gone := shop.Product(t, "将下架", "20.00", "", 5)
		empty := shop.Product(t, "将售罄", "30.00", "", 5)
		fine := shop.Product(t, "正常", "1.00", "", 5)
		mem := m.Verified("问题")
		add(t, m, mem.Token, short, 3)
		add(t, m, mem.Token, gone, 2)
		add(t, m, mem.Token, empty, 1)
		add(t, m, mem.Token, fine, 5) // exactly the stock: no problem

		updateProduct(t, m, short, map[string]any{"stockDelta": -3})
		updateProduct(t, m, gone, map[string]any{"onSale": false})
		updateProduct(t, m, empty, map[string]any{"stockDelta": -5})
		c := getCart(t, m, mem.Token)
		want := map[string]string{short: "INSUFFICIENT_STOCK", gone: "OFF_SALE", empty: "OUT_OF_STOCK", fine: ""}
		if len(c.Lines) != 4 {
			t.Fatalf("lines dropped: %+v", c.Lines)
		}
		for p, w := range want {
			l := c.line(p)
			if got := ""; l.Problem != nil {
				got = *l.Problem
				if got != w {
					t.Fatalf("line %s: problem %s, want %s", p, got, w)
				}
			} else if w != "" {
				t.Fatalf("line %s: no problem, want %s", p, w)
			}
		}
		if c.Subtotal != "5.00" || c.ItemCount != 11 {
			t.Fatalf("subtotal %s itemCount %d, want 5.00 and 11", c.Subtotal, c.ItemCount)
		}
		// An off-sale product's line can be removed, not grown.
		servertest.WantCode(t, m.Do(mem.Token, addQ, lineVars(gone, 1)), "PRODUCT_UNAVAILABLE")
		updateProduct(t, m, gone, map[string]any{"onSale": true})
		updateProduct(t, m, short, map[string]any{"stockDelta": 1})
		if c := getCart(t, m, mem.Token); c.line(gone).Problem != nil || c.line(short).Problem != nil {
			t.Fatalf("back on sale and in stock, still flagged: %+v", c.Lines)
		}
	})
}

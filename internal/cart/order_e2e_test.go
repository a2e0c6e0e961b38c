package cart_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"unionmall/ent"
	"unionmall/internal/gid"
	"unionmall/internal/orders"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// The quote of a cart is the order placeOrder fromCart then makes (same
// lines, subtotal, discount, total), and the ordered lines leave the cart.
func TestQuoteThenOrderFromCart(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		shop := servertest.NewShop(t, m)
		a := shop.Product(t, "紫阳富硒茶", "30.00", "25.50", 10)
		b := shop.Product(t, "秦岭香菇", "40.00", "", 10)
		mem := m.Verified("下单")
		servertest.ClaimPack(t, m, mem.Token, servertest.NewCampaign(t, m, time.Now().Add(time.Hour)))
		add(t, m, mem.Token, a, 3)
		add(t, m, mem.Token, b, 2)

		q := quote(t, m, mem.Token, nil)
		if q.AppliedCoupon == nil || !q.Orderable {
			t.Fatalf("quote: %+v", q)
		}
		o := servertest.PlaceOrder(t, m, mem.Token, nil, map[string]any{"fromCart": true, "couponID": q.AppliedCoupon.ID})
		if o.Subtotal != q.Subtotal || o.Discount != q.Discount || o.Total != q.Total || o.Subtotal != "156.50" || o.Discount != "50.00" {
			t.Fatalf("order %s/%s/%s, quote %s/%s/%s", o.Subtotal, o.Discount, o.Total, q.Subtotal, q.Discount, q.Total)
		}
		got := map[string]int{}
		for _, it := range o.Items {
			got[it.Product.ID] = it.Quantity
		}
		if !maps.Equal(got, map[string]int{a: 3, b: 2}) || o.Coupon == nil || o.Coupon.ID != q.AppliedCoupon.ID {
			t.Fatalf("order items %v, coupon %+v", got, o.Coupon)
		}
		if c := getCart(t, m, mem.Token); len(c.Lines) != 0 {
			t.Fatalf("the cart after ordering it: %+v", c.Lines)
		}
		if servertest.StockOf(t, d, a) != 7 || servertest.StockOf(t, d, b) != 8 {
			t.Fatal("stock not taken")
		}
	})
}

// placeOrder fromCart refuses, changing nothing (orders, stock, coupons,
// the cart): items beside fromCart, an empty cart, a line off sale or
// short of stock (with that line's code). A repeated idempotency key
// answers the first order though its lines have left the cart.
func TestOrderFromCartRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		shop := servertest.NewShop(t, m)
		a := shop.Product(t, "紫阳富硒茶", "10.00", "", 10)
		b := shop.Product(t, "秦岭香菇", "20.00", "", 10)
		mem := m.Verified("拒单")
		fromCart := func(extra map[string]any) map[string]any {
			in := map[string]any{"fromCart": true}
			maps.Copy(in, extra)
			return servertest.OrderInput(nil, in)
		}
		refused := func(name string, vars map[string]any, code string) {
			t.Helper()
			before := cartRows(t, d)
			servertest.Refused(t, m, d, mem.Token, servertest.PlaceOrderQ, vars, code)
			servertest.SameRows(t, name+": the cart changed", before, cartRows(t, d))
		}
		refused("empty cart", fromCart(nil), "BAD_USER_INPUT")
		add(t, m, mem.Token, a, 2)
		add(t, m, mem.Token, b, 1)
		refused("items too", servertest.OrderInput([]servertest.Line{{ID: a, Qty: 1}}, map[string]any{"fromCart": true}), "BAD_USER_INPUT")

		updateProduct(t, m, b, map[string]any{"onSale": false})
		refused("a line off sale", fromCart(nil), "PRODUCT_UNAVAILABLE")
		updateProduct(t, m, b, map[string]any{"onSale": true, "stockDelta": -10})
		refused("a line out of stock", fromCart(nil), "OUT_OF_STOCK")
		updateProduct(t, m, b, map[string]any{"stockDelta": 10})
		servertest.MustDo(t, m, mem.Token, setQ, lineVars(a, 11), nil)
		refused("a line short of stock", fromCart(nil), "OUT_OF_STOCK")
		servertest.MustDo(t, m, mem.Token, setQ, lineVars(a, 2), nil)

		unverified := m.Register("未认证")
		add(t, m, unverified.Token, a, 1)
		servertest.Refused(t, m, d, unverified.Token, servertest.PlaceOrderQ, fromCart(nil), "NOT_VERIFIED")

		first := servertest.PlaceOrder(t, m, mem.Token, nil, map[string]any{"fromCart": true, "idempotencyKey": "cart-1"})
		add(t, m, mem.Token, a, 1) // the cart is not what it was
		again := servertest.PlaceOrder(t, m, mem.Token, nil, map[string]any{"fromCart": true, "idempotencyKey": "cart-1"})
		if again.ID != first.ID || d.Int(t, `SELECT COUNT(*) FROM orders WHERE buyer_id = ?`, mem.ID) != 1 {
			t.Fatalf("the repeated key made another order: %s, %s", first.ID, again.ID)
		}
		if got := getCart(t, m, mem.Token).quantities(); !maps.Equal(got, map[string]int{a: 1}) {
			t.Fatalf("cart after the repeat: %v", got)
		}
	})
}

// Ordered takes out the quantities ordered: a line that grew meanwhile
// keeps the difference, one ordered in full goes, other lines stay.
func TestOrderedKeepsTheDifference(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		shop := servertest.NewShop(t, m)
		a := shop.Product(t, "紫阳富硒茶", "10.00", "", 100)
		b := shop.Product(t, "秦岭香菇", "20.00", "", 100)
		c := shop.Product(t, "汉中仙毫", "30.00", "", 100)
		mem := m.Verified("差额")
		add(t, m, mem.Token, a, 5) // 3 ordered, 2 added since
		add(t, m, mem.Token, b, 2)
		add(t, m, mem.Token, c, 1)
		ordered := []orders.Line{{ProductID: gid.ID(a), Quantity: 3}, {ProductID: gid.ID(b), Quantity: 2}}
		err := m.Server.DB.Tx(context.Background(), func(tx *ent.Tx) error {
			return m.Server.Cart.Ordered(context.Background(), tx, gid.ID(mem.ID), ordered)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := getCart(t, m, mem.Token).quantities(); !maps.Equal(got, map[string]int{a: 2, c: 1}) {
			t.Fatalf("cart %v", got)
		}
	})
}

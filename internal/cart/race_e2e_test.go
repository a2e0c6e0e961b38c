package cart_test

import (
	"sync"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// One member orders the cart on one instance while adding to it on
// another: no unit is lost or counted twice. Whatever the interleaving,
// the units ordered plus the units left in the cart equal the units
// added (the order takes out only what it read: a conditional delete,
// then a decrement), checked from the rows.
func TestOrderFromCartRacingAdds(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		one := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		two := servertest.StartOwnPool(t, d, servertest.Options{NoWorkers: true})
		p := servertest.NewShop(t, one).Product(t, "紫阳富硒茶", "10.00", "", 1000)
		for round := range 5 {
			mem := one.Verified("边买边加")
			add(t, one, mem.Token, p, 2)
			const adds = 8
			var wg sync.WaitGroup
			codes := make([]string, adds)
			var order servertest.Response
			wg.Go(func() {
				order = *two.Do(mem.Token, `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }`,
					map[string]any{"i": map[string]any{"items": []any{}, "fromCart": true}})
			})
			for i := range adds {
				wg.Go(func() { codes[i] = one.Do(mem.Token, addQ, lineVars(p, 1)).Code() })
			}
			wg.Wait()
			for i, c := range codes {
				if c != "" {
					t.Fatalf("round %d, add %d: %s", round, i, c)
				}
			}
			if order.Code() != "" {
				t.Fatalf("round %d: placeOrder: %+v", round, order.Errors)
			}
			ordered := d.Int(t, `SELECT COALESCE(SUM(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.buyer_id = ?`, mem.ID)
			left := d.Int(t, `SELECT COALESCE(SUM(quantity), 0) FROM cart_lines WHERE member_id = ?`, mem.ID)
			if ordered < 2 || ordered+left != 2+adds {
				t.Fatalf("round %d: %d units ordered + %d left in the cart, %d added", round, ordered, left, 2+adds)
			}
		}
	})
}

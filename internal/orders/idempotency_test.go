package orders_test

import (
	"fmt"
	"sync"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

const (
	placeQ = `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id status } }`
	buyQ   = `mutation($i: BuyFlashSaleInput!) { buyFlashSale(input: $i) { id status } }`
)

func placeVars(productID string, quantity int, key string) map[string]any {
	return map[string]any{"i": map[string]any{
		"items": []map[string]any{{"productID": productID, "quantity": quantity}}, "idempotencyKey": key}}
}

func buyVars(saleID, key string) map[string]any {
	return map[string]any{"i": map[string]any{"flashSaleID": saleID, "quantity": 1, "idempotencyKey": key}}
}

// orderID is the order a placeOrder or buyFlashSale answered with.
func orderID(t *testing.T, r *servertest.Response) string {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("errors %+v", r.Errors)
	}
	var out map[string]struct{ ID string }
	r.Decode(t, &out)
	for _, o := range out {
		return o.ID
	}
	t.Fatalf("no order in %s", r.Data)
	return ""
}

// keyRefused reports whether r is the refusal of a key that names another
// request.
func keyRefused(r *servertest.Response) bool {
	return r.Code() == "BAD_USER_INPUT" && r.Errors[0].Extensions["field"] == "idempotencyKey"
}

// idemMall is two instances on one database, a product and a product with
// flash sales.
type idemMall struct {
	one, two             *servertest.Mall
	d                    *testdb.DB
	product, saleProduct string
}

func newIdemMall(t *testing.T, d *testdb.DB) *idemMall {
	one := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	return &idemMall{
		one: one, two: servertest.StartOwnPool(t, d, servertest.Options{NoWorkers: true}), d: d,
		product: one.NewProduct("20.00", 1000), saleProduct: one.NewProduct("30.00", 1000),
	}
}

// rows is what a key's request may move: the buyer's orders, the plain
// product's stock and the sales' sold counts.
type rows struct {
	orders, stock int
	sold          []int
}

func (im *idemMall) rows(t *testing.T, buyerID string, sales ...string) rows {
	t.Helper()
	r := rows{
		orders: im.d.Int(t, `SELECT COUNT(*) FROM orders WHERE buyer_id = ?`, buyerID),
		stock:  im.d.Int(t, `SELECT stock FROM products WHERE id = ?`, im.product),
	}
	for _, s := range sales {
		r.sold = append(r.sold, im.d.Int(t, `SELECT sold FROM flash_sales WHERE id = ?`, s))
	}
	return r
}

func (r rows) String() string {
	return fmt.Sprintf("orders %d, stock %d, sold %v", r.orders, r.stock, r.sold)
}

func (r rows) equal(o rows) bool { return r.String() == o.String() }

// An idempotency key names one request of one buyer: repeating it returns
// the first order (on any instance); using it for another request
// (placeOrder after buyFlashSale and the other way round, another flash
// sale, other lines) is BAD_USER_INPUT on idempotencyKey and writes
// nothing.
func TestIdempotencyKeyNamesOneRequest(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		im := newIdemMall(t, d)
		one, two, product := im.one, im.two, im.product
		buyer := one.Verified("买家")
		sale := one.NewFlashSale(im.saleProduct, "1.00", 10, 5)
		otherSale := one.NewFlashSale(im.saleProduct, "2.00", 10, 5)

		flashOrder := orderID(t, one.Do(buyer.Token, buyQ, buyVars(sale, "K-flash")))
		plainOrder := orderID(t, one.Do(buyer.Token, placeQ, placeVars(product, 2, "K-place")))
		for _, tt := range []struct {
			name  string
			m     *servertest.Mall
			q     string
			vars  map[string]any
			first string // the order answered, "" for a refusal
		}{
			{"placeOrder with a buyFlashSale's key", one, placeQ, placeVars(product, 2, "K-flash"), ""},
			{"placeOrder with a buyFlashSale's key, on another instance", two, placeQ, placeVars(product, 2, "K-flash"), ""},
			{"buyFlashSale with a placeOrder's key", one, buyQ, buyVars(sale, "K-place"), ""},
			{"buyFlashSale with a placeOrder's key, on another instance", two, buyQ, buyVars(sale, "K-place"), ""},
			{"buyFlashSale of another sale with the key", one, buyQ, buyVars(otherSale, "K-flash"), ""},
			{"buyFlashSale of another sale with the key, on another instance", two, buyQ, buyVars(otherSale, "K-flash"), ""},
			{"placeOrder with the key and other lines", one, placeQ, placeVars(product, 3, "K-place"), ""},
			{"placeOrder with the key and another product", two, placeQ, placeVars(im.saleProduct, 2, "K-place"), ""},
			{"the same buyFlashSale again", one, buyQ, buyVars(sale, "K-flash"), flashOrder},
			{"the same buyFlashSale again, on another instance", two, buyQ, buyVars(sale, "K-flash"), flashOrder},
			{"the same placeOrder again", one, placeQ, placeVars(product, 2, "K-place"), plainOrder},
			{"the same placeOrder again, on another instance", two, placeQ, placeVars(product, 2, "K-place"), plainOrder},
		} {
			t.Run(tt.name, func(t *testing.T) {
				before := im.rows(t, buyer.ID, sale, otherSale)
				r := tt.m.Do(buyer.Token, tt.q, tt.vars)
				if tt.first != "" {
					if got := orderID(t, r); got != tt.first {
						t.Fatalf("answered with order %s, want the first order %s", got, tt.first)
					}
				} else if !keyRefused(r) {
					t.Fatalf("code %q, errors %+v, data %s; want BAD_USER_INPUT on idempotencyKey", r.Code(), r.Errors, r.Data)
				}
				if after := im.rows(t, buyer.ID, sale, otherSale); !after.equal(before) {
					t.Fatalf("rows moved: before %s, after %s", before, after)
				}
			})
		}
	})
}

// The same request sent at once to two instances: both are answered with
// the one order written.
func TestIdempotencyKeySameRequestAtOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		im := newIdemMall(t, d)
		sale := im.one.NewFlashSale(im.saleProduct, "1.00", 20, 20)
		for _, tt := range []struct {
			name        string
			q           string
			vars        func(key string) map[string]any
			stock, sold int // how the product's stock and the sale's sold move
		}{
			{"placeOrder", placeQ, func(k string) map[string]any { return placeVars(im.product, 2, k) }, -2, 0},
			{"buyFlashSale", buyQ, func(k string) map[string]any { return buyVars(sale, k) }, 0, 1},
		} {
			t.Run(tt.name, func(t *testing.T) {
				for i := range 10 {
					// A buyer per round: a member may buy 10 times a second.
					buyer := im.one.Verified(fmt.Sprint("同", i))
					key := fmt.Sprint("K-same-", i)
					before := im.rows(t, buyer.ID, sale)
					res := make([]*servertest.Response, 2)
					var wg sync.WaitGroup
					for j, m := range []*servertest.Mall{im.one, im.two} {
						wg.Add(1)
						go func() { defer wg.Done(); res[j] = m.Do(buyer.Token, tt.q, tt.vars(key)) }()
					}
					wg.Wait()
					want := rows{orders: before.orders + 1, stock: before.stock + tt.stock, sold: []int{before.sold[0] + tt.sold}}
					if after := im.rows(t, buyer.ID, sale); !after.equal(want) {
						t.Fatalf("round %d: rows %s -> %s, want %s", i, before, after, want)
					}
					if len(res[0].Errors) > 0 || len(res[1].Errors) > 0 {
						t.Fatalf("round %d: errors %+v and %+v; want both answered with the order", i, res[0].Errors, res[1].Errors)
					}
					if a, b := orderID(t, res[0]), orderID(t, res[1]); a != b {
						t.Fatalf("round %d: answered with orders %s and %s for one key", i, a, b)
					}
				}
			})
		}
	})
}

// One key sent at once as a placeOrder (instance 1) and as a buyFlashSale
// (instance 2): exactly one order is written, that request is answered
// with it, and the other is refused with BAD_USER_INPUT on idempotencyKey.
func TestIdempotencyKeyOtherRequestAtOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		im := newIdemMall(t, d)
		sale := im.one.NewFlashSale(im.saleProduct, "1.00", 20, 20)
		for i := range 10 {
			buyer := im.one.Verified(fmt.Sprint("抢", i))
			key := fmt.Sprint("K-race-", i)
			before := im.rows(t, buyer.ID, sale)
			var place, buy *servertest.Response
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); place = im.one.Do(buyer.Token, placeQ, placeVars(im.product, 2, key)) }()
			go func() { defer wg.Done(); buy = im.two.Do(buyer.Token, buyQ, buyVars(sale, key)) }()
			wg.Wait()
			after := im.rows(t, buyer.ID, sale)
			placed := rows{orders: before.orders + 1, stock: before.stock - 2, sold: before.sold}
			bought := rows{orders: before.orders + 1, stock: before.stock, sold: []int{before.sold[0] + 1}}
			switch {
			case after.equal(placed):
				if place.Code() != "" || !keyRefused(buy) {
					t.Fatalf("round %d: placeOrder's order was written; answers: placeOrder %+v, buyFlashSale %+v (want the order and BAD_USER_INPUT on idempotencyKey)",
						i, place.Errors, buy.Errors)
				}
			case after.equal(bought):
				if buy.Code() != "" || !keyRefused(place) {
					t.Fatalf("round %d: buyFlashSale's order was written; answers: buyFlashSale %+v, placeOrder %+v (want the order and BAD_USER_INPUT on idempotencyKey)",
						i, buy.Errors, place.Errors)
				}
			default:
				t.Fatalf("round %d: rows %s -> %s, want exactly one of the two orders", i, before, after)
			}
		}
	})
}

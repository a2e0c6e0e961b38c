package orders_test

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// placeOrder prices lines at salePrice, takes the coupon's discount, takes
// the stock, reserves the coupon and gives the order a deadline and a
// unique, readable number; all of it as stored.
func TestPlaceOrder(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		const window = 10 * time.Minute
		m := servertest.Start(t, d, servertest.Options{PaymentWindow: window, NoWorkers: true})
		s := servertest.NewShop(t, m)
		// 7.5折: 26.60 × 0.75 = 19.95, 33.30 × 0.75 = 24.975 → 24.98.
		tea := s.Product(t, "紫阳富硒茶 7.5折", "26.60", "19.95", 50)
		oil := s.Product(t, "汉中菜籽油 7.5折", "33.30", "24.98", 40)
		socks := s.Product(t, "羊毛袜", "8.80", "", 20)
		basket := s.Product(t, "竹编小件", "0.01", "", 1000)
		buyer := m.Verified("王")
		coupons := servertest.ClaimPack(t, m, buyer.Token, servertest.NewCampaign(t, m, time.Now().Add(time.Hour)))

		cases := []struct {
			name                      string
			lines                     []servertest.Line
			coupon                    string // threshold of the buyer's coupon to use
			address                   bool
			subtotal, discount, total string
		}{
			{"two lines at sale and list price", []servertest.Line{{ID: tea, Qty: 3}, {ID: socks, Qty: 2}}, "", true, "77.45", "0.00", "77.45"},
			{"满20减10 above its threshold", []servertest.Line{{ID: tea, Qty: 2}}, "20.00", false, "39.90", "10.00", "29.90"},
			{"满100减50 on three lines", []servertest.Line{{ID: oil, Qty: 1}, {ID: tea, Qty: 4}, {ID: socks, Qty: 1}}, "100.00", false, "113.58", "50.00", "63.58"},
			{"rounded 7.5折 price", []servertest.Line{{ID: oil, Qty: 1}}, "", false, "24.98", "0.00", "24.98"},
			{"999 units of one fen", []servertest.Line{{ID: basket, Qty: 999}}, "", false, "9.99", "0.00", "9.99"},
		}
		salePrice := map[string]int64{tea: 1995, oil: 2498, socks: 880, basket: 1}
		numbers := map[string]bool{}
		numberRE := regexp.MustCompile(`^[0-9A-Za-z-]{8,32}$`)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				stock := map[string]int{}
				for _, l := range c.lines {
					stock[l.ID] = servertest.StockOf(t, d, l.ID)
				}
				orders := servertest.Rows(t, d, "orders")
				extra := map[string]any{}
				if c.coupon != "" {
					extra["couponID"] = coupons[c.coupon]
				}
				if c.address {
					extra["shippingAddress"] = servertest.ValidAddress
				}
				before := time.Now()
				o := servertest.PlaceOrder(t, m, buyer.Token, c.lines, extra)
				after := time.Now()

				if o.Status != "PENDING_PAYMENT" || o.Subtotal != c.subtotal || o.Discount != c.discount || o.Total != c.total {
					t.Fatalf("order %+v, want %s − %s = %s", o, c.subtotal, c.discount, c.total)
				}
				if servertest.Fen(t, o.Discount) > servertest.Fen(t, o.Subtotal) || servertest.Fen(t, o.Total) != servertest.Fen(t, o.Subtotal)-servertest.Fen(t, o.Discount) {
					t.Fatalf("amounts %s − %s ≠ %s", o.Subtotal, o.Discount, o.Total)
				}
				if !strings.HasPrefix(o.ID, "ord_") || !numberRE.MatchString(o.Number) || strings.Contains(o.ID, o.Number) || numbers[o.Number] {
					t.Fatalf("id %q number %q (numbers so far %v)", o.ID, o.Number, numbers)
				}
				numbers[o.Number] = true
				created := servertest.ParseTime(t, o.CreatedAt)
				if o.PayBy == nil {
					t.Fatal("no payBy")
				}
				payBy := servertest.ParseTime(t, *o.PayBy)
				if payBy.Before(before.Add(window-time.Second)) || payBy.After(after.Add(window+time.Second)) ||
					payBy.Sub(created) != window {
					t.Fatalf("payBy %s, created %s, request %s..%s, window %s", payBy, created, before, after, window)
				}
				if o.PaidAt != nil || o.TrackingNumber != nil || o.ClosedAt != nil || o.PurchasingUnit != nil {
					t.Fatalf("fresh order has %+v", o)
				}
				if o.Buyer.ID != buyer.ID || o.Buyer.Phone != buyer.Phone {
					t.Fatalf("buyer %+v, want %s %s in full", o.Buyer, buyer.ID, buyer.Phone)
				}
				// Lines: one per product, at the sale price.
				if len(o.Items) != len(c.lines) {
					t.Fatalf("items %+v", o.Items)
				}
				var sum int64
				for _, l := range c.lines {
					i := slices.IndexFunc(o.Items, func(it servertest.OrderItem) bool { return it.Product.ID == l.ID })
					if i < 0 {
						t.Fatalf("no line of %s in %+v", l.ID, o.Items)
					}
					it := o.Items[i]
					if it.Quantity != l.Qty || servertest.Fen(t, it.UnitPrice) != salePrice[l.ID] || servertest.Fen(t, it.LineTotal) != salePrice[l.ID]*int64(l.Qty) {
						t.Fatalf("line %+v, want %d × %s", it, l.Qty, servertest.Yuan(salePrice[l.ID]))
					}
					sum += servertest.Fen(t, it.LineTotal)
					if got := servertest.StockOf(t, d, l.ID); got != stock[l.ID]-l.Qty {
						t.Fatalf("stock of %s: %d, want %d", l.ID, got, stock[l.ID]-l.Qty)
					}
				}
				if sum != servertest.Fen(t, o.Subtotal) {
					t.Fatalf("lines sum to %s, subtotal %s", servertest.Yuan(sum), o.Subtotal)
				}
				// The address, in full to the buyer.
				if c.address {
					want := servertest.Address{Recipient: "王小明", Phone: "13812345678", Region: "陕西省咸阳市秦都区", Detail: "人民路1号"}
					if o.ShippingAddress == nil || *o.ShippingAddress != want {
						t.Fatalf("address %+v, want %+v", o.ShippingAddress, want)
					}
				} else if o.ShippingAddress != nil {
					t.Fatalf("address %+v, none given", o.ShippingAddress)
				}
				// As stored.
				if servertest.Rows(t, d, "orders") != orders+1 {
					t.Fatal("not exactly one order row more")
				}
				var st, number string
				var sub, disc, tot int64
				var coupon sql.NullString
				if err := d.Pool.QueryRow(d.Q(`SELECT status, number, subtotal, discount, total, coupon_id FROM orders WHERE id = ? AND buyer_id = ?`), o.ID, buyer.ID).
					Scan(&st, &number, &sub, &disc, &tot, &coupon); err != nil {
					t.Fatal(err)
				}
				if st != "PENDING_PAYMENT" || number != o.Number || sub != servertest.Fen(t, c.subtotal) || disc != servertest.Fen(t, c.discount) || tot != servertest.Fen(t, c.total) {
					t.Fatalf("stored %s %s %d %d %d", st, number, sub, disc, tot)
				}
				if n := d.Int(t, `SELECT COUNT(*) FROM order_items WHERE order_id = ?`, o.ID); n != len(c.lines) {
					t.Fatalf("%d stored lines", n)
				}
				if got := d.Int(t, `SELECT COALESCE(SUM(line_total), 0) FROM order_items WHERE order_id = ?`, o.ID); int64(got) != sum {
					t.Fatalf("stored lines sum %d", got)
				}
				if c.coupon == "" {
					if coupon.Valid || o.Coupon != nil {
						t.Fatalf("coupon %v %+v on an order without one", coupon, o.Coupon)
					}
					return
				}
				id := coupons[c.coupon]
				if coupon.String != id || o.Coupon == nil || o.Coupon.ID != id || o.Coupon.Status != "RESERVED" {
					t.Fatalf("order's coupon %v %+v, want %s RESERVED", coupon, o.Coupon, id)
				}
				if s, held := servertest.CouponRow(t, d, id); s != "RESERVED" || held != o.ID {
					t.Fatalf("coupon stored %s held by %q", s, held)
				}
				if got := servertest.MyCoupons(t, m, buyer.Token, "RESERVED")[id]; got.Status != "RESERVED" || got.Order == nil || got.Order.ID != o.ID {
					t.Fatalf("myCoupons(RESERVED): %+v", got)
				}
			})
		}
		if n := d.Int(t, `SELECT COUNT(DISTINCT number) FROM orders`); n != len(cases) || servertest.Rows(t, d, "orders") != len(cases) {
			t.Fatalf("%d distinct numbers of %d orders", n, servertest.Rows(t, d, "orders"))
		}
	})
}

// Every refusal of placeOrder has its code and changes nothing: no order,
// no line, no stock, no coupon.
func TestPlaceOrderRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		s := servertest.NewShop(t, m)
		// Created in this order, so IDs sort: first < low < last.
		first := s.Product(t, "Green Tea", "30.00", "", 100)
		low := s.Product(t, "Rare Honey", "50.00", "", 3)
		last := s.Product(t, "Walnuts", "12.00", "", 100)
		off := servertest.CreateProduct(t, m, servertest.ProductIn{Name: "Old Stock", Category: "SNACKS", Price: "5.00", Stock: 100, OnSale: false, SupplierID: s.Supplier})
		verified := m.Verified("甲")
		unverified := m.Register("乙")
		coupons := servertest.ClaimPack(t, m, verified.Token, servertest.NewCampaign(t, m, time.Now().Add(time.Hour)))

		var u1, u2 struct{ RegisterPurchasingUnit struct{ ID string } }
		servertest.MustDo(t, m, m.Admin, servertest.RegisterUnitQ, map[string]any{"i": map[string]any{"name": "西安市总工会"}}, &u1)
		servertest.MustDo(t, m, m.Admin, servertest.RegisterUnitQ, map[string]any{"i": map[string]any{"name": "宝鸡市总工会"}}, &u2)
		unit1, unit2 := u1.RegisterPurchasingUnit.ID, u2.RegisterPurchasingUnit.ID
		buyer1, buyer2 := m.Verified("采购一"), m.Verified("采购二")
		servertest.MustDo(t, m, m.Admin, servertest.GrantRoleQ, map[string]any{"i": map[string]any{"memberID": buyer1.ID, "role": "PURCHASER", "purchasingUnitID": unit1}}, nil)
		servertest.MustDo(t, m, m.Admin, servertest.GrantRoleQ, map[string]any{"i": map[string]any{"memberID": buyer2.ID, "role": "PURCHASER", "purchasingUnitID": unit2}}, nil)
		// A verified member who is an ADMIN but no PURCHASER.
		verifiedAdmin := m.Verified("管理员")
		servertest.MustDo(t, m, m.Admin, servertest.GrantRoleQ, map[string]any{"i": map[string]any{"memberID": verifiedAdmin.ID, "role": "ADMIN"}}, nil)

		one := []servertest.Line{{ID: first, Qty: 1}}
		cases := []struct {
			name  string
			token string
			lines []servertest.Line
			extra map[string]any
			code  string
		}{
			{"anonymous", "", one, nil, "UNAUTHENTICATED"},
			{"unverified", unverified.Token, one, nil, "NOT_VERIFIED"},
			{"quantity 0", verified.Token, []servertest.Line{{ID: first, Qty: 0}}, nil, "BAD_USER_INPUT"},
			{"quantity -1", verified.Token, []servertest.Line{{ID: first, Qty: -1}}, nil, "BAD_USER_INPUT"},
			{"quantity 1000", verified.Token, []servertest.Line{{ID: first, Qty: 1000}}, nil, "BAD_USER_INPUT"},
			{"quantity 1000 on the second line", verified.Token, []servertest.Line{{ID: first, Qty: 1}, {ID: last, Qty: 1000}}, nil, "BAD_USER_INPUT"},
			{"no items", verified.Token, nil, nil, "BAD_USER_INPUT"},
			{"same product twice", verified.Token, []servertest.Line{{ID: first, Qty: 1}, {ID: first, Qty: 2}}, nil, "BAD_USER_INPUT"},
			{"same product twice among others", verified.Token, []servertest.Line{{ID: first, Qty: 1}, {ID: last, Qty: 1}, {ID: first, Qty: 1}}, nil, "BAD_USER_INPUT"},
			{"off sale", verified.Token, []servertest.Line{{ID: off, Qty: 1}}, nil, "PRODUCT_UNAVAILABLE"},
			{"off sale beside a good line", verified.Token, []servertest.Line{{ID: first, Qty: 1}, {ID: off, Qty: 1}}, nil, "PRODUCT_UNAVAILABLE"},
			{"unknown product", verified.Token, []servertest.Line{{ID: "prd_01JD5Z8Q5V8N4W3X2Y1Z0A9B8C", Qty: 1}}, nil, "PRODUCT_UNAVAILABLE"},
			{"unknown product beside a good line", verified.Token, []servertest.Line{{ID: last, Qty: 2}, {ID: "prd_01JD5Z8Q5V8N4W3X2Y1Z0A9B8C", Qty: 1}}, nil, "PRODUCT_UNAVAILABLE"},
			{"a supplier's ID", verified.Token, []servertest.Line{{ID: s.Supplier, Qty: 1}}, nil, "PRODUCT_UNAVAILABLE"},
			{"above stock, good line before it", verified.Token, []servertest.Line{{ID: first, Qty: 2}, {ID: low, Qty: 4}}, nil, "OUT_OF_STOCK"},
			{"above stock, good line after it", verified.Token, []servertest.Line{{ID: low, Qty: 4}, {ID: last, Qty: 2}}, nil, "OUT_OF_STOCK"},
			{"above stock, good lines around it, with a coupon", verified.Token, []servertest.Line{{ID: last, Qty: 5}, {ID: low, Qty: 4}, {ID: first, Qty: 5}},
				map[string]any{"couponID": coupons["20.00"]}, "OUT_OF_STOCK"},
			{"unknown coupon", verified.Token, one, map[string]any{"couponID": "cpn_01JD5Z8Q5V8N4W3X2Y1Z0A9B8C"}, "NOT_FOUND"},
			{"empty idempotency key", verified.Token, one, map[string]any{"idempotencyKey": ""}, "BAD_USER_INPUT"},
			{"bad recipient phone", verified.Token, one, map[string]any{"shippingAddress": map[string]any{
				"recipient": "王小明", "phone": "12345", "region": "陕西省咸阳市秦都区", "detail": "人民路1号"}}, "BAD_USER_INPUT"},
			{"purchasing unit, not a PURCHASER", verified.Token, one, map[string]any{"purchasingUnitID": unit1}, "FORBIDDEN"},
			{"purchasing unit, PURCHASER of another unit", buyer2.Token, one, map[string]any{"purchasingUnitID": unit1}, "FORBIDDEN"},
			{"purchasing unit, ADMIN but not its PURCHASER", verifiedAdmin.Token, one, map[string]any{"purchasingUnitID": unit1}, "FORBIDDEN"},
			{"unknown purchasing unit", buyer1.Token, one, map[string]any{"purchasingUnitID": "pun_01JD5Z8Q5V8N4W3X2Y1Z0A9B8C"}, "FORBIDDEN"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				servertest.Refused(t, m, d, c.token, servertest.PlaceOrderQ, servertest.OrderInput(c.lines, c.extra), c.code)
			})
		}
		if servertest.Rows(t, d, "orders") != 0 || servertest.Rows(t, d, "order_items") != 0 {
			t.Fatal("a refusal left rows behind")
		}
		if got := []int{servertest.StockOf(t, d, first), servertest.StockOf(t, d, low), servertest.StockOf(t, d, last)}; !slices.Equal(got, []int{100, 3, 100}) {
			t.Fatalf("stock %v", got)
		}
		if st, held := servertest.CouponRow(t, d, coupons["20.00"]); st != "AVAILABLE" || held != "" {
			t.Fatalf("coupon %s %q", st, held)
		}

		t.Run("the unit's PURCHASER", func(t *testing.T) {
			o := servertest.PlaceOrder(t, m, buyer1.Token, []servertest.Line{{ID: low, Qty: 3}}, map[string]any{"purchasingUnitID": unit1})
			if o.PurchasingUnit == nil || o.PurchasingUnit.ID != unit1 || o.Total != "150.00" || o.Buyer.ID != buyer1.ID {
				t.Fatalf("order %+v", o)
			}
			if n := d.Int(t, `SELECT COUNT(*) FROM orders WHERE id = ? AND purchasing_unit_id = ? AND buyer_id = ?`, o.ID, unit1, buyer1.ID); n != 1 {
				t.Fatal("stored without its unit")
			}
			if servertest.StockOf(t, d, low) != 0 {
				t.Fatal("stock not taken")
			}
			// A PURCHASER may still buy for themself.
			if o := servertest.PlaceOrder(t, m, buyer2.Token, one, nil); o.PurchasingUnit != nil {
				t.Fatalf("own order has unit %+v", o.PurchasingUnit)
			}
		})
	})
}

// The contract's coupon rules on orders: the threshold is reached at the
// subtotal (at the sale price), only the buyer's own AVAILABLE coupon
// inside its validity applies, a coupon is RESERVED by a pending order,
// AVAILABLE again when it is cancelled and USED once it is paid.
func TestOrderCoupons(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		s := servertest.NewShop(t, m)
		alice, bob := m.Verified("爱丽丝"), m.Verified("鲍勃")
		// 26.67 × 0.75 = 20.0025 → 20.00; 26.65 × 0.75 = 19.9875 → 19.99.
		atThreshold := s.Product(t, "富硒茶 7.5折", "26.67", "20.00", 100)
		short := s.Product(t, "香菇 7.5折", "26.65", "19.99", 100)
		cake := s.Product(t, "茶饼", "19.99", "", 100)
		twenty := s.Product(t, "核桃", "20.00", "", 100)
		week := time.Now().Add(7 * 24 * time.Hour)
		mine := servertest.ClaimPack(t, m, alice.Token, servertest.NewCampaign(t, m, week))
		bobs := servertest.ClaimPack(t, m, bob.Token, servertest.NewCampaign(t, m, week))
		deep := servertest.ClaimPack(t, m, alice.Token, servertest.NewCampaign(t, m, week, [2]string{"20.00", "19.99"}))

		use := func(id string) map[string]any { return map[string]any{"couponID": id} }
		place := func(t *testing.T, token string, lines []servertest.Line, coupon, subtotal, discount, total string) servertest.Order {
			t.Helper()
			o := servertest.PlaceOrder(t, m, token, lines, use(coupon))
			if o.Subtotal != subtotal || o.Discount != discount || o.Total != total || o.Coupon == nil || o.Coupon.ID != coupon || o.Coupon.Status != "RESERVED" {
				t.Fatalf("order %+v, want %s − %s = %s with %s RESERVED", o, subtotal, discount, total, coupon)
			}
			if st, held := servertest.CouponRow(t, d, coupon); st != "RESERVED" || held != o.ID {
				t.Fatalf("coupon stored %s held by %q", st, held)
			}
			return o
		}

		t.Run("one fen short", func(t *testing.T) {
			for _, c := range []struct {
				lines  []servertest.Line
				coupon string
			}{
				{[]servertest.Line{{ID: cake, Qty: 1}}, mine["20.00"]},
				{[]servertest.Line{{ID: short, Qty: 1}}, mine["20.00"]}, // list price 26.65, sale price 19.99
				{[]servertest.Line{{ID: twenty, Qty: 1}, {ID: cake, Qty: 1}}, mine["40.00"]},
				{[]servertest.Line{{ID: cake, Qty: 5}, {ID: short, Qty: 5}}, mine["200.00"]}, // 99.95 + 99.95
			} {
				servertest.Refused(t, m, d, alice.Token, servertest.PlaceOrderQ, servertest.OrderInput(c.lines, use(c.coupon)), "COUPON_NOT_APPLICABLE")
			}
		})

		t.Run("another member's coupon", func(t *testing.T) {
			servertest.Refused(t, m, d, alice.Token, servertest.PlaceOrderQ, servertest.OrderInput([]servertest.Line{{ID: twenty, Qty: 2}}, use(bobs["20.00"])), "NOT_FOUND")
			servertest.Refused(t, m, d, bob.Token, servertest.PlaceOrderQ, servertest.OrderInput([]servertest.Line{{ID: twenty, Qty: 2}}, use(mine["20.00"])), "NOT_FOUND")
			if st, _ := servertest.CouponRow(t, d, bobs["20.00"]); st != "AVAILABLE" {
				t.Fatalf("bob's coupon %s", st)
			}
		})

		// A campaign whose coupons expire in a few seconds: one of them
		// reserved now, all checked last.
		expiresAt := time.Now().Add(2 * time.Second)
		soon := servertest.ClaimPack(t, m, alice.Token, servertest.NewCampaign(t, m, expiresAt))
		reservedSoon := place(t, alice.Token, []servertest.Line{{ID: twenty, Qty: 2}}, soon["40.00"], "40.00", "20.00", "20.00")

		c20 := mine["20.00"]
		var held servertest.Order
		t.Run("exactly at the threshold", func(t *testing.T) {
			held = place(t, alice.Token, []servertest.Line{{ID: atThreshold, Qty: 1}}, c20, "20.00", "10.00", "10.00")
		})

		t.Run("reserved", func(t *testing.T) {
			servertest.Refused(t, m, d, alice.Token, servertest.PlaceOrderQ, servertest.OrderInput([]servertest.Line{{ID: twenty, Qty: 2}}, use(c20)), "COUPON_UNAVAILABLE")
			servertest.Refused(t, m, d, bob.Token, servertest.PlaceOrderQ, servertest.OrderInput([]servertest.Line{{ID: twenty, Qty: 2}}, use(c20)), "NOT_FOUND")
			if got := servertest.MyCoupons(t, m, alice.Token, "RESERVED"); len(got) != 2 || got[c20].Order == nil || got[c20].Order.ID != held.ID ||
				got[soon["40.00"]].Order == nil || got[soon["40.00"]].Order.ID != reservedSoon.ID {
				t.Fatalf("myCoupons(RESERVED) %+v", got)
			}
			if _, ok := servertest.MyCoupons(t, m, alice.Token, "AVAILABLE")[c20]; ok {
				t.Fatal("a reserved coupon is listed AVAILABLE")
			}
		})

		var paid servertest.Order
		t.Run("available again after cancel", func(t *testing.T) {
			o := servertest.MustOrder(t, m, alice.Token, servertest.CancelOrderQ, map[string]any{"id": held.ID})
			if o.Status != "CANCELLED" {
				t.Fatalf("cancelled %+v", o)
			}
			if st, h := servertest.CouponRow(t, d, c20); st != "AVAILABLE" || h != "" {
				t.Fatalf("coupon stored %s held by %q", st, h)
			}
			if got := servertest.MyCoupons(t, m, alice.Token, "AVAILABLE")[c20]; got.Status != "AVAILABLE" || got.Order != nil {
				t.Fatalf("myCoupons(AVAILABLE): %+v", got)
			}
			paid = place(t, alice.Token, []servertest.Line{{ID: twenty, Qty: 1}, {ID: cake, Qty: 1}}, c20, "39.99", "10.00", "29.99")
		})

		t.Run("used once paid", func(t *testing.T) {
			o := servertest.Pay(t, m, paid, "WX-COUPON-1")
			if o.Status != "PAID" || o.Coupon == nil || o.Coupon.Status != "USED" {
				t.Fatalf("paid %+v", o)
			}
			if st, h := servertest.CouponRow(t, d, c20); st != "USED" || h != paid.ID {
				t.Fatalf("coupon stored %s held by %q", st, h)
			}
			used := servertest.MyCoupons(t, m, alice.Token, "USED")
			if len(used) != 1 || used[c20].Status != "USED" || used[c20].Order == nil || used[c20].Order.ID != paid.ID {
				t.Fatalf("myCoupons(USED): %+v", used)
			}
			if _, ok := servertest.MyCoupons(t, m, alice.Token, "AVAILABLE")[c20]; ok {
				t.Fatal("a used coupon is listed AVAILABLE")
			}
			servertest.Refused(t, m, d, alice.Token, servertest.PlaceOrderQ, servertest.OrderInput([]servertest.Line{{ID: twenty, Qty: 3}}, use(c20)), "COUPON_UNAVAILABLE")
		})

		t.Run("discount at most the subtotal", func(t *testing.T) {
			// 满20减19.99 on exactly 20.00 leaves one fen to pay.
			place(t, alice.Token, []servertest.Line{{ID: twenty, Qty: 1}}, deep["20.00"], "20.00", "19.99", "0.01")
			if n := d.Int(t, `SELECT COUNT(*) FROM orders WHERE discount > subtotal OR total <> subtotal - discount OR total < 0`); n != 0 {
				t.Fatalf("%d orders with a discount past the subtotal", n)
			}
		})

		t.Run("expired", func(t *testing.T) {
			// Reserved before it expired; cancelled after.
			time.Sleep(time.Until(expiresAt) + 200*time.Millisecond)
			if got := servertest.MyCoupons(t, m, alice.Token, "")[soon["40.00"]]; got.Status != "RESERVED" {
				t.Fatalf("a reserved coupon past validUntil reads %s", got.Status)
			}
			servertest.MustOrder(t, m, alice.Token, servertest.CancelOrderQ, map[string]any{"id": reservedSoon.ID})

			expired := servertest.MyCoupons(t, m, alice.Token, "EXPIRED")
			all := servertest.MyCoupons(t, m, alice.Token, "")
			available := servertest.MyCoupons(t, m, alice.Token, "AVAILABLE")
			for th, id := range soon {
				if expired[id].Status != "EXPIRED" || all[id].Status != "EXPIRED" {
					t.Fatalf("coupon %s past validUntil: %+v / %+v", th, expired[id], all[id])
				}
				if _, ok := available[id]; ok {
					t.Fatalf("expired coupon %s listed AVAILABLE", th)
				}
			}
			if len(expired) != len(soon) {
				t.Fatalf("myCoupons(EXPIRED) has %d coupons, want %d", len(expired), len(soon))
			}
			for _, id := range []string{soon["20.00"], soon["40.00"]} {
				servertest.Refused(t, m, d, alice.Token, servertest.PlaceOrderQ, servertest.OrderInput([]servertest.Line{{ID: twenty, Qty: 3}}, use(id)), "COUPON_UNAVAILABLE")
			}
			// The campaign's other coupons still work.
			place(t, alice.Token, []servertest.Line{{ID: twenty, Qty: 3}}, mine["40.00"], "60.00", "20.00", "40.00")
		})
	})
}

// The order's life through the API: payment (amount checked, retried by
// reference), address, shipping, completion, refunds, cancellations, with
// stock, sold counts and coupons as the contract says.
func TestOrderLifecycle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		s := servertest.NewShop(t, m)
		tea := s.Product(t, "紫阳富硒茶 7.5折", "26.60", "19.95", 50)
		socks := s.Product(t, "羊毛袜", "8.80", "", 30)
		alice, bob := m.Verified("爱丽丝"), m.Verified("鲍勃")
		coupons := servertest.ClaimPack(t, m, alice.Token, servertest.NewCampaign(t, m, time.Now().Add(time.Hour)))
		id := func(o servertest.Order) map[string]any { return map[string]any{"id": o.ID} }
		confirm := func(o servertest.Order, ref, amount string) map[string]any {
			return map[string]any{"i": map[string]any{"orderID": o.ID, "paymentReference": ref, "amount": amount}}
		}
		addr := func(o servertest.Order) map[string]any {
			return map[string]any{"id": o.ID, "a": servertest.ValidAddress}
		}
		ship := func(o servertest.Order) map[string]any {
			return map[string]any{"i": map[string]any{"orderID": o.ID, "trackingNumber": "SF1234567890"}}
		}
		refund := func(o servertest.Order) map[string]any {
			return map[string]any{"i": map[string]any{"orderID": o.ID, "reason": "质量问题"}}
		}
		want := func(t *testing.T, product string, stock, sold int) {
			t.Helper()
			if gs, gd := servertest.StockOf(t, d, product), servertest.SoldOf(t, d, product); gs != stock || gd != sold {
				t.Fatalf("product %s: stock %d sold %d, want %d %d", product, gs, gd, stock, sold)
			}
		}

		// 2 × 19.95 + 8.80 = 48.70, 满40减20: 28.70.
		o1 := servertest.PlaceOrder(t, m, alice.Token, []servertest.Line{{ID: tea, Qty: 2}, {ID: socks, Qty: 1}}, map[string]any{"couponID": coupons["40.00"]})
		if o1.Total != "28.70" {
			t.Fatalf("total %s", o1.Total)
		}
		want(t, tea, 48, 0)
		want(t, socks, 29, 0)

		t.Run("confirmPayment, wrong amount", func(t *testing.T) {
			for _, amount := range []string{"28.69", "28.71", "48.70", "0.01"} {
				servertest.Refused(t, m, d, m.Admin, servertest.ConfirmPaymentQ, confirm(o1, "WX-1", amount), "BAD_USER_INPUT")
			}
			servertest.Refused(t, m, d, m.Admin, servertest.ConfirmPaymentQ, confirm(servertest.Order{ID: "ord_01JD5Z8Q5V8N4W3X2Y1Z0A9B8C"}, "WX-1", "28.70"), "NOT_FOUND")
			servertest.Refused(t, m, d, m.Admin, servertest.ConfirmPaymentQ, confirm(o1, "", "28.70"), "BAD_USER_INPUT")
		})

		var paidAt string
		t.Run("confirmPayment", func(t *testing.T) {
			before := time.Now()
			o := servertest.MustOrder(t, m, m.Admin, servertest.ConfirmPaymentQ, confirm(o1, "WX-1", "28.7"))
			if o.Status != "PAID" || o.PaidAt == nil || o.Coupon == nil || o.Coupon.Status != "USED" || o.Total != "28.70" {
				t.Fatalf("paid %+v", o)
			}
			if at := servertest.ParseTime(t, *o.PaidAt); at.Before(before.Add(-time.Second)) || at.After(time.Now().Add(time.Second)) {
				t.Fatalf("paidAt %s", at)
			}
			paidAt = *o.PaidAt
			if n := d.Int(t, `SELECT COUNT(*) FROM orders WHERE id = ? AND status = 'PAID' AND paid_at IS NOT NULL AND payment_reference = 'WX-1'`, o1.ID); n != 1 {
				t.Fatal("not stored as paid")
			}
			if st, h := servertest.CouponRow(t, d, coupons["40.00"]); st != "USED" || h != o1.ID {
				t.Fatalf("coupon %s %q", st, h)
			}
			want(t, tea, 48, 2)
			want(t, socks, 29, 1)
			var p struct {
				Node struct{ SoldCount, Stock int }
			}
			servertest.MustDo(t, m, bob.Token, `query($id: ID!) { node(id: $id) { ... on Product { soldCount stock } } }`, map[string]any{"id": tea}, &p)
			if p.Node.SoldCount != 2 || p.Node.Stock != 48 {
				t.Fatalf("product shows %+v", p.Node)
			}
		})

		t.Run("confirmPayment repeated", func(t *testing.T) {
			before := servertest.OrderState(t, d)
			o := servertest.MustOrder(t, m, m.Admin, servertest.ConfirmPaymentQ, confirm(o1, "WX-1", "28.70"))
			if o.ID != o1.ID || o.Status != "PAID" || o.PaidAt == nil || *o.PaidAt != paidAt {
				t.Fatalf("repeat gave %+v", o)
			}
			servertest.Unchanged(t, d, before)
			servertest.Refused(t, m, d, m.Admin, servertest.ConfirmPaymentQ, confirm(o1, "WX-2", "28.70"), "INVALID_STATE")
		})

		t.Run("ship without an address", func(t *testing.T) {
			servertest.Refused(t, m, d, m.Admin, servertest.ShipOrderQ, ship(o1), "INVALID_STATE")
		})

		t.Run("setShippingAddress", func(t *testing.T) {
			servertest.Refused(t, m, d, bob.Token, servertest.SetAddressQ, addr(o1), "NOT_FOUND")
			servertest.Refused(t, m, d, m.Admin, servertest.SetAddressQ, addr(o1), "FORBIDDEN")
			servertest.Refused(t, m, d, "", servertest.SetAddressQ, addr(o1), "UNAUTHENTICATED")
			bad := map[string]any{"id": o1.ID, "a": map[string]any{"recipient": "", "phone": "13812345678", "region": "陕西省", "detail": "1号"}}
			servertest.Refused(t, m, d, alice.Token, servertest.SetAddressQ, bad, "BAD_USER_INPUT")
			o := servertest.MustOrder(t, m, alice.Token, servertest.SetAddressQ, addr(o1))
			if o.Status != "PAID" || o.ShippingAddress == nil || o.ShippingAddress.Phone != "13812345678" || o.ShippingAddress.Recipient != "王小明" {
				t.Fatalf("address set: %+v", o)
			}
			if n := d.Int(t, `SELECT COUNT(*) FROM orders WHERE id = ? AND CAST(shipping_address AS TEXT) LIKE ?`, o1.ID, "%13812345678%"); n != 1 {
				t.Fatal("address not stored")
			}
			// While pending too.
			p := servertest.PlaceOrder(t, m, alice.Token, []servertest.Line{{ID: socks, Qty: 1}}, nil)
			if o := servertest.MustOrder(t, m, alice.Token, servertest.SetAddressQ, addr(p)); o.Status != "PENDING_PAYMENT" || o.ShippingAddress == nil {
				t.Fatalf("pending address: %+v", o)
			}
			servertest.MustOrder(t, m, alice.Token, servertest.CancelOrderQ, id(p))
		})

		t.Run("shipOrder", func(t *testing.T) {
			servertest.Refused(t, m, d, m.Admin, servertest.ShipOrderQ, map[string]any{"i": map[string]any{"orderID": o1.ID, "trackingNumber": " "}}, "BAD_USER_INPUT")
			o := servertest.MustOrder(t, m, m.Admin, servertest.ShipOrderQ, ship(o1))
			if o.Status != "SHIPPED" || o.TrackingNumber == nil || *o.TrackingNumber != "SF1234567890" {
				t.Fatalf("shipped %+v", o)
			}
			if n := d.Int(t, `SELECT COUNT(*) FROM orders WHERE id = ? AND status = 'SHIPPED' AND tracking_number = 'SF1234567890' AND shipped_at IS NOT NULL`, o1.ID); n != 1 {
				t.Fatal("not stored as shipped")
			}
			want(t, tea, 48, 2)
		})

		t.Run("completeOrder", func(t *testing.T) {
			servertest.Refused(t, m, d, bob.Token, servertest.CompleteOrderQ, id(o1), "NOT_FOUND")
			o := servertest.MustOrder(t, m, alice.Token, servertest.CompleteOrderQ, id(o1))
			if o.Status != "COMPLETED" {
				t.Fatalf("completed %+v", o)
			}
			if n := d.Int(t, `SELECT COUNT(*) FROM orders WHERE id = ? AND status = 'COMPLETED' AND completed_at IS NOT NULL`, o1.ID); n != 1 {
				t.Fatal("not stored as completed")
			}
		})

		t.Run("refund completed", func(t *testing.T) {
			servertest.Refused(t, m, d, m.Admin, servertest.RefundOrderQ, map[string]any{"i": map[string]any{"orderID": o1.ID, "reason": ""}}, "BAD_USER_INPUT")
			o := servertest.MustOrder(t, m, m.Admin, servertest.RefundOrderQ, refund(o1))
			if o.Status != "REFUNDED" || o.ClosedAt == nil {
				t.Fatalf("refunded %+v", o)
			}
			// Shipped units are not restocked; the coupon stays used.
			want(t, tea, 48, 0)
			want(t, socks, 29, 0)
			if st, _ := servertest.CouponRow(t, d, coupons["40.00"]); st != "USED" {
				t.Fatalf("coupon of a refunded order: %s", st)
			}
		})

		t.Run("refund paid", func(t *testing.T) {
			o := servertest.PlaceOrder(t, m, alice.Token, []servertest.Line{{ID: tea, Qty: 3}, {ID: socks, Qty: 2}}, nil)
			servertest.Pay(t, m, o, "WX-3")
			want(t, tea, 45, 3)
			want(t, socks, 27, 2)
			if r := servertest.MustOrder(t, m, m.Admin, servertest.RefundOrderQ, refund(o)); r.Status != "REFUNDED" {
				t.Fatalf("refunded %+v", r)
			}
			want(t, tea, 48, 0)
			want(t, socks, 29, 0)
			if n := d.Int(t, `SELECT COUNT(*) FROM orders WHERE id = ? AND status = 'REFUNDED' AND refund_reason = '质量问题' AND closed_at IS NOT NULL`, o.ID); n != 1 {
				t.Fatal("not stored as refunded")
			}
		})

		t.Run("refund shipped", func(t *testing.T) {
			o := servertest.PlaceOrder(t, m, alice.Token, []servertest.Line{{ID: socks, Qty: 2}}, map[string]any{"shippingAddress": servertest.ValidAddress})
			servertest.Pay(t, m, o, "WX-4")
			servertest.MustOrder(t, m, m.Admin, servertest.ShipOrderQ, ship(o))
			want(t, socks, 27, 2)
			if r := servertest.MustOrder(t, m, m.Admin, servertest.RefundOrderQ, refund(o)); r.Status != "REFUNDED" {
				t.Fatalf("refunded %+v", r)
			}
			want(t, socks, 27, 0)
		})

		t.Run("cancel by the buyer", func(t *testing.T) {
			c := coupons["20.00"]
			o := servertest.PlaceOrder(t, m, alice.Token, []servertest.Line{{ID: tea, Qty: 1}, {ID: socks, Qty: 1}}, map[string]any{"couponID": c})
			want(t, tea, 47, 0)
			servertest.Refused(t, m, d, bob.Token, servertest.CancelOrderQ, id(o), "NOT_FOUND")
			servertest.Refused(t, m, d, "", servertest.CancelOrderQ, id(o), "UNAUTHENTICATED")
			r := servertest.MustOrder(t, m, alice.Token, servertest.CancelOrderQ, id(o))
			if r.Status != "CANCELLED" || r.ClosedAt == nil {
				t.Fatalf("cancelled %+v", r)
			}
			want(t, tea, 48, 0)
			want(t, socks, 27, 0)
			if st, h := servertest.CouponRow(t, d, c); st != "AVAILABLE" || h != "" {
				t.Fatalf("coupon %s %q", st, h)
			}
		})

		t.Run("cancel by an admin", func(t *testing.T) {
			c := coupons["100.00"]
			// 6 × 19.95 = 119.70, 满100减50.
			o := servertest.PlaceOrder(t, m, alice.Token, []servertest.Line{{ID: tea, Qty: 6}}, map[string]any{"couponID": c})
			if o.Total != "69.70" {
				t.Fatalf("total %s", o.Total)
			}
			want(t, tea, 42, 0)
			if r := servertest.MustOrder(t, m, m.Admin, servertest.CancelOrderQ, id(o)); r.Status != "CANCELLED" {
				t.Fatalf("cancelled %+v", r)
			}
			want(t, tea, 48, 0)
			if st, h := servertest.CouponRow(t, d, c); st != "AVAILABLE" || h != "" {
				t.Fatalf("coupon %s %q", st, h)
			}
		})

		t.Run("payment reference of another order", func(t *testing.T) {
			o := servertest.PlaceOrder(t, m, alice.Token, []servertest.Line{{ID: tea, Qty: 1}}, nil)
			before := servertest.OrderState(t, d)
			if r := m.Do(m.Admin, servertest.ConfirmPaymentQ, confirm(o, "WX-1", o.Total)); len(r.Errors) == 0 {
				t.Fatalf("a reference of another order was accepted: %s", r.Data)
			}
			servertest.Unchanged(t, d, before)
			if p := servertest.Pay(t, m, o, "WX-5"); p.Status != "PAID" {
				t.Fatalf("paid %+v", p)
			}
		})
	})
}

// Every transition the contract does not allow is INVALID_STATE and
// changes nothing.
func TestOrderTransitionsRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		// A second instance on the same database whose orders are due at
		// once, to make an EXPIRED order the way the worker does.
		due := servertest.Start(t, d, servertest.Options{NoWorkers: true, PaymentWindow: time.Millisecond})
		s := servertest.NewShop(t, m)
		tea := s.Product(t, "紫阳富硒茶", "30.00", "", 100)
		alice := m.Verified("爱丽丝")
		addr := map[string]any{"shippingAddress": servertest.ValidAddress}
		line := []servertest.Line{{ID: tea, Qty: 1}}

		orders := map[string]servertest.Order{}
		for i, state := range []string{"PENDING_PAYMENT", "PAID", "SHIPPED", "COMPLETED", "CANCELLED", "EXPIRED", "REFUNDED"} {
			if state == "EXPIRED" {
				o := servertest.PlaceOrder(t, due, alice.Token, line, addr)
				time.Sleep(5 * time.Millisecond)
				if n, err := due.Server.Orders.ExpireDue(context.Background(), 100); err != nil || n != 1 {
					t.Fatalf("expire: %d %v", n, err)
				}
				orders[state] = o
				continue
			}
			o := servertest.PlaceOrder(t, m, alice.Token, line, addr)
			switch state {
			case "PAID", "SHIPPED", "COMPLETED", "REFUNDED":
				servertest.Pay(t, m, o, fmt.Sprintf("WX-%d", i))
			case "CANCELLED":
				servertest.MustOrder(t, m, alice.Token, servertest.CancelOrderQ, map[string]any{"id": o.ID})
			}
			if state == "SHIPPED" || state == "COMPLETED" {
				servertest.MustOrder(t, m, m.Admin, servertest.ShipOrderQ, map[string]any{"i": map[string]any{"orderID": o.ID, "trackingNumber": "YT0001"}})
			}
			if state == "COMPLETED" {
				servertest.MustOrder(t, m, alice.Token, servertest.CompleteOrderQ, map[string]any{"id": o.ID})
			}
			if state == "REFUNDED" {
				servertest.MustOrder(t, m, m.Admin, servertest.RefundOrderQ, map[string]any{"i": map[string]any{"orderID": o.ID, "reason": "退货"}})
			}
			orders[state] = o
		}
		for state, o := range orders {
			if got := servertest.OrderStatus(t, d, o.ID); got != state {
				t.Fatalf("fixture: %s order is %s", state, got)
			}
		}

		type action struct {
			name    string
			allowed []string
			token   func() string
			query   string
			vars    func(o servertest.Order) map[string]any
		}
		buyer := func() string { return alice.Token }
		admin := func() string { return m.Admin }
		byID := func(o servertest.Order) map[string]any { return map[string]any{"id": o.ID} }
		actions := []action{
			{"confirmPayment", []string{"PENDING_PAYMENT"}, admin, servertest.ConfirmPaymentQ, func(o servertest.Order) map[string]any {
				return map[string]any{"i": map[string]any{"orderID": o.ID, "paymentReference": "WX-NEW-" + o.ID, "amount": o.Total}}
			}},
			{"cancelOrder (buyer)", []string{"PENDING_PAYMENT"}, buyer, servertest.CancelOrderQ, byID},
			{"cancelOrder (admin)", []string{"PENDING_PAYMENT"}, admin, servertest.CancelOrderQ, byID},
			{"setShippingAddress", []string{"PENDING_PAYMENT", "PAID"}, buyer, servertest.SetAddressQ, func(o servertest.Order) map[string]any {
				return map[string]any{"id": o.ID, "a": map[string]any{"recipient": "李四", "phone": "13900001111", "region": "陕西省西安市雁塔区", "detail": "小寨路2号"}}
			}},
			{"shipOrder", []string{"PAID"}, admin, servertest.ShipOrderQ, func(o servertest.Order) map[string]any {
				return map[string]any{"i": map[string]any{"orderID": o.ID, "trackingNumber": "YT0002"}}
			}},
			{"completeOrder (buyer)", []string{"SHIPPED"}, buyer, servertest.CompleteOrderQ, byID},
			{"completeOrder (admin)", []string{"SHIPPED"}, admin, servertest.CompleteOrderQ, byID},
			{"refundOrder", []string{"PAID", "SHIPPED", "COMPLETED"}, admin, servertest.RefundOrderQ, func(o servertest.Order) map[string]any {
				return map[string]any{"i": map[string]any{"orderID": o.ID, "reason": "退货"}}
			}},
		}
		t.Run("confirmPayment past payBy, not yet expired", func(t *testing.T) {
			o := servertest.PlaceOrder(t, due, alice.Token, line, addr)
			time.Sleep(5 * time.Millisecond)
			servertest.Refused(t, m, d, m.Admin, servertest.ConfirmPaymentQ, map[string]any{"i": map[string]any{
				"orderID": o.ID, "paymentReference": "WX-LATE", "amount": o.Total}}, "INVALID_STATE")
			if st := servertest.OrderStatus(t, d, o.ID); st != "PENDING_PAYMENT" {
				t.Fatalf("order is %s", st)
			}
		})

		refused := 0
		for _, a := range actions {
			for _, state := range []string{"PENDING_PAYMENT", "PAID", "SHIPPED", "COMPLETED", "CANCELLED", "EXPIRED", "REFUNDED"} {
				if slices.Contains(a.allowed, state) {
					continue
				}
				refused++
				t.Run(a.name+" of "+state, func(t *testing.T) {
					servertest.Refused(t, m, d, a.token(), a.query, a.vars(orders[state]), "INVALID_STATE")
				})
			}
		}
		if refused != 45 {
			t.Fatalf("%d refused transitions tested", refused)
		}
	})
}

// Admin-only operations refuse anonymous callers (UNAUTHENTICATED) and
// members (FORBIDDEN), even the order's buyer; member operations refuse
// anonymous callers. None changes anything.
func TestOrderAuthorization(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		s := servertest.NewShop(t, m)
		tea := s.Product(t, "紫阳富硒茶", "30.00", "", 100)
		alice := m.Verified("爱丽丝")
		camp := servertest.NewCampaign(t, m, time.Now().Add(time.Hour))
		pending := servertest.PlaceOrder(t, m, alice.Token, []servertest.Line{{ID: tea, Qty: 1}}, map[string]any{"shippingAddress": servertest.ValidAddress})
		paid := servertest.PlaceOrder(t, m, alice.Token, []servertest.Line{{ID: tea, Qty: 1}}, map[string]any{"shippingAddress": servertest.ValidAddress})
		servertest.Pay(t, m, paid, "WX-PAID")
		start := time.Now().Add(-time.Minute)
		campaign := map[string]any{"i": map[string]any{"name": "Not Allowed", "budget": "1000.00",
			"claimStartsAt": servertest.FormatTime(start), "claimEndsAt": servertest.FormatTime(start.Add(time.Hour)),
			"validFrom": servertest.FormatTime(start), "validUntil": servertest.FormatTime(start.Add(time.Hour)),
			"tiers": []map[string]any{{"threshold": "20.00", "discount": "10.00"}}}}

		cases := []struct {
			name      string
			query     string
			vars      map[string]any
			adminOnly bool
		}{
			{"confirmPayment", servertest.ConfirmPaymentQ, map[string]any{"i": map[string]any{"orderID": pending.ID, "paymentReference": "WX-X", "amount": pending.Total}}, true},
			{"shipOrder", servertest.ShipOrderQ, map[string]any{"i": map[string]any{"orderID": paid.ID, "trackingNumber": "SF1"}}, true},
			{"refundOrder", servertest.RefundOrderQ, map[string]any{"i": map[string]any{"orderID": paid.ID, "reason": "退货"}}, true},
			{"orders", `{ orders { totalCount edges { node { id } } } }`, nil, true},
			{"orders by status", `{ orders(status: PAID) { totalCount } }`, nil, true},
			{"createCouponCampaign", servertest.CreateCampaignQ, campaign, true},
			{"placeOrder", servertest.PlaceOrderQ, servertest.OrderInput([]servertest.Line{{ID: tea, Qty: 1}}, nil), false},
			{"cancelOrder", servertest.CancelOrderQ, map[string]any{"id": pending.ID}, false},
			{"setShippingAddress", servertest.SetAddressQ, map[string]any{"id": pending.ID, "a": servertest.ValidAddress}, false},
			{"completeOrder", servertest.CompleteOrderQ, map[string]any{"id": paid.ID}, false},
			{"myOrders", `{ myOrders { totalCount } }`, nil, false},
			{"myCoupons", `{ myCoupons { id } }`, nil, false},
			{"claimCouponPack", servertest.ClaimPackQ, map[string]any{"id": camp}, false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				servertest.Refused(t, m, d, "", c.query, c.vars, "UNAUTHENTICATED")
				if c.adminOnly {
					servertest.Refused(t, m, d, alice.Token, c.query, c.vars, "FORBIDDEN")
				}
			})
		}
		if n := servertest.Rows(t, d, "coupon_campaigns"); n != 1 {
			t.Fatalf("%d campaigns", n)
		}
		if st := servertest.OrderStatus(t, d, pending.ID); st != "PENDING_PAYMENT" {
			t.Fatalf("pending order is %s", st)
		}
		if st := servertest.OrderStatus(t, d, paid.ID); st != "PAID" {
			t.Fatalf("paid order is %s", st)
		}
	})
}

// myOrders lists only the caller's orders, newest first, in Relay pages;
// orders lists everyone's for an ADMIN, by status; node shows an order or
// a coupon to its owner (and admins) and null to anyone else.
func TestOrderVisibility(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		s := servertest.NewShop(t, m)
		tea := s.Product(t, "紫阳富硒茶", "30.00", "", 100)
		alice, bob := m.Verified("爱丽丝"), m.Verified("鲍勃")
		aliceCoupons := servertest.ClaimPack(t, m, alice.Token, servertest.NewCampaign(t, m, time.Now().Add(time.Hour)))

		// Alice's five orders and Bob's two, interleaved; newest last.
		var mine, his []servertest.Order
		for i := 0; i < 7; i++ {
			if i == 2 || i == 5 {
				his = append(his, servertest.PlaceOrder(t, m, bob.Token, []servertest.Line{{ID: tea, Qty: 1}}, map[string]any{"shippingAddress": servertest.ValidAddress}))
				continue
			}
			mine = append(mine, servertest.PlaceOrder(t, m, alice.Token, []servertest.Line{{ID: tea, Qty: i + 1}}, map[string]any{"shippingAddress": servertest.ValidAddress}))
		}
		servertest.Pay(t, m, mine[0], "WX-V1")
		servertest.MustOrder(t, m, alice.Token, servertest.CancelOrderQ, map[string]any{"id": mine[1].ID})
		newest := make([]string, len(mine))
		for i, o := range mine {
			newest[len(mine)-1-i] = o.ID
		}

		type page struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage bool
				EndCursor   *string
			}
			Edges []struct {
				Cursor string
				Node   struct {
					ID, Status      string
					Buyer           struct{ ID, Phone string }
					ShippingAddress *servertest.Address
				}
			}
		}
		const listQ = `query($first: Int, $after: Cursor) { myOrders(first: $first, after: $after) {
			totalCount pageInfo { hasNextPage endCursor }
			edges { cursor node { id status buyer { id phone } shippingAddress { recipient phone region detail } } } } }`

		t.Run("myOrders pages newest first", func(t *testing.T) {
			var got []string
			var after any
			for pages := 0; ; pages++ {
				if pages > 3 {
					t.Fatal("too many pages")
				}
				var out struct{ MyOrders page }
				servertest.MustDo(t, m, alice.Token, listQ, map[string]any{"first": 2, "after": after}, &out)
				p := out.MyOrders
				if p.TotalCount != len(mine) {
					t.Fatalf("totalCount %d", p.TotalCount)
				}
				for _, e := range p.Edges {
					got = append(got, e.Node.ID)
					if e.Node.Buyer.ID != alice.ID || e.Node.Buyer.Phone != alice.Phone {
						t.Fatalf("buyer %+v, want %s in full", e.Node.Buyer, alice.Phone)
					}
					if a := e.Node.ShippingAddress; a == nil || a.Phone != "13812345678" {
						t.Fatalf("address %+v", a)
					}
				}
				if !p.PageInfo.HasNextPage {
					break
				}
				after = *p.PageInfo.EndCursor
			}
			if !slices.Equal(got, newest) {
				t.Fatalf("myOrders %v, want %v", got, newest)
			}
			var out struct{ MyOrders page }
			servertest.MustDo(t, m, bob.Token, listQ, map[string]any{"first": 10}, &out)
			if out.MyOrders.TotalCount != 2 || len(out.MyOrders.Edges) != 2 ||
				out.MyOrders.Edges[0].Node.ID != his[1].ID || out.MyOrders.Edges[1].Node.ID != his[0].ID {
				t.Fatalf("bob's orders %+v", out.MyOrders)
			}
			for _, first := range []int{-1, 101} {
				servertest.WantCode(t, m.Do(alice.Token, listQ, map[string]any{"first": first}), "BAD_USER_INPUT")
			}
		})

		t.Run("orders for admins", func(t *testing.T) {
			for _, c := range []struct {
				status any
				want   []string
			}{
				{nil, []string{mine[4].ID, his[1].ID, mine[3].ID, mine[2].ID, his[0].ID, mine[1].ID, mine[0].ID}},
				{"PAID", []string{mine[0].ID}},
				{"CANCELLED", []string{mine[1].ID}},
				{"PENDING_PAYMENT", []string{mine[4].ID, his[1].ID, mine[3].ID, mine[2].ID, his[0].ID}},
				{"REFUNDED", nil},
			} {
				var out struct {
					Orders struct {
						TotalCount int
						Edges      []struct {
							Node struct {
								ID, Status      string
								Buyer           struct{ Phone string }
								ShippingAddress *servertest.Address
							}
						}
					}
				}
				servertest.MustDo(t, m, m.Admin, `query($s: OrderStatus) { orders(status: $s) { totalCount edges { node { id status buyer { phone } shippingAddress { phone } } } } }`,
					map[string]any{"s": c.status}, &out)
				var got []string
				for _, e := range out.Orders.Edges {
					got = append(got, e.Node.ID)
					if c.status != nil && e.Node.Status != c.status {
						t.Fatalf("status %s in a list of %s", e.Node.Status, c.status)
					}
					if len(e.Node.Buyer.Phone) != 11 || strings.Contains(e.Node.Buyer.Phone, "*") ||
						e.Node.ShippingAddress == nil || e.Node.ShippingAddress.Phone != "13812345678" {
						t.Fatalf("admin sees %+v", e.Node)
					}
				}
				if !slices.Equal(got, c.want) || out.Orders.TotalCount != len(c.want) {
					t.Fatalf("orders(status: %v): %v (%d), want %v", c.status, got, out.Orders.TotalCount, c.want)
				}
			}
		})

		node := func(t *testing.T, token, id string) *servertest.Order {
			t.Helper()
			var out struct{ Node *servertest.Order }
			servertest.MustDo(t, m, token, servertest.OrderNodeQ, map[string]any{"id": id}, &out)
			return out.Node
		}
		t.Run("node of an order", func(t *testing.T) {
			if n := node(t, alice.Token, his[0].ID); n != nil {
				t.Fatalf("alice sees bob's order: %+v", n)
			}
			if n := node(t, "", mine[0].ID); n != nil {
				t.Fatalf("anonymous sees alice's order: %+v", n)
			}
			n := node(t, alice.Token, mine[0].ID)
			if n == nil || n.ID != mine[0].ID || n.Number != mine[0].Number || n.Status != "PAID" ||
				n.Buyer.Phone != alice.Phone || n.ShippingAddress == nil || n.ShippingAddress.Phone != "13812345678" {
				t.Fatalf("alice's own order: %+v", n)
			}
			if n := node(t, m.Admin, his[0].ID); n == nil || n.ID != his[0].ID || n.Buyer.Phone != bob.Phone {
				t.Fatalf("admin's view of bob's order: %+v", n)
			}
			var out struct{ Nodes []*struct{ ID string } }
			servertest.MustDo(t, m, alice.Token, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{his[0].ID, mine[2].ID}}, &out)
			if len(out.Nodes) != 2 || out.Nodes[0] != nil || out.Nodes[1] == nil || out.Nodes[1].ID != mine[2].ID {
				t.Fatalf("nodes: %+v", out.Nodes)
			}
		})

		t.Run("node of a coupon", func(t *testing.T) {
			id := aliceCoupons["20.00"]
			var out struct {
				Node *struct {
					ID, CouponStatus, Threshold string
				}
			}
			servertest.MustDo(t, m, bob.Token, servertest.OrderNodeQ, map[string]any{"id": id}, &out)
			if out.Node != nil {
				t.Fatalf("bob sees alice's coupon: %+v", out.Node)
			}
			servertest.MustDo(t, m, "", servertest.OrderNodeQ, map[string]any{"id": id}, &out)
			if out.Node != nil {
				t.Fatalf("anonymous sees alice's coupon: %+v", out.Node)
			}
			servertest.MustDo(t, m, alice.Token, servertest.OrderNodeQ, map[string]any{"id": id}, &out)
			if out.Node == nil || out.Node.ID != id || out.Node.CouponStatus != "AVAILABLE" || out.Node.Threshold != "20.00" {
				t.Fatalf("alice's own coupon: %+v", out.Node)
			}
		})
	})
}

package cart_test

import (
	"slices"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// quote lists the member's AVAILABLE coupons priced against the subtotal,
// picks the best (largest discount, then the earliest to expire) and
// prices in the chosen one only when it applies. Expired, reserved and
// another member's coupons are not listed; one whose validity has not
// begun is, as COUPON_UNAVAILABLE.
func TestQuoteCoupons(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		shop := servertest.NewShop(t, m)
		p := shop.Product(t, "紫阳富硒茶", "1.00", "", 10000)
		mem := m.Verified("算价")
		other := m.Verified("旁人")
		later := servertest.NewCampaign(t, m, time.Now().Add(48*time.Hour)) // the four tiers
		sooner := servertest.NewCampaign(t, m, time.Now().Add(24*time.Hour), [2]string{"40.00", "20.00"}, [2]string{"30.00", "5.00"}, [2]string{"60.00", "25.00"})
		c := servertest.ClaimPack(t, m, mem.Token, later)
		s := servertest.ClaimPack(t, m, mem.Token, sooner)
		servertest.ClaimPack(t, m, other.Token, later)
		// 满60减25 is not valid yet, 满30减5 has expired (fixtures in the rows).
		if _, err := d.Pool.Exec(d.Q(`UPDATE coupons SET valid_from = ? WHERE id = ?`), time.Now().Add(time.Hour).UTC(), s["60.00"]); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Pool.Exec(d.Q(`UPDATE coupons SET valid_until = ? WHERE id = ?`), time.Now().Add(-time.Minute).UTC(), s["30.00"]); err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			name             string
			qty              int
			in               map[string]any
			best, applied    string // coupon IDs, "" for none
			discount, total  string
			applicable       []string
			notApplicableWhy map[string]string
		}{
			{name: "below every threshold", qty: 15, discount: "0.00", total: "15.00",
				notApplicableWhy: map[string]string{c["20.00"]: "COUPON_NOT_APPLICABLE", s["60.00"]: "COUPON_UNAVAILABLE"}},
			{name: "满20减10", qty: 20, best: c["20.00"], applied: c["20.00"], discount: "10.00", total: "10.00",
				applicable: []string{c["20.00"]}},
			{name: "满40减20, the one expiring first", qty: 40, best: s["40.00"], applied: s["40.00"], discount: "20.00", total: "20.00",
				applicable: []string{s["40.00"], c["40.00"], c["20.00"]}},
			{name: "满100减50", qty: 150, best: c["100.00"], applied: c["100.00"], discount: "50.00", total: "100.00",
				applicable:       []string{c["100.00"], s["40.00"], c["40.00"], c["20.00"]},
				notApplicableWhy: map[string]string{c["200.00"]: "COUPON_NOT_APPLICABLE", s["60.00"]: "COUPON_UNAVAILABLE"}},
			{name: "满200减100", qty: 250, best: c["200.00"], applied: c["200.00"], discount: "100.00", total: "150.00",
				applicable: []string{c["200.00"], c["100.00"], s["40.00"], c["40.00"], c["20.00"]}},
			{name: "a chosen coupon that applies", qty: 250, in: map[string]any{"couponID": c["40.00"]},
				best: c["200.00"], applied: c["40.00"], discount: "20.00", total: "230.00"},
			{name: "a chosen coupon that does not apply", qty: 50, in: map[string]any{"couponID": c["200.00"]},
				best: s["40.00"], discount: "0.00", total: "50.00"},
			{name: "a chosen coupon not valid yet", qty: 100, in: map[string]any{"couponID": s["60.00"]},
				best: c["100.00"], discount: "0.00", total: "100.00"},
			{name: "a chosen expired coupon", qty: 100, in: map[string]any{"couponID": s["30.00"]},
				best: c["100.00"], discount: "0.00", total: "100.00"},
			{name: "no coupon", qty: 250, in: map[string]any{"noCoupon": true}, best: c["200.00"], discount: "0.00", total: "250.00"},
		}
		for _, tc := range tests {
			in := map[string]any{"items": items(servertest.Line{ID: p, Qty: tc.qty})}
			for k, v := range tc.in {
				in[k] = v
			}
			q := quote(t, m, mem.Token, in)
			if id(q.BestCoupon) != tc.best || id(q.AppliedCoupon) != tc.applied {
				t.Fatalf("%s: best %s applied %s, want %s and %s", tc.name, id(q.BestCoupon), id(q.AppliedCoupon), tc.best, tc.applied)
			}
			if q.Discount != tc.discount || q.Total != tc.total || !q.Orderable {
				t.Fatalf("%s: %+v", tc.name, q)
			}
			// Listed: the member's AVAILABLE coupons, the applicable first.
			var listed, applicable []string
			for _, o := range q.Coupons {
				listed = append(listed, o.Coupon.ID)
				if o.Applicable {
					applicable = append(applicable, o.Coupon.ID)
					if o.Reason != nil || o.Discount != o.Coupon.Discount {
						t.Fatalf("%s: applicable option %+v", tc.name, o)
					}
				} else if o.Reason == nil || o.Discount != "0.00" {
					t.Fatalf("%s: option %+v", tc.name, o)
				} else if want, ok := tc.notApplicableWhy[o.Coupon.ID]; ok && *o.Reason != want {
					t.Fatalf("%s: %s not applicable for %s, want %s", tc.name, o.Coupon.ID, *o.Reason, want)
				}
			}
			want := []string{c["20.00"], c["40.00"], c["100.00"], c["200.00"], s["40.00"], s["60.00"]}
			if slices.Sort(listed); !slices.Equal(listed, sorted(want)) {
				t.Fatalf("%s: listed %v, want %v", tc.name, listed, want)
			}
			if tc.applicable != nil && !slices.Equal(applicable, tc.applicable) {
				t.Fatalf("%s: applicable %v, want %v", tc.name, applicable, tc.applicable)
			}
			if len(applicable) > 0 && q.Coupons[0].Coupon.ID != tc.best {
				t.Fatalf("%s: first option %s, best %s", tc.name, q.Coupons[0].Coupon.ID, tc.best)
			}
		}

		// A reserved coupon is no longer listed.
		servertest.PlaceOrder(t, m, mem.Token, []servertest.Line{{ID: p, Qty: 250}}, map[string]any{"couponID": c["200.00"]})
		q := quote(t, m, mem.Token, map[string]any{"items": items(servertest.Line{ID: p, Qty: 250})})
		if id(q.BestCoupon) != c["100.00"] || len(q.Coupons) != 5 {
			t.Fatalf("after reserving 满200减100: best %s, %d options", id(q.BestCoupon), len(q.Coupons))
		}
	})
}

func id(c *struct{ ID string }) string {
	if c == nil {
		return ""
	}
	return c.ID
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// quote checks items as placeOrder does, flags the cart's problem lines
// (priced out, not orderable), and writes nothing at all.
func TestQuoteLinesAndNoWrites(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		shop := servertest.NewShop(t, m)
		a := shop.Product(t, "紫阳富硒茶", "30.00", "25.00", 10)
		b := shop.Product(t, "秦岭香菇", "50.00", "", 2)
		off := servertest.CreateProduct(t, m, servertest.ProductIn{Name: "下架茶", Category: "TEA", Price: "5.00", Stock: 10, SupplierID: shop.Supplier})
		mem := m.Verified("报价")
		servertest.ClaimPack(t, m, mem.Token, servertest.NewCampaign(t, m, time.Now().Add(time.Hour)))
		add(t, m, mem.Token, a, 4)
		add(t, m, mem.Token, b, 3) // more than the stock

		before := append(servertest.OrderState(t, d), cartRows(t, d)...)
		q := quote(t, m, mem.Token, nil)
		if len(q.Lines) != 2 || q.Lines[1].Problem == nil || *q.Lines[1].Problem != "INSUFFICIENT_STOCK" || q.Orderable {
			t.Fatalf("cart quote: %+v", q)
		}
		if q.Subtotal != "100.00" || q.Discount != "50.00" || q.Total != "50.00" || q.Lines[0].UnitPrice != "25.00" {
			t.Fatalf("cart quote amounts: %+v", q)
		}
		for _, bad := range []struct {
			in   map[string]any
			code string
		}{
			{map[string]any{"items": items()}, "BAD_USER_INPUT"},
			{map[string]any{"items": items(servertest.Line{ID: a, Qty: 0})}, "BAD_USER_INPUT"},
			{map[string]any{"items": items(servertest.Line{ID: a, Qty: 1}, servertest.Line{ID: a, Qty: 1})}, "BAD_USER_INPUT"},
			{map[string]any{"items": items(servertest.Line{ID: off, Qty: 1})}, "PRODUCT_UNAVAILABLE"},
		} {
			servertest.WantCode(t, m.Do(mem.Token, quoteQ, map[string]any{"i": bad.in}), bad.code)
		}
		quote(t, m, mem.Token, map[string]any{"items": items(servertest.Line{ID: a, Qty: 9}), "noCoupon": true})
		servertest.WantCode(t, m.Do("", quoteQ, nil), "UNAUTHENTICATED")
		servertest.SameRows(t, "a quote wrote", before, append(servertest.OrderState(t, d), cartRows(t, d)...))

		// An empty cart quotes as nothing to order.
		servertest.MustDo(t, m, mem.Token, clearQ, nil, nil)
		if q := quote(t, m, mem.Token, map[string]any{}); len(q.Lines) != 0 || q.Orderable || q.Total != "0.00" || q.BestCoupon != nil {
			t.Fatalf("empty cart quote: %+v", q)
		}
	})
}

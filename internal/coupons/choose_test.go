package coupons

import (
	"testing"
	"time"

	"unionmall/ent"
	entcoupon "unionmall/ent/coupon"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/pricing"
)

// Options ranks coupons best first: applicable before not, the larger
// discount, then the earlier end of validity, then the smaller ID; a
// coupon not valid yet is COUPON_UNAVAILABLE, one above the subtotal
// COUPON_NOT_APPLICABLE.
func TestOptions(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	me := gid.ID("mem_me")
	coupon := func(id string, threshold, discount money.Fen, untilHours int, from time.Duration) *ent.Coupon {
		return &ent.Coupon{ID: gid.ID(id), MemberID: me, Threshold: threshold, Discount: discount,
			Status: entcoupon.StatusAVAILABLE, ValidFrom: now.Add(from), ValidUntil: now.Add(time.Duration(untilHours) * time.Hour)}
	}
	tests := []struct {
		name     string
		subtotal money.Fen
		coupons  []*ent.Coupon
		want     []string // IDs in order
		best     money.Fen
	}{
		{"larger discount first", 25000, []*ent.Coupon{
			coupon("cpn_a", 2000, 1000, 24, -time.Hour), coupon("cpn_b", 20000, 10000, 24, -time.Hour), coupon("cpn_c", 10000, 5000, 24, -time.Hour),
		}, []string{"cpn_b", "cpn_c", "cpn_a"}, 10000},
		{"a tie: the one expiring first", 5000, []*ent.Coupon{
			coupon("cpn_a", 4000, 2000, 48, -time.Hour), coupon("cpn_b", 4000, 2000, 24, -time.Hour),
		}, []string{"cpn_b", "cpn_a"}, 2000},
		{"a full tie: the smaller ID", 5000, []*ent.Coupon{
			coupon("cpn_b", 4000, 2000, 24, -time.Hour), coupon("cpn_a", 4000, 2000, 24, -time.Hour),
		}, []string{"cpn_a", "cpn_b"}, 2000},
		{"not applicable last: threshold, not yet valid", 5000, []*ent.Coupon{
			coupon("cpn_a", 10000, 5000, 24, -time.Hour), coupon("cpn_b", 2000, 1500, 24, time.Hour), coupon("cpn_c", 2000, 1000, 24, -time.Hour),
		}, []string{"cpn_c", "cpn_a", "cpn_b"}, 1000},
		{"the threshold reached exactly", 4000, []*ent.Coupon{coupon("cpn_a", 4000, 2000, 24, -time.Hour)}, []string{"cpn_a"}, 2000},
		{"none applies", 100, []*ent.Coupon{coupon("cpn_a", 4000, 2000, 24, -time.Hour)}, []string{"cpn_a"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Options(tc.coupons, me, []pricing.Line{{Quantity: 1, UnitPrice: tc.subtotal}}, now)
			for i, o := range got {
				if string(o.Coupon.ID) != tc.want[i] {
					t.Fatalf("order %d: %s, want %v", i, o.Coupon.ID, tc.want)
				}
				if o.Applicable != (o.Reason == nil) || (!o.Applicable && o.Discount != 0) {
					t.Fatalf("option %+v", o)
				}
			}
			if best := got[0]; best.Applicable != (tc.best > 0) || best.Discount != tc.best {
				t.Fatalf("best %+v, want discount %d", best, tc.best)
			}
			for _, o := range got {
				if o.Reason != nil && *o.Reason != map[bool]string{true: "COUPON_UNAVAILABLE", false: "COUPON_NOT_APPLICABLE"}[o.Coupon.ValidFrom.After(now)] {
					t.Fatalf("%s: reason %s", o.Coupon.ID, *o.Reason)
				}
			}
		})
	}
}

// Package coupons holds the rules of coupon packs (满减券) and a coupon's
// life on an order: reserved, given back, used.
package coupons

import (
	"time"

	"unionmall/ent"
	entcoupon "unionmall/ent/coupon"
	"unionmall/ent/predicate"
	"unionmall/internal/gid"
)

// StatusAt is the coupon's status as members see it: an AVAILABLE coupon
// whose validity has passed reads EXPIRED (and cannot be used), with no
// sweep needed to mark it. WhereStatusAt is the same rule as a query.
func StatusAt(c *ent.Coupon, now time.Time) entcoupon.Status {
	if c.Status == entcoupon.StatusAVAILABLE && !now.Before(c.ValidUntil) {
		return entcoupon.StatusEXPIRED
	}
	return c.Status
}

// WhereStatusAt selects the coupons whose StatusAt at now is s.
func WhereStatusAt(s entcoupon.Status, now time.Time) predicate.Coupon {
	switch s {
	case entcoupon.StatusAVAILABLE:
		return entcoupon.And(entcoupon.StatusEQ(entcoupon.StatusAVAILABLE), entcoupon.ValidUntilGT(now))
	case entcoupon.StatusEXPIRED:
		return entcoupon.Or(entcoupon.StatusEQ(entcoupon.StatusEXPIRED),
			entcoupon.And(entcoupon.StatusEQ(entcoupon.StatusAVAILABLE), entcoupon.ValidUntilLTE(now)))
	}
	return entcoupon.StatusEQ(s)
}

// Usable reports whether the member may put the coupon on an order at now:
// their own, AVAILABLE as StatusAt reads it, and its validity begun.
// WhereUsable is the same rule as a query.
func Usable(c *ent.Coupon, member gid.ID, now time.Time) bool {
	return c.MemberID == member && StatusAt(c, now) == entcoupon.StatusAVAILABLE && !now.Before(c.ValidFrom)
}

// WhereUsable selects the coupons that Usable accepts.
func WhereUsable(member gid.ID, now time.Time) predicate.Coupon {
	return entcoupon.And(entcoupon.MemberID(member), WhereStatusAt(entcoupon.StatusAVAILABLE, now),
		entcoupon.ValidFromLTE(now))
}

// Shanghai is Asia/Shanghai: UTC+8 all year, so a fixed zone needs no tzdata.
var Shanghai = time.FixedZone("Asia/Shanghai", 8*60*60)

// Day is the calendar day of t in Asia/Shanghai, as YYYY-MM-DD: the day that
// daily pack quotas count.
func Day(t time.Time) string { return t.In(Shanghai).Format(time.DateOnly) }

// PacksClaimedOn is how many packs of the campaign were claimed on day.
func PacksClaimedOn(c *ent.CouponCampaign, day string) int {
	if c.QuotaDay != day {
		return 0
	}
	return c.QuotaDayPacks
}

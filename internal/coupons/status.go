// Package coupons holds the rules of coupon packs (满减券).
package coupons

import (
	"time"

	"unionmall/ent"
	entcoupon "unionmall/ent/coupon"
)

// StatusAt is the coupon's status as members see it: an AVAILABLE coupon
// whose validity has passed reads EXPIRED (and cannot be used), with no
// sweep needed to mark it.
func StatusAt(c *ent.Coupon, now time.Time) entcoupon.Status {
	if c.Status == entcoupon.StatusAVAILABLE && !now.Before(c.ValidUntil) {
		return entcoupon.StatusEXPIRED
	}
	return c.Status
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

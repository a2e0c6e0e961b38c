package coupons

import (
	"testing"
	"time"

	"unionmall/ent"
	entcoupon "unionmall/ent/coupon"
	"unionmall/internal/apperr"
	"unionmall/internal/gid"
	"unionmall/internal/money"
)

func TestCheckApplicable(t *testing.T) {
	now := time.Date(2026, 11, 9, 12, 0, 0, 0, time.UTC)
	me, other := gid.ID("mem_a"), gid.ID("mem_b")
	base := ent.Coupon{
		MemberID: me, Threshold: 100 * money.Yuan, Discount: 50 * money.Yuan,
		Status: entcoupon.StatusAVAILABLE, ValidFrom: now.Add(-time.Hour), ValidUntil: now.Add(time.Hour),
	}
	with := func(f func(c *ent.Coupon)) *ent.Coupon { c := base; f(&c); return &c }
	tests := []struct {
		name     string
		c        *ent.Coupon
		buyer    gid.ID
		subtotal money.Fen
		want     apperr.Code
	}{
		{"subtotal exactly at the threshold", &base, me, 100 * money.Yuan, ""},
		{"subtotal above", &base, me, 250 * money.Yuan, ""},
		{"one fen short", &base, me, 100*money.Yuan - 1, apperr.CouponNotApplicable},
		{"another member's", &base, other, 250 * money.Yuan, apperr.NotFound},
		{"reserved", with(func(c *ent.Coupon) { c.Status = entcoupon.StatusRESERVED }), me, 250 * money.Yuan, apperr.CouponUnavailable},
		{"used", with(func(c *ent.Coupon) { c.Status = entcoupon.StatusUSED }), me, 250 * money.Yuan, apperr.CouponUnavailable},
		{"past validUntil", with(func(c *ent.Coupon) { c.ValidUntil = now }), me, 250 * money.Yuan, apperr.CouponUnavailable},
		{"before validFrom", with(func(c *ent.Coupon) { c.ValidFrom = now.Add(time.Minute) }), me, 250 * money.Yuan, apperr.CouponUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckApplicable(tt.c, tt.buyer, tt.subtotal, now)
			if got := codeOrEmpty(err); got != tt.want {
				t.Fatalf("got %q (%v), want %q", got, err, tt.want)
			}
		})
	}
}

func codeOrEmpty(err error) apperr.Code {
	if err == nil {
		return ""
	}
	return apperr.CodeOf(err)
}

func TestStatusAndDay(t *testing.T) {
	now := time.Date(2026, 11, 8, 16, 30, 0, 0, time.UTC) // 00:30 on the 9th in Shanghai
	if Day(now) != "2026-11-09" {
		t.Fatalf("Day = %s", Day(now))
	}
	if Day(now.Add(-31*time.Minute)) != "2026-11-08" {
		t.Fatal("23:59 Shanghai is still the 8th")
	}
	c := &ent.Coupon{Status: entcoupon.StatusAVAILABLE, ValidUntil: now}
	if StatusAt(c, now) != entcoupon.StatusEXPIRED || StatusAt(c, now.Add(-time.Second)) != entcoupon.StatusAVAILABLE {
		t.Fatal("an AVAILABLE coupon reads EXPIRED from validUntil on")
	}
	c.Status = entcoupon.StatusUSED
	if StatusAt(c, now.Add(time.Hour)) != entcoupon.StatusUSED {
		t.Fatal("a USED coupon stays USED")
	}
	camp := &ent.CouponCampaign{QuotaDay: "2026-11-09", QuotaDayPacks: 7}
	if PacksClaimedOn(camp, "2026-11-09") != 7 || PacksClaimedOn(camp, "2026-11-10") != 0 {
		t.Fatal("packs claimed count only on their day")
	}
}

func TestCampaignPackValue(t *testing.T) {
	now := time.Date(2026, 11, 7, 0, 0, 0, 0, time.UTC)
	seed := Campaign{
		Name: "消费扶贫优惠券", Budget: 10_000_000 * money.Yuan,
		ClaimStartsAt: now, ClaimEndsAt: now.Add(5 * 24 * time.Hour),
		ValidFrom: now, ValidUntil: now.Add(7 * 24 * time.Hour),
		Tiers: []Tier{{20 * money.Yuan, 10 * money.Yuan}, {40 * money.Yuan, 20 * money.Yuan},
			{100 * money.Yuan, 50 * money.Yuan}, {200 * money.Yuan, 100 * money.Yuan}},
	}
	if v, err := seed.PackValue(); err != nil || v != 180*money.Yuan {
		t.Fatalf("seed campaign: %s %v", v, err)
	}
	zero := 0
	bad := []struct {
		name string
		f    func(c *Campaign)
	}{
		{"no tiers", func(c *Campaign) { c.Tiers = nil }},
		{"discount equals threshold", func(c *Campaign) { c.Tiers = []Tier{{10 * money.Yuan, 10 * money.Yuan}} }},
		{"zero discount", func(c *Campaign) { c.Tiers = []Tier{{10 * money.Yuan, 0}} }},
		{"duplicate thresholds", func(c *Campaign) { c.Tiers = append(c.Tiers, c.Tiers[0]) }},
		{"claim window reversed", func(c *Campaign) { c.ClaimEndsAt = c.ClaimStartsAt }},
		{"validity reversed", func(c *Campaign) { c.ValidUntil = c.ValidFrom.Add(-time.Second) }},
		{"claims after validity", func(c *Campaign) { c.ClaimEndsAt = c.ValidUntil.Add(time.Second) }},
		{"budget below a pack", func(c *Campaign) { c.Budget = 180*money.Yuan - 1 }},
		{"zero quota", func(c *Campaign) { c.DailyPackQuota = &zero }},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			c := seed
			c.Tiers = append([]Tier(nil), seed.Tiers...)
			tt.f(&c)
			if _, err := c.PackValue(); apperr.CodeOf(err) != apperr.BadUserInput {
				t.Fatalf("got %v, want BAD_USER_INPUT", err)
			}
		})
	}
	exact := seed
	exact.Budget = 180 * money.Yuan
	if _, err := exact.PackValue(); err != nil {
		t.Fatalf("a budget of exactly one pack: %v", err)
	}
}

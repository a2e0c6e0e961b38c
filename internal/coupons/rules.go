package coupons

import (
	"time"

	"unionmall/ent"
	entcoupon "unionmall/ent/coupon"
	"unionmall/internal/apperr"
	"unionmall/internal/gid"
	"unionmall/internal/money"
)

// CheckApplicable decides whether the buyer may put the coupon on an order
// of that subtotal at now: Usable (else why not: NOT_FOUND for another
// member's coupon, as for any ID the caller may not see, and
// COUPON_UNAVAILABLE otherwise), and its threshold reached (else
// COUPON_NOT_APPLICABLE).
func CheckApplicable(c *ent.Coupon, buyer gid.ID, subtotal money.Fen, now time.Time) error {
	if !Usable(c, buyer, now) {
		return whyUnusable(c, buyer, now)
	}
	if subtotal < c.Threshold {
		return apperr.New(apperr.CouponNotApplicable, "the coupon needs a subtotal of at least %s (满%s减%s)", c.Threshold, c.Threshold, c.Discount)
	}
	return nil
}

// whyUnusable is the refusal of a coupon that Usable refuses.
func whyUnusable(c *ent.Coupon, buyer gid.ID, now time.Time) error {
	switch {
	case c.MemberID != buyer:
		// Another member's coupon is not the buyer's to see.
		return apperr.New(apperr.NotFound, "no coupon has that ID")
	case StatusAt(c, now) == entcoupon.StatusEXPIRED:
		return apperr.New(apperr.CouponUnavailable, "the coupon has expired")
	case c.Status != entcoupon.StatusAVAILABLE:
		return apperr.New(apperr.CouponUnavailable, "the coupon is %s", c.Status)
	case now.Before(c.ValidFrom):
		return apperr.New(apperr.CouponUnavailable, "the coupon is valid from %s", c.ValidFrom.UTC().Format(time.RFC3339))
	}
	return apperr.New(apperr.CouponUnavailable, "the coupon cannot be used")
}

// Tier is one 满threshold减discount step.
type Tier struct {
	Threshold money.Fen
	Discount  money.Fen
}

// Campaign is what createCouponCampaign takes.
type Campaign struct {
	Name           string
	Budget         money.Fen
	ClaimStartsAt  time.Time
	ClaimEndsAt    time.Time
	ValidFrom      time.Time
	ValidUntil     time.Time
	DailyPackQuota *int
	Tiers          []Tier
}

// maxTiers bounds a pack; the seed campaign has four.
const maxTiers = 10

// PackValue checks a campaign and returns the value of one pack (the sum of
// its tiers' discounts): tiers present, each discount above zero and below
// its threshold, windows in order, a budget of at least one pack, a quota
// of at least one pack a day.
func (c Campaign) PackValue() (money.Fen, error) {
	if len(c.Tiers) == 0 || len(c.Tiers) > maxTiers {
		return 0, apperr.BadInput("tiers", "a campaign needs 1 to %d tiers", maxTiers)
	}
	var pack money.Fen
	seen := map[money.Fen]bool{}
	for _, t := range c.Tiers {
		if t.Discount <= 0 || t.Discount >= t.Threshold {
			return 0, apperr.BadInput("tiers", "each tier's discount must be above zero and below its threshold (满%s减%s)", t.Threshold, t.Discount)
		}
		if seen[t.Threshold] {
			return 0, apperr.BadInput("tiers", "two tiers have the threshold %s", t.Threshold)
		}
		seen[t.Threshold] = true
		pack += t.Discount
	}
	switch {
	case !c.ClaimStartsAt.Before(c.ClaimEndsAt):
		return 0, apperr.BadInput("claimEndsAt", "the claim window must end after it starts")
	case !c.ValidFrom.Before(c.ValidUntil):
		return 0, apperr.BadInput("validUntil", "the validity window must end after it starts")
	case c.ClaimEndsAt.After(c.ValidUntil):
		return 0, apperr.BadInput("claimEndsAt", "packs cannot be claimed after the coupons stop being valid")
	case c.Budget < pack:
		return 0, apperr.BadInput("budget", "the budget (%s) must cover at least one pack (%s)", c.Budget, pack)
	case c.DailyPackQuota != nil && *c.DailyPackQuota < 1:
		return 0, apperr.BadInput("dailyPackQuota", "the daily pack quota must be at least 1")
	}
	return pack, nil
}

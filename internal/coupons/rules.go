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
//
// Every rule is checked: the error names each field at fault.
func (c Campaign) PackValue() (money.Fen, error) {
	var p apperr.Problems
	var pack money.Fen
	tiersOK := true
	if len(c.Tiers) == 0 || len(c.Tiers) > maxTiers {
		tiersOK = p.Check(apperr.BadInput("tiers", "a campaign needs 1 to %d tiers", maxTiers))
	}
	seen := map[money.Fen]bool{}
	for _, t := range c.Tiers {
		if t.Discount <= 0 || t.Discount >= t.Threshold {
			tiersOK = p.Check(apperr.BadInput("tiers", "each tier's discount must be above zero and below its threshold (满%s减%s)", t.Threshold, t.Discount))
			break
		}
		if seen[t.Threshold] {
			tiersOK = p.Check(apperr.BadInput("tiers", "two tiers have the threshold %s", t.Threshold))
			break
		}
		seen[t.Threshold] = true
		pack += t.Discount
	}
	claimOK := c.ClaimStartsAt.Before(c.ClaimEndsAt)
	if !claimOK {
		p.Add(apperr.BadInput("claimEndsAt", "the claim window must end after it starts"))
	}
	validOK := c.ValidFrom.Before(c.ValidUntil)
	if !validOK {
		p.Add(apperr.BadInput("validUntil", "the validity window must end after it starts"))
	}
	if claimOK && validOK && c.ClaimEndsAt.After(c.ValidUntil) {
		p.Add(apperr.BadInput("claimEndsAt", "packs cannot be claimed after the coupons stop being valid"))
	}
	if tiersOK && c.Budget < pack {
		p.Add(apperr.BadInput("budget", "the budget (%s) must cover at least one pack (%s)", c.Budget, pack))
	}
	if c.DailyPackQuota != nil && *c.DailyPackQuota < 1 {
		p.Add(apperr.BadInput("dailyPackQuota", "the daily pack quota must be at least 1"))
	}
	if err := p.Err(); err != nil {
		return 0, err
	}
	return pack, nil
}

package coupons

import (
	"context"
	"fmt"
	"time"

	"entgo.io/ent/dialect/sql"

	"unionmall/ent"
	entcoupon "unionmall/ent/coupon"
	"unionmall/ent/couponcampaign"
	"unionmall/ent/coupontier"
	"unionmall/internal/apperr"
	"unionmall/internal/changes"
	"unionmall/internal/db"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/text"
)

// Service runs coupon campaigns: creating them and claiming packs.
type Service struct {
	db  *db.DB
	now func() time.Time
	// changes is told after a claim commits (platform totals moved).
	changes *changes.Registry
}

// New returns the coupon service; reg (may be nil) is told of each
// committed claim.
func New(d *db.DB, reg *changes.Registry) *Service {
	return &Service{db: d, now: time.Now, changes: reg}
}

// CreateCampaign checks and stores a campaign with its tiers.
func (s *Service) CreateCampaign(ctx context.Context, c Campaign) (*ent.CouponCampaign, error) {
	var p apperr.Problems
	name, err := text.Clean("name", c.Name, 100)
	p.Add(err)
	c.Name = name
	pack, err := c.PackValue()
	p.Add(err)
	if err := p.Err(); err != nil {
		return nil, err
	}
	var out *ent.CouponCampaign
	err = s.db.Tx(ctx, func(tx *ent.Tx) error {
		camp, err := tx.CouponCampaign.Create().
			SetName(c.Name).
			SetBudget(c.Budget).
			SetPackValue(pack).
			SetClaimStartsAt(c.ClaimStartsAt.UTC()).
			SetClaimEndsAt(c.ClaimEndsAt.UTC()).
			SetValidFrom(c.ValidFrom.UTC()).
			SetValidUntil(c.ValidUntil.UTC()).
			SetNillableDailyPackQuota(c.DailyPackQuota).
			Save(ctx)
		if err != nil {
			return err
		}
		tiers := make([]*ent.CouponTierCreate, len(c.Tiers))
		for i, t := range c.Tiers {
			tiers[i] = tx.CouponTier.Create().
				SetCampaignID(camp.ID).SetThreshold(t.Threshold).SetDiscount(t.Discount).SetPosition(i)
		}
		if _, err := tx.CouponTier.CreateBulk(tiers...).Save(ctx); err != nil {
			return err
		}
		out, err = tx.CouponCampaign.Query().Where(couponcampaign.ID(camp.ID)).
			WithTiers(func(q *ent.CouponTierQuery) { q.Order(ent.Asc(coupontier.FieldPosition)) }).
			Only(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create coupon campaign: %w", err)
	}
	return out.Unwrap(), nil
}

var (
	errAlreadyClaimed = apperr.New(apperr.AlreadyClaimed, "you have claimed this campaign's pack already")
	errExhausted      = apperr.New(apperr.QuotaExhausted, "no packs are left to claim (the budget or today's quota is used up)")
)

// Claim issues one pack (a coupon of every tier) of the campaign to the
// member. Limits hold in the database under any concurrency, across
// instances: the unique (campaign, member, tier) index allows one pack per
// member, and the campaign's counters move only by a conditional UPDATE
// that refuses to pass the budget or the day's quota. Both happen in one
// transaction, so a refusal leaves nothing behind. The claim's time (its
// window, its quota day, the coupons' claimed_at) is read once the
// campaign's row is locked (db.Now), so a claim that waited across
// midnight in Asia/Shanghai counts on the day it is made.
func (s *Service) Claim(ctx context.Context, memberID, campaignID gid.ID) ([]*ent.Coupon, error) {
	camp, err := s.db.Client.CouponCampaign.Query().
		Where(couponcampaign.ID(campaignID)).
		WithTiers(func(q *ent.CouponTierQuery) { q.Order(ent.Asc(coupontier.FieldPosition)) }).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no coupon campaign has that ID")
	}
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	// Refusals that cost no transaction; the transaction decides again.
	if err := claimWindow(camp, s.now().UTC()); err != nil {
		return nil, err
	}
	claimed, err := s.db.Client.Coupon.Query().
		Where(entcoupon.CampaignID(campaignID), entcoupon.MemberID(memberID)).Exist(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	if claimed {
		return nil, errAlreadyClaimed
	}
	var out []*ent.Coupon
	err = s.db.Tx(ctx, func(tx *ent.Tx) error {
		// The campaign row is locked from here to commit: kept short.
		q := tx.CouponCampaign.Query().Where(couponcampaign.ID(camp.ID))
		if s.db.Postgres() {
			q = q.ForUpdate()
		}
		if _, err := q.Only(ctx); err != nil {
			return err
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		if err := claimWindow(camp, now); err != nil {
			return err
		}
		creates := make([]*ent.CouponCreate, len(camp.Edges.Tiers))
		for i, t := range camp.Edges.Tiers {
			creates[i] = tx.Coupon.Create().
				SetCampaignID(camp.ID).SetTierID(t.ID).SetMemberID(memberID).
				SetThreshold(t.Threshold).SetDiscount(t.Discount).
				SetValidFrom(camp.ValidFrom).SetValidUntil(camp.ValidUntil).
				SetClaimedAt(now)
		}
		coupons, err := tx.Coupon.CreateBulk(creates...).Save(ctx)
		if ent.IsConstraintError(err) {
			return errAlreadyClaimed
		}
		if err != nil {
			return err
		}
		day := Day(now)
		n, err := tx.CouponCampaign.Update().
			Where(couponcampaign.ID(camp.ID), withinLimits(camp.PackValue, day)).
			AddIssuedValue(camp.PackValue).
			AddPacksClaimed(1).
			Modify(func(u *sql.UpdateBuilder) {
				// Today's count goes on; a new day's starts at one.
				u.Set(couponcampaign.FieldQuotaDayPacks, sql.ExprFunc(func(b *sql.Builder) {
					b.WriteString("CASE WHEN " + couponcampaign.FieldQuotaDay + " = ").Arg(day).
						WriteString(" THEN " + couponcampaign.FieldQuotaDayPacks + " + 1 ELSE 1 END")
				}))
				u.Set(couponcampaign.FieldQuotaDay, day)
			}).
			Save(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return errExhausted
		}
		out = coupons
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	for i := range out {
		out[i] = out[i].Unwrap()
	}
	s.changes.Announce(changes.Stats)
	return out, nil
}

// claimWindow refuses a claim outside the campaign's claim window.
func claimWindow(camp *ent.CouponCampaign, now time.Time) error {
	switch {
	case now.Before(camp.ClaimStartsAt):
		return apperr.New(apperr.NotStarted, "packs can be claimed from %s", camp.ClaimStartsAt.UTC().Format(time.RFC3339))
	case !now.Before(camp.ClaimEndsAt):
		return apperr.New(apperr.Ended, "the claim window closed at %s", camp.ClaimEndsAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// withinLimits holds when one more pack passes neither the budget nor the
// day's quota.
func withinLimits(pack money.Fen, day string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString(s.C(couponcampaign.FieldIssuedValue)).WriteString(" + ").Arg(pack).
				WriteString(" <= ").WriteString(s.C(couponcampaign.FieldBudget))
		}))
		s.Where(sql.Or(
			sql.IsNull(s.C(couponcampaign.FieldDailyPackQuota)),
			sql.NEQ(s.C(couponcampaign.FieldQuotaDay), day),
			sql.ColumnsLT(s.C(couponcampaign.FieldQuotaDayPacks), s.C(couponcampaign.FieldDailyPackQuota)),
		))
	}
}

// Mine lists the member's coupons, optionally of one status as members see
// it (EXPIRED being an AVAILABLE coupon past its validity).
func (s *Service) Mine(ctx context.Context, memberID gid.ID, status *entcoupon.Status) ([]*ent.Coupon, error) {
	now := s.now().UTC()
	q := s.db.Client.Coupon.Query().Where(entcoupon.MemberID(memberID))
	if status != nil {
		q = q.Where(WhereStatusAt(*status, now))
	}
	return q.Order(ent.Desc(entcoupon.FieldClaimedAt), ent.Asc(entcoupon.FieldThreshold)).All(ctx)
}

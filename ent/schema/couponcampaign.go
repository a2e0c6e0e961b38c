package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"unionmall/internal/gid"
)

// CouponCampaign releases coupon packs (one coupon of each tier) within a
// budget and an optional daily quota. Its counters are only ever changed by
// conditional updates of this row, so the limits hold across instances.
type CouponCampaign struct{ ent.Schema }

func (CouponCampaign) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.CouponCampaign)} }

func (CouponCampaign) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty(),
		field.Int64("budget").GoType(fenType).Annotations(moneyGQL).
			Comment("Total face value that the campaign may ever issue (e.g. 10000000.00)."),
		field.Int64("issued_value").GoType(fenType).Annotations(moneyGQL).Default(0).
			Comment("Face value issued so far; never exceeds budget."),
		// The sum of the tiers' discounts, fixed at creation.
		field.Int64("pack_value").GoType(fenType).Annotations(moneyGQL).Immutable().
			Comment("Face value of one pack: the sum of the tiers' discounts."),
		field.Time("claim_starts_at"),
		field.Time("claim_ends_at"),
		field.Time("valid_from"),
		field.Time("valid_until"),
		field.Int("daily_pack_quota").Optional().Nillable().Positive().
			Comment("Packs that may be claimed per calendar day (Asia/Shanghai); null for no daily cap."),
		// The Asia/Shanghai day (YYYY-MM-DD) that quota_day_packs counts.
		field.String("quota_day").Default("").Annotations(hidden()),
		field.Int("quota_day_packs").Default(0).NonNegative().Annotations(hidden()),
		field.Int("packs_claimed").Default(0).NonNegative(),
		field.Time("created_at").Immutable().Default(timeNow),
	}
}

func (CouponCampaign) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("tiers", CouponTier.Type).Annotations(hidden()),
		edge.To("coupons", Coupon.Type).Annotations(hidden()),
	}
}

func (CouponCampaign) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipWhereInput),
		entsql.Checks(map[string]string{
			"coupon_campaign_within_budget": "issued_value >= 0 AND issued_value <= budget",
			"coupon_campaign_budget":        "budget > 0",
			"coupon_campaign_windows":       "claim_starts_at < claim_ends_at AND valid_from < valid_until",
		}),
	}
}

package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"unionmall/internal/gid"
)

// CouponTier is one 满X减Y step of a campaign. It is served as a plain
// GraphQL type (graph/coupon.graphqls), not as a Node.
type CouponTier struct{ ent.Schema }

func (CouponTier) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.CouponTier)} }

func (CouponTier) Fields() []ent.Field {
	return []ent.Field{
		field.String("campaign_id").GoType(idType).Immutable(),
		field.Int64("threshold").GoType(fenType).Annotations(moneyGQL).Immutable(),
		field.Int64("discount").GoType(fenType).Annotations(moneyGQL).Immutable(),
		field.Int("position").Immutable(),
	}
}

func (CouponTier) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("campaign", CouponCampaign.Type).Ref("tiers").Field("campaign_id").
			Unique().Required().Immutable(),
		edge.To("coupons", Coupon.Type),
	}
}

func (CouponTier) Indexes() []ent.Index {
	return []ent.Index{index.Fields("campaign_id", "position").Unique()}
}

func (CouponTier) Annotations() []schema.Annotation {
	return []schema.Annotation{
		hidden(),
		entsql.Checks(map[string]string{
			"coupon_tier_discount": "discount > 0 AND discount < threshold",
		}),
	}
}

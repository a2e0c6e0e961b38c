package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"unionmall/internal/gid"
)

// Coupon is one member's coupon of one tier. The unique (campaign, member,
// tier) index is what makes "one pack per member" hold under any concurrency.
type Coupon struct{ ent.Schema }

func (Coupon) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.Coupon)} }

func (Coupon) Fields() []ent.Field {
	return []ent.Field{
		field.String("campaign_id").GoType(idType).Immutable(),
		field.String("tier_id").GoType(idType).Immutable().Annotations(hidden()),
		field.String("member_id").GoType(idType).Immutable().Annotations(hidden()),
		field.Int64("threshold").GoType(fenType).Annotations(moneyGQL).Immutable(),
		field.Int64("discount").GoType(fenType).Annotations(moneyGQL).Immutable(),
		// Stored AVAILABLE, RESERVED or USED; EXPIRED is read from the clock
		// (an AVAILABLE coupon past valid_until), so no sweep is needed.
		// Served by a resolver (graph/coupon.graphqls): entgql's field
		// selection would not load valid_until for it.
		field.Enum("status").Values("AVAILABLE", "RESERVED", "USED", "EXPIRED").Default("AVAILABLE").
			Annotations(entgql.Skip(entgql.SkipType, entgql.SkipWhereInput, entgql.SkipOrderField)).
			Annotations(enumDocs{"RESERVED": "Held by an order that awaits payment."}),
		field.Time("valid_from").Immutable(),
		field.Time("valid_until").Immutable(),
		field.Time("claimed_at").Immutable().Default(timeNow),
		// The order that holds (RESERVED) or used (USED) the coupon.
		field.String("order_id").GoType(idType).Optional().Nillable(),
	}
}

func (Coupon) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("campaign", CouponCampaign.Type).Ref("coupons").Field("campaign_id").
			Unique().Required().Immutable(),
		edge.From("tier", CouponTier.Type).Ref("coupons").Field("tier_id").
			Unique().Required().Immutable().Annotations(hidden()),
		edge.From("member", Member.Type).Ref("coupons").Field("member_id").
			Unique().Required().Immutable().Annotations(hidden()),
		edge.From("order", Order.Type).Ref("held_coupons").Field("order_id").Unique(),
		edge.To("orders", Order.Type).Annotations(hidden()),
	}
}

func (Coupon) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("campaign_id", "member_id", "tier_id").Unique(),
		index.Fields("member_id", "status"),
		index.Fields("order_id"),
	}
}

func (Coupon) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField)}
}

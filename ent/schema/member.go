package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"unionmall/internal/gid"
	"unionmall/internal/role"
)

// Member is a union member's account. Personal fields are served through
// resolvers that mask them (graph/account.graphqls), never straight from here.
type Member struct{ ent.Schema }

func (Member) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.Member)} }

func (Member) Fields() []ent.Field {
	return []ent.Field{
		field.String("phone").NotEmpty().Unique().Annotations(hidden()),
		field.String("password_hash").Sensitive(),
		field.String("display_name").NotEmpty(),
		field.JSON("roles", role.Set{}).Annotations(hidden()),
		field.Enum("verification_status").
			Values("UNVERIFIED", "PENDING", "VERIFIED", "REJECTED").
			Default("UNVERIFIED").
			Annotations(entgql.Type("VerificationStatus")),
		field.String("real_name").Optional().Nillable().Annotations(hidden()),
		// An HMAC-SHA256 of the identity number under SECRET_KEY: one verified
		// account per person without keeping the number.
		field.String("id_number_hmac").Optional().Nillable().Unique().Sensitive(),
		field.String("id_number_masked").Optional().Nillable().Annotations(hidden()),
		field.Time("verification_submitted_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipType, entgql.SkipWhereInput), entgql.OrderField("VERIFICATION_SUBMITTED_AT")),
		field.Time("verification_reviewed_at").Optional().Nillable().Annotations(hidden()),
		field.String("verification_note").Optional().Nillable().Annotations(hidden()),
		field.String("organization_id").GoType(idType).Optional().Nillable().Annotations(entgql.Skip(entgql.SkipType)),
		field.String("purchasing_unit_id").GoType(idType).Optional().Nillable().Annotations(entgql.Skip(entgql.SkipType)),
		field.Time("created_at").Immutable().Default(timeNow),
	}
}

func (Member) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", UnionOrganization.Type).Ref("members").
			Field("organization_id").Unique(),
		edge.From("purchasing_unit", PurchasingUnit.Type).Ref("purchasers").
			Field("purchasing_unit_id").Unique(),
		edge.To("tokens", AuthToken.Type).Annotations(hidden()),
		edge.To("orders", Order.Type).Annotations(hidden()),
		edge.To("coupons", Coupon.Type).Annotations(hidden()),
		edge.To("flash_sale_holdings", FlashSaleHolding.Type).Annotations(hidden()),
		edge.To("procurement_records", ProcurementRecord.Type).Annotations(hidden()),
		edge.To("cart_lines", CartLine.Type).Annotations(hidden()),
	}
}

func (Member) Indexes() []ent.Index {
	return []ent.Index{
		// pendingVerifications: oldest submission first.
		index.Fields("verification_status", "verification_submitted_at"),
	}
}

func (Member) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput),
	}
}

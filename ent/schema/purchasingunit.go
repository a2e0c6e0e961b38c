package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"unionmall/internal/gid"
)

// PurchasingUnit is an employer or union office that buys for its staff (采购单位).
type PurchasingUnit struct{ ent.Schema }

func (PurchasingUnit) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.PurchasingUnit)} }

func (PurchasingUnit) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Unique(),
		field.String("organization_id").GoType(idType).Optional().Nillable().Annotations(entgql.Skip(entgql.SkipType)),
		field.Time("registered_at").Immutable().Default(timeNow),
	}
}

func (PurchasingUnit) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", UnionOrganization.Type).Ref("purchasing_units").
			Field("organization_id").Unique(),
		edge.To("purchasers", Member.Type).Annotations(hidden()),
		edge.To("orders", Order.Type).Annotations(hidden()),
		edge.To("procurement_records", ProcurementRecord.Type).Annotations(hidden()),
	}
}

func (PurchasingUnit) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput)}
}

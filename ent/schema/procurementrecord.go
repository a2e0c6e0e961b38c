package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"unionmall/internal/gid"
)

// ProcurementRecord is a purchasing unit's purchase from a supplier made
// outside the mall (OFFLINE) and recorded for the platform's totals.
type ProcurementRecord struct{ ent.Schema }

func (ProcurementRecord) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.ProcurementRecord)} }

func (ProcurementRecord) Fields() []ent.Field {
	return []ent.Field{
		field.String("purchasing_unit_id").GoType(idType).Immutable().Annotations(entgql.Skip(entgql.SkipType)),
		field.String("supplier_id").GoType(idType).Immutable().Annotations(entgql.Skip(entgql.SkipType)),
		field.Int64("amount").GoType(fenType).Annotations(moneyGQL).Immutable(),
		field.Enum("channel").Values("ONLINE", "OFFLINE").Immutable().
			Annotations(entgql.Type("ProcurementChannel")),
		field.Time("occurred_on").Immutable(),
		field.String("note").Optional().Nillable().Immutable(),
		field.String("recorded_by_id").GoType(idType).Optional().Nillable().Immutable().Annotations(hidden()),
		field.Time("created_at").Immutable().Default(timeNow),
	}
}

func (ProcurementRecord) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("purchasing_unit", PurchasingUnit.Type).Ref("procurement_records").
			Field("purchasing_unit_id").Unique().Required().Immutable(),
		edge.From("supplier", Supplier.Type).Ref("procurement_records").
			Field("supplier_id").Unique().Required().Immutable(),
		edge.From("recorded_by", Member.Type).Ref("procurement_records").
			Field("recorded_by_id").Unique().Immutable().Annotations(hidden()),
	}
}

func (ProcurementRecord) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("purchasing_unit_id"),
		index.Fields("supplier_id"),
		index.Fields("channel"),
	}
}

func (ProcurementRecord) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField),
		entsql.Checks(map[string]string{"procurement_amount_positive": "amount > 0"}),
	}
}

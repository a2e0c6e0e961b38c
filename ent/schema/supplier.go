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

// Supplier is a poverty-alleviation enterprise of a county.
type Supplier struct{ ent.Schema }

func (Supplier) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.Supplier)} }

func (Supplier) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Unique(),
		field.String("county_id").GoType(idType).Annotations(entgql.Skip(entgql.SkipType)),
		// 带贫人数: poor people whose steady income the supplier supports.
		field.Int("beneficiaries").NonNegative().
			Comment("Poor people whose steady income this supplier's products support (带贫人数)."),
		field.Time("joined_at").Immutable().Default(timeNow),
	}
}

func (Supplier) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("county", County.Type).Ref("suppliers").Field("county_id").
			Unique().Required(),
		edge.To("products", Product.Type).Annotations(hidden()),
		edge.To("procurement_records", ProcurementRecord.Type).Annotations(hidden()),
	}
}

func (Supplier) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField().Description("Public. Suppliers, by id ascending unless orderBy says otherwise."),
		entsql.Checks(map[string]string{"supplier_beneficiaries_nonnegative": "beneficiaries >= 0"}),
	}
}

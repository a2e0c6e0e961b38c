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

// County is a county or district whose suppliers sell through the mall.
type County struct{ ent.Schema }

func (County) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.County)} }

func (County) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty(),
		field.String("city").NotEmpty(),
		field.Enum("poverty_status").Values("LIFTED", "NON_POOR_WITH_TASKS").
			Annotations(enumDocs{"LIFTED": "已脱贫县(区)", "NON_POOR_WITH_TASKS": "有脱贫任务的非贫困县(区)"}),
	}
}

func (County) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("suppliers", Supplier.Type).Annotations(hidden()),
		edge.To("products", Product.Type).Annotations(hidden()),
	}
}

func (County) Indexes() []ent.Index {
	return []ent.Index{index.Fields("city", "name").Unique()}
}

func (County) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField().Description("Public. Every county that suppliers come from, by id.")}
}

package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"unionmall/internal/gid"
)

// UnionOrganization is a trade union: the provincial federation, a city or
// industry union, a directly managed unit's union or a grassroots one.
type UnionOrganization struct{ ent.Schema }

func (UnionOrganization) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.UnionOrganization)} }

func (UnionOrganization) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Unique(),
		field.Enum("kind").Values("PROVINCIAL", "CITY", "INDUSTRY", "DIRECT", "GRASSROOTS").
			Annotations(enumDocs{"PROVINCIAL": "省总工会", "CITY": "市(区)总工会", "INDUSTRY": "省级产业工会", "DIRECT": "直管单位工会", "GRASSROOTS": "基层工会"}),
		field.String("parent_id").GoType(idType).Optional().Nillable().Annotations(entgql.Skip(entgql.SkipType)),
	}
}

func (UnionOrganization) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("children", UnionOrganization.Type).Annotations(hidden()).
			From("parent").Field("parent_id").Unique(),
		edge.To("members", Member.Type).Annotations(hidden()),
		edge.To("purchasing_units", PurchasingUnit.Type).Annotations(hidden()),
	}
}

func (UnionOrganization) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput)}
}

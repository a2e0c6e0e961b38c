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

// LiveEvent is a livestream during which flash sales run.
type LiveEvent struct{ ent.Schema }

func (LiveEvent) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.LiveEvent)} }

func (LiveEvent) Fields() []ent.Field {
	return []ent.Field{
		field.String("title").NotEmpty(),
		field.Time("starts_at").Annotations(entgql.OrderField("STARTS_AT")),
		field.Time("ends_at"),
		field.String("stream_url").Optional().Nillable(),
		field.Time("created_at").Immutable().Default(timeNow),
	}
}

func (LiveEvent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("flash_sales", FlashSale.Type).Annotations(entgql.Skip(entgql.SkipWhereInput)),
	}
}

func (LiveEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField().Description("Public. Live events (直播), by id ascending unless orderBy says otherwise."),
		entsql.Checks(map[string]string{"live_event_window": "starts_at < ends_at"}),
	}
}

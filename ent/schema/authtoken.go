package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"unionmall/internal/gid"
)

// AuthToken is a bearer token, kept only as the SHA-256 of its value.
type AuthToken struct{ ent.Schema }

func (AuthToken) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.AuthToken)} }

func (AuthToken) Fields() []ent.Field {
	return []ent.Field{
		field.Bytes("token_hash").Unique().Immutable().Sensitive(),
		field.String("member_id").GoType(idType).Immutable(),
		field.Time("created_at").Immutable().Default(timeNow),
		// Rewritten when a request finds it older than min(10 minutes,
		// TOKEN_TTL/4) (auth.NewSessions), not on every request; a token
		// unused for TOKEN_TTL dies.
		field.Time("last_used_at").Default(timeNow),
	}
}

func (AuthToken) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("member", Member.Type).Ref("tokens").Field("member_id").
			Unique().Required().Immutable(),
	}
}

func (AuthToken) Indexes() []ent.Index {
	return []ent.Index{index.Fields("member_id"), index.Fields("last_used_at")}
}

func (AuthToken) Annotations() []schema.Annotation {
	return []schema.Annotation{hidden()}
}

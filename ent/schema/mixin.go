package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"

	"unionmall/internal/gid"
	"unionmall/internal/money"
)

// idMixin gives a type its prefixed ULID primary key.
type idMixin struct {
	mixin.Schema
	prefix string
}

func withID(prefix string) idMixin { return idMixin{prefix: prefix} }

func (m idMixin) Fields() []ent.Field {
	p := m.prefix
	return []ent.Field{
		field.String("id").
			GoType(gid.ID("")).
			DefaultFunc(func() gid.ID { return gid.New(p) }).
			Immutable(),
	}
}

// Column types shared by the schema: IDs of other types, and money (int64
// fen served as the GraphQL Money scalar).
var (
	idType   = gid.ID("")
	fenType  = money.Fen(0)
	moneyGQL = entgql.Type("Money")
)

// hidden keeps a field or edge out of the GraphQL schema entirely.
func hidden() entgql.Annotation { return entgql.Skip(entgql.SkipAll) }

package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"unionmall/internal/gid"
)

// CartLine is one product in a member's cart (internal/cart). The unique
// (member, product) index makes a line per product hold under concurrency:
// adding is an upsert that increments the quantity. Hidden from entgql:
// the GraphQL CartLine is internal/cart's, priced and flagged.
type CartLine struct{ ent.Schema }

func (CartLine) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.CartLine)} }

func (CartLine) Fields() []ent.Field {
	return []ent.Field{
		field.String("member_id").GoType(idType).Immutable(),
		field.String("product_id").GoType(idType).Immutable(),
		field.Int("quantity").Range(1, 999),
		field.Time("created_at").Immutable().Default(timeNow),
		field.Time("updated_at").Default(timeNow).UpdateDefault(timeNow),
	}
}

func (CartLine) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("member", Member.Type).Ref("cart_lines").Field("member_id").
			Unique().Required().Immutable(),
		edge.From("product", Product.Type).Ref("cart_lines").Field("product_id").
			Unique().Required().Immutable(),
	}
}

func (CartLine) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("member_id", "product_id").Unique(),
		index.Fields("product_id"),
	}
}

func (CartLine) Annotations() []schema.Annotation {
	return []schema.Annotation{
		hidden(),
		// The bound of pricing.CheckQuantity, held by the database too: two
		// concurrent adds cannot pass it.
		entsql.Checks(map[string]string{"cart_line_quantity": "quantity BETWEEN 1 AND 999"}),
	}
}

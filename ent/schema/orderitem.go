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

// OrderItem is one line of an order. Served as a plain GraphQL type.
type OrderItem struct{ ent.Schema }

func (OrderItem) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.OrderItem)} }

func (OrderItem) Fields() []ent.Field {
	return []ent.Field{
		field.String("order_id").GoType(idType).Immutable(),
		field.String("product_id").GoType(idType).Immutable(),
		field.Int("quantity").Range(1, 999).Immutable(),
		field.Int64("unit_price").GoType(fenType).Annotations(moneyGQL).Immutable(),
		field.Int64("line_total").GoType(fenType).Annotations(moneyGQL).Immutable(),
	}
}

func (OrderItem) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("order", Order.Type).Ref("items").Field("order_id").
			Unique().Required().Immutable(),
		edge.From("product", Product.Type).Ref("order_items").Field("product_id").
			Unique().Required().Immutable(),
	}
}

func (OrderItem) Indexes() []ent.Index {
	return []ent.Index{index.Fields("order_id"), index.Fields("product_id")}
}

func (OrderItem) Annotations() []schema.Annotation {
	return []schema.Annotation{
		hidden(),
		entsql.Checks(map[string]string{
			"order_item_amounts": "quantity BETWEEN 1 AND 999 AND line_total = unit_price * quantity",
		}),
	}
}

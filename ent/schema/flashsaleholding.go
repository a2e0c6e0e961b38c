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

// FlashSaleHolding counts the units one member holds in live orders of one
// sale. It only moves by increments (a buy adds its units, an order that
// stops being live takes them off), and the row carries the sale's
// per-member limit so that a CHECK constraint refuses any write that would
// pass it: the limit holds in the database whatever the Go code decided,
// across transactions and instances.
type FlashSaleHolding struct{ ent.Schema }

func (FlashSaleHolding) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.FlashSaleHolding)} }

func (FlashSaleHolding) Fields() []ent.Field {
	return []ent.Field{
		field.String("flash_sale_id").GoType(idType).Immutable(),
		field.String("member_id").GoType(idType).Immutable(),
		field.Int("units").NonNegative(),
		// A copy of the sale's per_member_limit (immutable there too), for
		// the CHECK below: a constraint cannot look into another table.
		field.Int("per_member_limit").Positive().Immutable(),
	}
}

func (FlashSaleHolding) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("flash_sale", FlashSale.Type).Ref("holdings").Field("flash_sale_id").
			Unique().Required().Immutable(),
		edge.From("member", Member.Type).Ref("flash_sale_holdings").Field("member_id").
			Unique().Required().Immutable(),
	}
}

func (FlashSaleHolding) Indexes() []ent.Index {
	return []ent.Index{index.Fields("flash_sale_id", "member_id").Unique()}
}

func (FlashSaleHolding) Annotations() []schema.Annotation {
	return []schema.Annotation{
		hidden(),
		entsql.Checks(map[string]string{
			"flash_sale_holding_units": "units >= 0",
			"flash_sale_holding_limit": "units <= per_member_limit",
		}),
	}
}

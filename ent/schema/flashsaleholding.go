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
// sale. Buying raises it with a conditional upsert bounded by the sale's
// per-member limit, so the limit holds across transactions and instances.
type FlashSaleHolding struct{ ent.Schema }

func (FlashSaleHolding) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.FlashSaleHolding)} }

func (FlashSaleHolding) Fields() []ent.Field {
	return []ent.Field{
		field.String("flash_sale_id").GoType(idType).Immutable(),
		field.String("member_id").GoType(idType).Immutable(),
		field.Int("units").NonNegative(),
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
		entsql.Checks(map[string]string{"flash_sale_holding_units": "units >= 0"}),
	}
}

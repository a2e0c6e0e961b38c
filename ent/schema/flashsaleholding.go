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
// sale. Its units move by increments only: a flash-sale batch adds a
// buyer's units with an upsert (INSERT … ON CONFLICT (flash_sale_id,
// member_id) DO UPDATE SET units = units + excluded.units; no WHERE, so
// the upsert itself is not conditional on the limit), and an order that
// stops being live takes its units off (flashsales.ReturnUnits, an UPDATE
// conditional on units >= its units). What bounds the units is the row:
// it carries a copy of the sale's per-member limit, and the CHECK
// units <= per_member_limit refuses any write that would pass it, so the
// limit holds in the database whatever the Go code decided, across
// transactions and instances (and two batches' increments cannot overwrite
// each other). The batch's write adds only where the sum stays within
// the limit, under the sale's row lock (internal/flashsales/batch.go);
// the CHECK is the guard behind it. The
// one writer that sets units outright is the chaos_stale_holdings fault
// build, which exists to prove the chaos audit finds the old bug.
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

package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"unionmall/internal/gid"
)

// FlashSale (秒杀) sells a quantity, taken from the product's stock when the
// sale is created, at a flash price. The quantity changes only when units
// that shipped are refunded (they are gone, so they leave the sale too:
// flashsales.ReturnUnits). sold moves by increments only, each conditional
// (a batch's on sold + n <= quantity and the sale running, a return's on
// sold >= n); the CHECK sold <= quantity refuses any write that would pass
// the quantity whatever the Go code decided.
type FlashSale struct{ ent.Schema }

func (FlashSale) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.FlashSale)} }

func (FlashSale) Fields() []ent.Field {
	return []ent.Field{
		field.String("product_id").GoType(idType).Immutable().Annotations(entgql.Skip(entgql.SkipType)),
		field.String("live_event_id").GoType(idType).Optional().Nillable().Annotations(entgql.Skip(entgql.SkipType)),
		field.Int64("price").GoType(fenType).Annotations(moneyGQL).Immutable().
			Comment("The flash price (e.g. 1.00)."),
		field.Int("quantity").Positive().Immutable(),
		// Units held by live orders of the sale.
		field.Int("sold").Default(0).NonNegative().
			Comment("Units held by live orders: awaiting payment or paid. Cancelled and expired orders give theirs back."),
		field.Int("per_member_limit").Positive().Immutable(),
		field.Time("starts_at").Immutable().Annotations(entgql.OrderField("STARTS_AT")),
		field.Time("ends_at"),
		// When the unsold units went back to the product; set once.
		field.Time("settled_at").Optional().Nillable().Annotations(hidden()),
		field.Time("created_at").Immutable().Default(timeNow),
	}
}

func (FlashSale) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("product", Product.Type).Ref("flash_sales").Field("product_id").
			Unique().Required().Immutable(),
		edge.From("live_event", LiveEvent.Type).Ref("flash_sales").Field("live_event_id").
			Unique(),
		edge.To("orders", Order.Type).Annotations(hidden()),
		edge.To("holdings", FlashSaleHolding.Type).Annotations(hidden()),
	}
}

func (FlashSale) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("live_event_id"),
		index.Fields("product_id"),
		// The settlement worker looks for ended, unsettled sales.
		index.Fields("settled_at", "ends_at"),
		// flashSales (秒杀日历): by start time, then id.
		index.Fields("starts_at"),
	}
}

func (FlashSale) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput),
		entsql.Checks(map[string]string{
			"flash_sale_sold_range": "sold >= 0 AND sold <= quantity",
			"flash_sale_price":      "price > 0",
			"flash_sale_window":     "starts_at < ends_at",
		}),
	}
}

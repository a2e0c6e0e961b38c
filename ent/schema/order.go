package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"unionmall/internal/address"
	"unionmall/internal/gid"
)

// Order is a member's (or a purchasing unit's) purchase, from the catalogue
// or from one flash sale.
type Order struct{ ent.Schema }

func (Order) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.Order)} }

func (Order) Fields() []ent.Field {
	return []ent.Field{
		field.String("number").NotEmpty().Unique().Immutable().
			Comment("Human-readable, unique order number."),
		field.String("buyer_id").GoType(idType).Immutable().Annotations(entgql.Skip(entgql.SkipType)),
		field.String("purchasing_unit_id").GoType(idType).Optional().Nillable().Immutable().Annotations(entgql.Skip(entgql.SkipType)),
		field.Int64("subtotal").GoType(fenType).Annotations(moneyGQL).Immutable(),
		field.Int64("discount").GoType(fenType).Annotations(moneyGQL).Immutable(),
		field.Int64("total").GoType(fenType).Annotations(moneyGQL).Immutable(),
		field.String("coupon_id").GoType(idType).Optional().Nillable().Immutable().Annotations(entgql.Skip(entgql.SkipType)),
		field.String("flash_sale_id").GoType(idType).Optional().Nillable().Immutable().Annotations(entgql.Skip(entgql.SkipType)),
		field.Enum("status").
			Values("PENDING_PAYMENT", "PAID", "SHIPPED", "COMPLETED", "CANCELLED", "EXPIRED", "REFUNDED").
			Default("PENDING_PAYMENT").
			Annotations(enumDocs{"EXPIRED": "Not paid before payBy: its stock and coupon were given back."}),
		field.Time("created_at").Immutable().Default(timeNow).Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("pay_by").Optional().Nillable().
			Comment("Deadline for payment while PENDING_PAYMENT."),
		field.Time("paid_at").Optional().Nillable(),
		field.String("payment_reference").Optional().Nillable().Annotations(hidden()),
		// Unique per buyer: a retried placeOrder or buyFlashSale returns the
		// first order (internal/idempotency).
		field.String("idempotency_key").Optional().Nillable().Immutable().Annotations(hidden()),
		field.JSON("shipping_address", &address.Shipping{}).Optional().Annotations(hidden()),
		field.String("tracking_number").Optional().Nillable(),
		field.Time("shipped_at").Optional().Nillable(),
		field.Time("completed_at").Optional().Nillable(),
		// When the order was cancelled, expired or refunded.
		field.Time("closed_at").Optional().Nillable(),
		field.String("refund_reason").Optional().Nillable(),
	}
}

func (Order) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("buyer", Member.Type).Ref("orders").Field("buyer_id").
			Unique().Required().Immutable(),
		edge.From("purchasing_unit", PurchasingUnit.Type).Ref("orders").Field("purchasing_unit_id").
			Unique().Immutable(),
		edge.From("coupon", Coupon.Type).Ref("orders").Field("coupon_id").
			Unique().Immutable(),
		edge.From("flash_sale", FlashSale.Type).Ref("orders").Field("flash_sale_id").
			Unique().Immutable(),
		edge.To("items", OrderItem.Type).Annotations(hidden()),
		edge.To("held_coupons", Coupon.Type).Annotations(hidden()),
		edge.To("payment", Payment.Type).Unique().Annotations(hidden()),
	}
}

func (Order) Indexes() []ent.Index {
	return []ent.Index{
		// Partial: most orders have no key and (until paid) no payment
		// reference, and a flash sale inserts thousands of orders a second.
		index.Fields("buyer_id", "idempotency_key").Unique().
			Annotations(entsql.IndexWhere("idempotency_key IS NOT NULL")),
		index.Fields("payment_reference").Unique().
			Annotations(entsql.IndexWhere("payment_reference IS NOT NULL")),
		index.Fields("buyer_id", "created_at"),
		// The expiry worker: pending orders by deadline.
		index.Fields("status", "pay_by"),
		index.Fields("flash_sale_id", "status"),
		index.Fields("created_at"),
		// orders(status:) for ADMIN, newest first.
		index.Fields("status", "created_at"),
	}
}

func (Order) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput),
		entsql.Checks(map[string]string{
			"order_amounts": "discount >= 0 AND discount <= subtotal AND total = subtotal - discount",
		}),
	}
}

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

// Payment is an order's payment through a provider (WeChat Pay, or the
// sandbox cashier): at most one per order (the unique order_id), whose
// out_trade_no is the order's number. Its status moves only by updates
// conditional on the status it leaves (internal/payments), in the same
// transaction as the order's own change, so a provider's payment is
// applied once however many notifications and instances meet it; the
// CHECKs below keep a paid payment tied to its provider transaction and a
// refund to its out_refund_no.
type Payment struct{ ent.Schema }

func (Payment) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.Payment)} }

func (Payment) Fields() []ent.Field {
	return []ent.Field{
		field.String("order_id").GoType(idType).Unique().Immutable(),
		field.Enum("channel").Values("WECHAT_JSAPI", "WECHAT_APP", "SANDBOX").Immutable(),
		field.Enum("status").Values("PENDING", "PAID", "CLOSED", "REFUNDING", "REFUNDED").Default("PENDING"),
		field.Int64("amount").GoType(fenType).Immutable(),
		field.String("out_trade_no").NotEmpty().Unique().Immutable(),
		// JSAPI: the payer's openid; a resumed payment must name the same.
		field.String("payer_openid").Optional().Nillable().Immutable(),
		field.String("prepay_id").Optional().Nillable(),
		field.String("provider_transaction_id").Optional().Nillable(),
		field.Time("paid_at").Optional().Nillable(),
		field.Time("closed_at").Optional().Nillable(),
		// Set when a refund is asked: derived from the order's number, so
		// asking again never refunds twice.
		field.String("out_refund_no").Optional().Nillable(),
		field.String("refund_id").Optional().Nillable(),
		field.String("refund_reason").Optional().Nillable(),
		// The payment came when the order was no longer payable and is
		// refunded for that reason; the order stays closed.
		field.Bool("late").Default(false),
		field.Time("refund_requested_at").Optional().Nillable(),
		field.Time("refunded_at").Optional().Nillable(),
		// The provider call (query, close, refund) that the payments worker
		// owes this payment is not due before this time: a lease taken by
		// a conditional update, so one instance makes it, and the backoff
		// after a failure.
		field.Time("next_check_at").Optional().Nillable(),
		field.Int("attempts").Default(0).NonNegative(),
		field.Time("created_at").Immutable().Default(timeNow),
		field.Time("updated_at").Default(timeNow).UpdateDefault(timeNow),
	}
}

func (Payment) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("order", Order.Type).Ref("payment").Field("order_id").
			Unique().Required().Immutable(),
	}
}

func (Payment) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("provider_transaction_id").Unique().
			Annotations(entsql.IndexWhere("provider_transaction_id IS NOT NULL")),
		index.Fields("out_refund_no").Unique().
			Annotations(entsql.IndexWhere("out_refund_no IS NOT NULL")),
		// The payments worker: payments owing a provider call, by when.
		index.Fields("status", "next_check_at"),
		index.Fields("paid_at"),
	}
}

func (Payment) Annotations() []schema.Annotation {
	return []schema.Annotation{
		hidden(),
		entsql.Checks(map[string]string{
			"payment_amount":      "amount > 0",
			"payment_transaction": "status NOT IN ('PAID', 'REFUNDING', 'REFUNDED') OR (provider_transaction_id IS NOT NULL AND paid_at IS NOT NULL)",
			"payment_refund":      "status NOT IN ('REFUNDING', 'REFUNDED') OR out_refund_no IS NOT NULL",
			"payment_refunded":    "status <> 'REFUNDED' OR refunded_at IS NOT NULL",
		}),
	}
}

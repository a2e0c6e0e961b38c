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

// Product is a poverty-alleviation product on (or off) sale.
type Product struct{ ent.Schema }

func (Product) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.Product)} }

func (Product) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty(),
		field.Text("description").Default(""),
		field.Enum("category").Values("TEA", "MOUNTAIN_GOODS", "SNACKS", "GRAIN_OIL", "SEASONAL", "OTHER").
			Annotations(enumDocs{"TEA": "陕茶茗品", "MOUNTAIN_GOODS": "山野干货", "SNACKS": "休闲零食", "GRAIN_OIL": "米面粮油", "SEASONAL": "应季保暖", "OTHER": "其他"}),
		field.Int64("price").GoType(fenType).Annotations(moneyGQL).Annotations(entgql.OrderField("PRICE")).
			Comment("List price."),
		field.Int64("sale_price").GoType(fenType).Annotations(moneyGQL).Annotations(entgql.OrderField("SALE_PRICE")).
			Comment("Price after the product's own discount (7.5折 and the like); equals price when there is none."),
		// Units free to sell. Orders and flash sales take from it with
		// conditional updates; the check constraint is the last guard.
		field.Int("stock").NonNegative(),
		// Units ever received: the initial stock plus every restock or
		// correction (stockDelta), moved by the same UPDATE that moves
		// stock. Orders and flash sales move units between stock and their
		// own rows without changing it, so stock + units held elsewhere =
		// stock_received is an invariant an audit can check from the rows.
		field.Int("stock_received").Annotations(hidden()),
		field.Int("sold_count").Default(0).NonNegative().Annotations(entgql.OrderField("SOLD_COUNT")).
			Comment("Units in paid orders."),
		field.Bool("on_sale").Default(true),
		field.String("supplier_id").GoType(idType).Annotations(entgql.Skip(entgql.SkipType)),
		field.String("county_id").GoType(idType).Annotations(entgql.Skip(entgql.SkipType)),
		field.Time("created_at").Immutable().Default(timeNow).Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("updated_at").Default(timeNow).UpdateDefault(timeNow).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

func (Product) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("supplier", Supplier.Type).Ref("products").Field("supplier_id").
			Unique().Required(),
		edge.From("county", County.Type).Ref("products").Field("county_id").
			Unique().Required(),
		edge.To("flash_sales", FlashSale.Type).Annotations(hidden()),
		edge.To("order_items", OrderItem.Type).Annotations(hidden()),
		edge.To("cart_lines", CartLine.Type).Annotations(hidden()),
		// Served by graph/media.graphqls (ordered, batched per request).
		edge.To("images", ProductImage.Type).Annotations(hidden()),
	}
}

func (Product) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("on_sale"),
		index.Fields("category"),
		index.Fields("price"),
		index.Fields("sold_count"),
		index.Fields("created_at"),
		index.Fields("supplier_id"),
		index.Fields("county_id"),
	}
}

func (Product) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField().Description("Public. Products, by id ascending unless orderBy says otherwise; only products on sale, except for ADMIN."),
		entsql.Checks(map[string]string{
			"product_stock_nonnegative":      "stock >= 0",
			"product_stock_received":         "stock <= stock_received",
			"product_sold_count_nonnegative": "sold_count >= 0",
			"product_price_positive":         "price > 0",
			"product_sale_price_range":       "sale_price > 0 AND sale_price <= price",
		}),
	}
}

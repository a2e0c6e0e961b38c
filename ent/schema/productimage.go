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

// ProductImage is one image of a product: the blob's content hash (the
// blob itself is in the media store, internal/media) and what was checked
// of it. Served as a plain GraphQL type (graph/media.graphqls), not as a
// Node, so entgql leaves it out.
type ProductImage struct{ ent.Schema }

func (ProductImage) Mixin() []ent.Mixin { return []ent.Mixin{withID(gid.ProductImage)} }

func (ProductImage) Fields() []ent.Field {
	return []ent.Field{
		field.String("product_id").GoType(idType).Immutable(),
		// Hex SHA-256 of the stored (stripped) bytes: the blob's name.
		field.String("hash").MinLen(64).MaxLen(64).Immutable(),
		field.String("content_type").Immutable(),
		field.Int("width").Positive().Immutable(),
		field.Int("height").Positive().Immutable(),
		field.Int("bytes").Positive().Immutable(),
		// 0-based; 0 is the cover. Unique per product (the index below).
		field.Int("position").NonNegative(),
		field.Time("created_at").Immutable().Default(timeNow),
	}
}

func (ProductImage) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("product", Product.Type).Ref("images").Field("product_id").
			Unique().Required().Immutable(),
	}
}

func (ProductImage) Indexes() []ent.Index {
	return []ent.Index{index.Fields("product_id", "position").Unique()}
}

func (ProductImage) Annotations() []schema.Annotation {
	return []schema.Annotation{
		hidden(),
		entsql.Checks(map[string]string{
			"product_image_size":         "width > 0 AND height > 0 AND bytes > 0",
			"product_image_position":     "position >= 0",
			"product_image_content_type": "content_type IN ('image/jpeg', 'image/png', 'image/webp')",
			"product_image_hash":         "length(hash) = 64",
		}),
	}
}

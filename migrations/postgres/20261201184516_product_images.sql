-- +goose Up
-- create "product_images" table
CREATE TABLE "product_images" ("id" character varying NOT NULL, "hash" character varying NOT NULL, "content_type" character varying NOT NULL, "width" bigint NOT NULL, "height" bigint NOT NULL, "bytes" bigint NOT NULL, "position" bigint NOT NULL, "created_at" timestamptz NOT NULL, "product_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "product_images_products_images" FOREIGN KEY ("product_id") REFERENCES "products" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "product_image_content_type" CHECK ((content_type)::text = ANY ((ARRAY['image/jpeg'::character varying, 'image/png'::character varying, 'image/webp'::character varying])::text[])), CONSTRAINT "product_image_hash" CHECK (length((hash)::text) = 64), CONSTRAINT "product_image_position" CHECK ("position" >= 0), CONSTRAINT "product_image_size" CHECK ((width > 0) AND (height > 0) AND (bytes > 0)));
-- create index "productimage_product_id_position" to table: "product_images"
CREATE UNIQUE INDEX "productimage_product_id_position" ON "product_images" ("product_id", "position");

-- +goose Down
-- reverse: create index "productimage_product_id_position" to table: "product_images"
DROP INDEX "productimage_product_id_position";
-- reverse: create "product_images" table
DROP TABLE "product_images";

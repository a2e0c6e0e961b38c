-- +goose Up
-- create "product_images" table
CREATE TABLE `product_images` (`id` text NOT NULL, `hash` text NOT NULL, `content_type` text NOT NULL, `width` integer NOT NULL, `height` integer NOT NULL, `bytes` integer NOT NULL, `position` integer NOT NULL, `created_at` datetime NOT NULL, `product_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `product_images_products_images` FOREIGN KEY (`product_id`) REFERENCES `products` (`id`) ON DELETE NO ACTION, CONSTRAINT `product_image_content_type` CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')), CONSTRAINT `product_image_hash` CHECK (length(hash) = 64), CONSTRAINT `product_image_position` CHECK (position >= 0), CONSTRAINT `product_image_size` CHECK (width > 0 AND height > 0 AND bytes > 0));
-- create index "productimage_product_id_position" to table: "product_images"
CREATE UNIQUE INDEX `productimage_product_id_position` ON `product_images` (`product_id`, `position`);

-- +goose Down
-- reverse: create index "productimage_product_id_position" to table: "product_images"
DROP INDEX `productimage_product_id_position`;
-- reverse: create "product_images" table
DROP TABLE `product_images`;

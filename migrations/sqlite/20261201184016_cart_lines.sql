-- +goose Up
-- create "cart_lines" table
CREATE TABLE `cart_lines` (`id` text NOT NULL, `quantity` integer NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `member_id` text NOT NULL, `product_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `cart_lines_members_cart_lines` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION, CONSTRAINT `cart_lines_products_cart_lines` FOREIGN KEY (`product_id`) REFERENCES `products` (`id`) ON DELETE NO ACTION, CONSTRAINT `cart_line_quantity` CHECK (quantity BETWEEN 1 AND 999));
-- create index "cartline_member_id_product_id" to table: "cart_lines"
CREATE UNIQUE INDEX `cartline_member_id_product_id` ON `cart_lines` (`member_id`, `product_id`);
-- create index "cartline_product_id" to table: "cart_lines"
CREATE INDEX `cartline_product_id` ON `cart_lines` (`product_id`);

-- +goose Down
-- reverse: create index "cartline_product_id" to table: "cart_lines"
DROP INDEX `cartline_product_id`;
-- reverse: create index "cartline_member_id_product_id" to table: "cart_lines"
DROP INDEX `cartline_member_id_product_id`;
-- reverse: create "cart_lines" table
DROP TABLE `cart_lines`;

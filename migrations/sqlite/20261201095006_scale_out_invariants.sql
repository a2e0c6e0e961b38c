-- +goose NO TRANSACTION
-- (hand-edited: SQLite ignores PRAGMA foreign_keys inside a transaction, and
-- the tables rebuilt below are referenced by rows of other tables, so the
-- migration runs outside goose's transaction, turns the checks off, and
-- makes its own transaction)
-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
BEGIN;
-- create "new_flash_sale_holdings" table
CREATE TABLE `new_flash_sale_holdings` (`id` text NOT NULL, `units` integer NOT NULL, `per_member_limit` integer NOT NULL, `flash_sale_id` text NOT NULL, `member_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `flash_sale_holdings_flash_sales_holdings` FOREIGN KEY (`flash_sale_id`) REFERENCES `flash_sales` (`id`) ON DELETE NO ACTION, CONSTRAINT `flash_sale_holdings_members_flash_sale_holdings` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION, CONSTRAINT `flash_sale_holding_limit` CHECK (units <= per_member_limit), CONSTRAINT `flash_sale_holding_units` CHECK (units >= 0));
-- copy rows from old table "flash_sale_holdings" to new temporary table "new_flash_sale_holdings"
-- (hand-edited: holdings are recounted from the live orders, and a member
-- who already holds more than the limit keeps that as their row's limit)
INSERT INTO `new_flash_sale_holdings` (`id`, `units`, `per_member_limit`, `flash_sale_id`, `member_id`)
SELECT x.id, x.live, max(x.lim, x.live), x.flash_sale_id, x.member_id FROM (
	SELECT h.id, h.flash_sale_id, h.member_id, s.per_member_limit AS lim,
		(SELECT COALESCE(SUM(i.quantity), 0) FROM orders o JOIN order_items i ON i.order_id = o.id
		 WHERE o.flash_sale_id = h.flash_sale_id AND o.buyer_id = h.member_id AND o.status IN ('PENDING_PAYMENT', 'PAID', 'SHIPPED', 'COMPLETED')) AS live
	FROM `flash_sale_holdings` h JOIN `flash_sales` s ON s.id = h.flash_sale_id) x;
-- drop "flash_sale_holdings" table after copying rows
DROP TABLE `flash_sale_holdings`;
-- rename temporary table "new_flash_sale_holdings" to "flash_sale_holdings"
ALTER TABLE `new_flash_sale_holdings` RENAME TO `flash_sale_holdings`;
-- create index "flashsaleholding_flash_sale_id_member_id" to table: "flash_sale_holdings"
CREATE UNIQUE INDEX `flashsaleholding_flash_sale_id_member_id` ON `flash_sale_holdings` (`flash_sale_id`, `member_id`);
-- create "new_products" table
CREATE TABLE `new_products` (`id` text NOT NULL, `name` text NOT NULL, `description` text NOT NULL DEFAULT (''), `category` text NOT NULL, `price` integer NOT NULL, `sale_price` integer NOT NULL, `stock` integer NOT NULL, `stock_received` integer NOT NULL, `sold_count` integer NOT NULL DEFAULT (0), `on_sale` bool NOT NULL DEFAULT (true), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `county_id` text NOT NULL, `supplier_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `products_counties_products` FOREIGN KEY (`county_id`) REFERENCES `counties` (`id`) ON DELETE NO ACTION, CONSTRAINT `products_suppliers_products` FOREIGN KEY (`supplier_id`) REFERENCES `suppliers` (`id`) ON DELETE NO ACTION, CONSTRAINT `product_price_positive` CHECK (price > 0), CONSTRAINT `product_sale_price_range` CHECK (sale_price > 0 AND sale_price <= price), CONSTRAINT `product_sold_count_nonnegative` CHECK (sold_count >= 0), CONSTRAINT `product_stock_nonnegative` CHECK (stock >= 0), CONSTRAINT `product_stock_received` CHECK (stock <= stock_received));
-- copy rows from old table "products" to new temporary table "new_products"
-- (hand-edited: stock_received is backfilled as what the rows hold now)
INSERT INTO `new_products` (`id`, `name`, `description`, `category`, `price`, `sale_price`, `stock`, `stock_received`, `sold_count`, `on_sale`, `created_at`, `updated_at`, `county_id`, `supplier_id`)
SELECT p.id, p.name, p.description, p.category, p.price, p.sale_price, p.stock,
	p.stock
	+ (SELECT COALESCE(SUM(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id
	   WHERE i.product_id = p.id AND (o.status IN ('PENDING_PAYMENT', 'PAID', 'SHIPPED', 'COMPLETED') OR (o.status = 'REFUNDED' AND o.shipped_at IS NOT NULL)))
	+ (SELECT COALESCE(SUM(s.quantity - s.sold), 0) FROM flash_sales s WHERE s.product_id = p.id AND s.settled_at IS NULL),
	p.sold_count, p.on_sale, p.created_at, p.updated_at, p.county_id, p.supplier_id FROM `products` p;
-- drop "products" table after copying rows
DROP TABLE `products`;
-- rename temporary table "new_products" to "products"
ALTER TABLE `new_products` RENAME TO `products`;
-- create index "product_on_sale" to table: "products"
CREATE INDEX `product_on_sale` ON `products` (`on_sale`);
-- create index "product_category" to table: "products"
CREATE INDEX `product_category` ON `products` (`category`);
-- create index "product_price" to table: "products"
CREATE INDEX `product_price` ON `products` (`price`);
-- create index "product_sold_count" to table: "products"
CREATE INDEX `product_sold_count` ON `products` (`sold_count`);
-- create index "product_created_at" to table: "products"
CREATE INDEX `product_created_at` ON `products` (`created_at`);
-- create index "product_supplier_id" to table: "products"
CREATE INDEX `product_supplier_id` ON `products` (`supplier_id`);
-- create index "product_county_id" to table: "products"
CREATE INDEX `product_county_id` ON `products` (`county_id`);
-- create "throttles" table
CREATE TABLE `throttles` (`id` text NOT NULL, `tat` integer NOT NULL, PRIMARY KEY (`id`));
-- create index "throttle_tat" to table: "throttles"
CREATE INDEX `throttle_tat` ON `throttles` (`tat`);
COMMIT;
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- +goose Down
-- reverse: create index "throttle_tat" to table: "throttles"
DROP INDEX `throttle_tat`;
-- reverse: create "throttles" table
DROP TABLE `throttles`;
-- reverse: create index "product_county_id" to table: "products"
DROP INDEX `product_county_id`;
-- reverse: create index "product_supplier_id" to table: "products"
DROP INDEX `product_supplier_id`;
-- reverse: create index "product_created_at" to table: "products"
DROP INDEX `product_created_at`;
-- reverse: create index "product_sold_count" to table: "products"
DROP INDEX `product_sold_count`;
-- reverse: create index "product_price" to table: "products"
DROP INDEX `product_price`;
-- reverse: create index "product_category" to table: "products"
DROP INDEX `product_category`;
-- reverse: create index "product_on_sale" to table: "products"
DROP INDEX `product_on_sale`;
-- reverse: create "new_products" table
DROP TABLE `new_products`;
-- reverse: create index "flashsaleholding_flash_sale_id_member_id" to table: "flash_sale_holdings"
DROP INDEX `flashsaleholding_flash_sale_id_member_id`;
-- reverse: create "new_flash_sale_holdings" table
DROP TABLE `new_flash_sale_holdings`;

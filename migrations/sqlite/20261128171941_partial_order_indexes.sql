-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_orders" table
CREATE TABLE `new_orders` (`id` text NOT NULL, `number` text NOT NULL, `subtotal` integer NOT NULL, `discount` integer NOT NULL, `total` integer NOT NULL, `status` text NOT NULL DEFAULT ('PENDING_PAYMENT'), `created_at` datetime NOT NULL, `pay_by` datetime NULL, `paid_at` datetime NULL, `payment_reference` text NULL, `idempotency_key` text NULL, `shipping_address` json NULL, `tracking_number` text NULL, `shipped_at` datetime NULL, `completed_at` datetime NULL, `closed_at` datetime NULL, `refund_reason` text NULL, `coupon_id` text NULL, `flash_sale_id` text NULL, `buyer_id` text NOT NULL, `purchasing_unit_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `orders_coupons_orders` FOREIGN KEY (`coupon_id`) REFERENCES `coupons` (`id`) ON DELETE SET NULL, CONSTRAINT `orders_flash_sales_orders` FOREIGN KEY (`flash_sale_id`) REFERENCES `flash_sales` (`id`) ON DELETE SET NULL, CONSTRAINT `orders_members_orders` FOREIGN KEY (`buyer_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION, CONSTRAINT `orders_purchasing_units_orders` FOREIGN KEY (`purchasing_unit_id`) REFERENCES `purchasing_units` (`id`) ON DELETE SET NULL, CONSTRAINT `order_amounts` CHECK (discount >= 0 AND discount <= subtotal AND total = subtotal - discount));
-- copy rows from old table "orders" to new temporary table "new_orders"
INSERT INTO `new_orders` (`id`, `number`, `subtotal`, `discount`, `total`, `status`, `created_at`, `pay_by`, `paid_at`, `payment_reference`, `idempotency_key`, `shipping_address`, `tracking_number`, `shipped_at`, `completed_at`, `closed_at`, `refund_reason`, `coupon_id`, `flash_sale_id`, `buyer_id`, `purchasing_unit_id`) SELECT `id`, `number`, `subtotal`, `discount`, `total`, `status`, `created_at`, `pay_by`, `paid_at`, `payment_reference`, `idempotency_key`, `shipping_address`, `tracking_number`, `shipped_at`, `completed_at`, `closed_at`, `refund_reason`, `coupon_id`, `flash_sale_id`, `buyer_id`, `purchasing_unit_id` FROM `orders`;
-- drop "orders" table after copying rows
DROP TABLE `orders`;
-- rename temporary table "new_orders" to "orders"
ALTER TABLE `new_orders` RENAME TO `orders`;
-- create index "orders_number_key" to table: "orders"
CREATE UNIQUE INDEX `orders_number_key` ON `orders` (`number`);
-- create index "order_buyer_id_idempotency_key" to table: "orders"
CREATE UNIQUE INDEX `order_buyer_id_idempotency_key` ON `orders` (`buyer_id`, `idempotency_key`) WHERE idempotency_key IS NOT NULL;
-- create index "order_payment_reference" to table: "orders"
CREATE UNIQUE INDEX `order_payment_reference` ON `orders` (`payment_reference`) WHERE payment_reference IS NOT NULL;
-- create index "order_buyer_id_created_at" to table: "orders"
CREATE INDEX `order_buyer_id_created_at` ON `orders` (`buyer_id`, `created_at`);
-- create index "order_status_pay_by" to table: "orders"
CREATE INDEX `order_status_pay_by` ON `orders` (`status`, `pay_by`);
-- create index "order_flash_sale_id_status" to table: "orders"
CREATE INDEX `order_flash_sale_id_status` ON `orders` (`flash_sale_id`, `status`);
-- create index "order_created_at" to table: "orders"
CREATE INDEX `order_created_at` ON `orders` (`created_at`);
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- +goose Down
-- reverse: create index "order_created_at" to table: "orders"
DROP INDEX `order_created_at`;
-- reverse: create index "order_flash_sale_id_status" to table: "orders"
DROP INDEX `order_flash_sale_id_status`;
-- reverse: create index "order_status_pay_by" to table: "orders"
DROP INDEX `order_status_pay_by`;
-- reverse: create index "order_buyer_id_created_at" to table: "orders"
DROP INDEX `order_buyer_id_created_at`;
-- reverse: create index "order_payment_reference" to table: "orders"
DROP INDEX `order_payment_reference`;
-- reverse: create index "order_buyer_id_idempotency_key" to table: "orders"
DROP INDEX `order_buyer_id_idempotency_key`;
-- reverse: create index "orders_number_key" to table: "orders"
DROP INDEX `orders_number_key`;
-- reverse: create "new_orders" table
DROP TABLE `new_orders`;

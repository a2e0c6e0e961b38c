-- +goose Up
-- create index "flashsale_starts_at" to table: "flash_sales"
CREATE INDEX `flashsale_starts_at` ON `flash_sales` (`starts_at`);
-- create index "order_status_created_at" to table: "orders"
CREATE INDEX `order_status_created_at` ON `orders` (`status`, `created_at`);

-- +goose Down
-- reverse: create index "order_status_created_at" to table: "orders"
DROP INDEX `order_status_created_at`;
-- reverse: create index "flashsale_starts_at" to table: "flash_sales"
DROP INDEX `flashsale_starts_at`;

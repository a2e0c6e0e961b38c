-- +goose Up
-- create "payments" table
CREATE TABLE `payments` (`id` text NOT NULL, `channel` text NOT NULL, `status` text NOT NULL DEFAULT ('PENDING'), `amount` integer NOT NULL, `out_trade_no` text NOT NULL, `payer_openid` text NULL, `prepay_id` text NULL, `provider_transaction_id` text NULL, `paid_at` datetime NULL, `closed_at` datetime NULL, `out_refund_no` text NULL, `refund_id` text NULL, `refund_reason` text NULL, `late` bool NOT NULL DEFAULT (false), `refund_requested_at` datetime NULL, `refunded_at` datetime NULL, `next_check_at` datetime NULL, `attempts` integer NOT NULL DEFAULT (0), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `order_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `payments_orders_payment` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`) ON DELETE NO ACTION, CONSTRAINT `payment_amount` CHECK (amount > 0), CONSTRAINT `payment_refund` CHECK (status NOT IN ('REFUNDING', 'REFUNDED') OR out_refund_no IS NOT NULL), CONSTRAINT `payment_refunded` CHECK (status <> 'REFUNDED' OR refunded_at IS NOT NULL), CONSTRAINT `payment_transaction` CHECK (status NOT IN ('PAID', 'REFUNDING', 'REFUNDED') OR (provider_transaction_id IS NOT NULL AND paid_at IS NOT NULL)));
-- create index "payments_out_trade_no_key" to table: "payments"
CREATE UNIQUE INDEX `payments_out_trade_no_key` ON `payments` (`out_trade_no`);
-- create index "payments_order_id_key" to table: "payments"
CREATE UNIQUE INDEX `payments_order_id_key` ON `payments` (`order_id`);
-- create index "payment_provider_transaction_id" to table: "payments"
CREATE UNIQUE INDEX `payment_provider_transaction_id` ON `payments` (`provider_transaction_id`) WHERE provider_transaction_id IS NOT NULL;
-- create index "payment_out_refund_no" to table: "payments"
CREATE UNIQUE INDEX `payment_out_refund_no` ON `payments` (`out_refund_no`) WHERE out_refund_no IS NOT NULL;
-- create index "payment_status_next_check_at" to table: "payments"
CREATE INDEX `payment_status_next_check_at` ON `payments` (`status`, `next_check_at`);
-- create index "payment_paid_at" to table: "payments"
CREATE INDEX `payment_paid_at` ON `payments` (`paid_at`);

-- +goose Down
-- reverse: create index "payment_paid_at" to table: "payments"
DROP INDEX `payment_paid_at`;
-- reverse: create index "payment_status_next_check_at" to table: "payments"
DROP INDEX `payment_status_next_check_at`;
-- reverse: create index "payment_out_refund_no" to table: "payments"
DROP INDEX `payment_out_refund_no`;
-- reverse: create index "payment_provider_transaction_id" to table: "payments"
DROP INDEX `payment_provider_transaction_id`;
-- reverse: create index "payments_order_id_key" to table: "payments"
DROP INDEX `payments_order_id_key`;
-- reverse: create index "payments_out_trade_no_key" to table: "payments"
DROP INDEX `payments_out_trade_no_key`;
-- reverse: create "payments" table
DROP TABLE `payments`;

-- +goose Up
-- create "payments" table
CREATE TABLE "payments" ("id" character varying NOT NULL, "channel" character varying NOT NULL, "status" character varying NOT NULL DEFAULT 'PENDING', "amount" bigint NOT NULL, "out_trade_no" character varying NOT NULL, "payer_openid" character varying NULL, "prepay_id" character varying NULL, "provider_transaction_id" character varying NULL, "paid_at" timestamptz NULL, "closed_at" timestamptz NULL, "out_refund_no" character varying NULL, "refund_id" character varying NULL, "refund_reason" character varying NULL, "late" boolean NOT NULL DEFAULT false, "refund_requested_at" timestamptz NULL, "refunded_at" timestamptz NULL, "next_check_at" timestamptz NULL, "attempts" bigint NOT NULL DEFAULT 0, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "order_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "payments_orders_payment" FOREIGN KEY ("order_id") REFERENCES "orders" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "payment_amount" CHECK (amount > 0), CONSTRAINT "payment_refund" CHECK (((status)::text <> ALL ((ARRAY['REFUNDING'::character varying, 'REFUNDED'::character varying])::text[])) OR (out_refund_no IS NOT NULL)), CONSTRAINT "payment_refunded" CHECK (((status)::text <> 'REFUNDED'::text) OR (refunded_at IS NOT NULL)), CONSTRAINT "payment_transaction" CHECK (((status)::text <> ALL ((ARRAY['PAID'::character varying, 'REFUNDING'::character varying, 'REFUNDED'::character varying])::text[])) OR ((provider_transaction_id IS NOT NULL) AND (paid_at IS NOT NULL))));
-- create index "payment_out_refund_no" to table: "payments"
CREATE UNIQUE INDEX "payment_out_refund_no" ON "payments" ("out_refund_no") WHERE (out_refund_no IS NOT NULL);
-- create index "payment_paid_at" to table: "payments"
CREATE INDEX "payment_paid_at" ON "payments" ("paid_at");
-- create index "payment_provider_transaction_id" to table: "payments"
CREATE UNIQUE INDEX "payment_provider_transaction_id" ON "payments" ("provider_transaction_id") WHERE (provider_transaction_id IS NOT NULL);
-- create index "payment_status_next_check_at" to table: "payments"
CREATE INDEX "payment_status_next_check_at" ON "payments" ("status", "next_check_at");
-- create index "payments_order_id_key" to table: "payments"
CREATE UNIQUE INDEX "payments_order_id_key" ON "payments" ("order_id");
-- create index "payments_out_trade_no_key" to table: "payments"
CREATE UNIQUE INDEX "payments_out_trade_no_key" ON "payments" ("out_trade_no");

-- +goose Down
-- reverse: create index "payments_out_trade_no_key" to table: "payments"
DROP INDEX "payments_out_trade_no_key";
-- reverse: create index "payments_order_id_key" to table: "payments"
DROP INDEX "payments_order_id_key";
-- reverse: create index "payment_status_next_check_at" to table: "payments"
DROP INDEX "payment_status_next_check_at";
-- reverse: create index "payment_provider_transaction_id" to table: "payments"
DROP INDEX "payment_provider_transaction_id";
-- reverse: create index "payment_paid_at" to table: "payments"
DROP INDEX "payment_paid_at";
-- reverse: create index "payment_out_refund_no" to table: "payments"
DROP INDEX "payment_out_refund_no";
-- reverse: create "payments" table
DROP TABLE "payments";

-- +goose Up
-- drop index "order_buyer_id_idempotency_key" from table: "orders"
DROP INDEX "order_buyer_id_idempotency_key";
-- drop index "orders_payment_reference_key" from table: "orders"
DROP INDEX "orders_payment_reference_key";
-- create index "order_buyer_id_idempotency_key" to table: "orders"
CREATE UNIQUE INDEX "order_buyer_id_idempotency_key" ON "orders" ("buyer_id", "idempotency_key") WHERE (idempotency_key IS NOT NULL);
-- create index "order_payment_reference" to table: "orders"
CREATE UNIQUE INDEX "order_payment_reference" ON "orders" ("payment_reference") WHERE (payment_reference IS NOT NULL);

-- +goose Down
-- reverse: create index "order_payment_reference" to table: "orders"
DROP INDEX "order_payment_reference";
-- reverse: create index "order_buyer_id_idempotency_key" to table: "orders"
DROP INDEX "order_buyer_id_idempotency_key";
-- reverse: drop index "orders_payment_reference_key" from table: "orders"
CREATE UNIQUE INDEX "orders_payment_reference_key" ON "orders" ("payment_reference");
-- reverse: drop index "order_buyer_id_idempotency_key" from table: "orders"
CREATE UNIQUE INDEX "order_buyer_id_idempotency_key" ON "orders" ("buyer_id", "idempotency_key");

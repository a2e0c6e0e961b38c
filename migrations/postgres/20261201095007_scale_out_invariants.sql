-- +goose Up
-- modify "flash_sale_holdings" table
-- (hand-edited: existing rows are backfilled before the NOT NULL and the
-- CHECK; holdings are recounted from the live orders, and a member who
-- already holds more than the limit keeps that as their row's limit)
ALTER TABLE "flash_sale_holdings" ADD COLUMN "per_member_limit" bigint;
UPDATE "flash_sale_holdings" h SET "units" = x.live, "per_member_limit" = GREATEST(x.lim, x.live)
FROM (SELECT h2.id, s.per_member_limit AS lim,
	(SELECT COALESCE(SUM(i.quantity), 0) FROM orders o JOIN order_items i ON i.order_id = o.id
	 WHERE o.flash_sale_id = h2.flash_sale_id AND o.buyer_id = h2.member_id AND o.status IN ('PENDING_PAYMENT', 'PAID', 'SHIPPED', 'COMPLETED')) AS live
	FROM "flash_sale_holdings" h2 JOIN "flash_sales" s ON s.id = h2.flash_sale_id) x
WHERE x.id = h.id;
ALTER TABLE "flash_sale_holdings" ALTER COLUMN "per_member_limit" SET NOT NULL, ADD CONSTRAINT "flash_sale_holding_limit" CHECK (units <= per_member_limit);
-- modify "products" table
-- (hand-edited: stock_received is backfilled as what the rows hold now)
ALTER TABLE "products" ADD COLUMN "stock_received" bigint;
UPDATE "products" p SET "stock_received" = p.stock
	+ (SELECT COALESCE(SUM(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id
	   WHERE i.product_id = p.id AND (o.status IN ('PENDING_PAYMENT', 'PAID', 'SHIPPED', 'COMPLETED') OR (o.status = 'REFUNDED' AND o.shipped_at IS NOT NULL)))
	+ (SELECT COALESCE(SUM(s.quantity - s.sold), 0) FROM flash_sales s WHERE s.product_id = p.id AND s.settled_at IS NULL);
ALTER TABLE "products" ALTER COLUMN "stock_received" SET NOT NULL, ADD CONSTRAINT "product_stock_received" CHECK (stock <= stock_received);
-- create "throttles" table
CREATE TABLE "throttles" ("id" character varying NOT NULL, "tat" bigint NOT NULL, PRIMARY KEY ("id"));
-- create index "throttle_tat" to table: "throttles"
CREATE INDEX "throttle_tat" ON "throttles" ("tat");

-- +goose Down
-- reverse: create index "throttle_tat" to table: "throttles"
DROP INDEX "throttle_tat";
-- reverse: create "throttles" table
DROP TABLE "throttles";
-- reverse: modify "products" table
ALTER TABLE "products" DROP COLUMN "stock_received", DROP CONSTRAINT "product_stock_received";
-- reverse: modify "flash_sale_holdings" table
ALTER TABLE "flash_sale_holdings" DROP COLUMN "per_member_limit", DROP CONSTRAINT "flash_sale_holding_limit";

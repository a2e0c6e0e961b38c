-- +goose Up
-- create "auth_tokens" table
CREATE TABLE "auth_tokens" ("id" character varying NOT NULL, "token_hash" bytea NOT NULL, "created_at" timestamptz NOT NULL, "last_used_at" timestamptz NOT NULL, "member_id" character varying NOT NULL, PRIMARY KEY ("id"));
-- create index "auth_tokens_token_hash_key" to table: "auth_tokens"
CREATE UNIQUE INDEX "auth_tokens_token_hash_key" ON "auth_tokens" ("token_hash");
-- create index "authtoken_last_used_at" to table: "auth_tokens"
CREATE INDEX "authtoken_last_used_at" ON "auth_tokens" ("last_used_at");
-- create index "authtoken_member_id" to table: "auth_tokens"
CREATE INDEX "authtoken_member_id" ON "auth_tokens" ("member_id");
-- create "counties" table
CREATE TABLE "counties" ("id" character varying NOT NULL, "name" character varying NOT NULL, "city" character varying NOT NULL, "poverty_status" character varying NOT NULL, PRIMARY KEY ("id"));
-- create index "county_city_name" to table: "counties"
CREATE UNIQUE INDEX "county_city_name" ON "counties" ("city", "name");
-- create "coupons" table
CREATE TABLE "coupons" ("id" character varying NOT NULL, "threshold" bigint NOT NULL, "discount" bigint NOT NULL, "status" character varying NOT NULL DEFAULT 'AVAILABLE', "valid_from" timestamptz NOT NULL, "valid_until" timestamptz NOT NULL, "claimed_at" timestamptz NOT NULL, "campaign_id" character varying NOT NULL, "tier_id" character varying NOT NULL, "member_id" character varying NOT NULL, "order_id" character varying NULL, PRIMARY KEY ("id"));
-- create index "coupon_campaign_id_member_id_tier_id" to table: "coupons"
CREATE UNIQUE INDEX "coupon_campaign_id_member_id_tier_id" ON "coupons" ("campaign_id", "member_id", "tier_id");
-- create index "coupon_member_id_status" to table: "coupons"
CREATE INDEX "coupon_member_id_status" ON "coupons" ("member_id", "status");
-- create index "coupon_order_id" to table: "coupons"
CREATE INDEX "coupon_order_id" ON "coupons" ("order_id");
-- create "coupon_campaigns" table
CREATE TABLE "coupon_campaigns" ("id" character varying NOT NULL, "name" character varying NOT NULL, "budget" bigint NOT NULL, "issued_value" bigint NOT NULL DEFAULT 0, "pack_value" bigint NOT NULL, "claim_starts_at" timestamptz NOT NULL, "claim_ends_at" timestamptz NOT NULL, "valid_from" timestamptz NOT NULL, "valid_until" timestamptz NOT NULL, "daily_pack_quota" bigint NULL, "quota_day" character varying NOT NULL DEFAULT '', "quota_day_packs" bigint NOT NULL DEFAULT 0, "packs_claimed" bigint NOT NULL DEFAULT 0, "created_at" timestamptz NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "coupon_campaign_budget" CHECK (budget > 0), CONSTRAINT "coupon_campaign_windows" CHECK ((claim_starts_at < claim_ends_at) AND (valid_from < valid_until)), CONSTRAINT "coupon_campaign_within_budget" CHECK ((issued_value >= 0) AND (issued_value <= budget)));
-- create "coupon_tiers" table
CREATE TABLE "coupon_tiers" ("id" character varying NOT NULL, "threshold" bigint NOT NULL, "discount" bigint NOT NULL, "position" bigint NOT NULL, "campaign_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "coupon_tier_discount" CHECK ((discount > 0) AND (discount < threshold)));
-- create index "coupontier_campaign_id_position" to table: "coupon_tiers"
CREATE UNIQUE INDEX "coupontier_campaign_id_position" ON "coupon_tiers" ("campaign_id", "position");
-- create "flash_sales" table
CREATE TABLE "flash_sales" ("id" character varying NOT NULL, "price" bigint NOT NULL, "quantity" bigint NOT NULL, "sold" bigint NOT NULL DEFAULT 0, "per_member_limit" bigint NOT NULL, "starts_at" timestamptz NOT NULL, "ends_at" timestamptz NOT NULL, "settled_at" timestamptz NULL, "created_at" timestamptz NOT NULL, "live_event_id" character varying NULL, "product_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "flash_sale_price" CHECK (price > 0), CONSTRAINT "flash_sale_sold_range" CHECK ((sold >= 0) AND (sold <= quantity)), CONSTRAINT "flash_sale_window" CHECK (starts_at < ends_at));
-- create index "flashsale_live_event_id" to table: "flash_sales"
CREATE INDEX "flashsale_live_event_id" ON "flash_sales" ("live_event_id");
-- create index "flashsale_product_id" to table: "flash_sales"
CREATE INDEX "flashsale_product_id" ON "flash_sales" ("product_id");
-- create index "flashsale_settled_at_ends_at" to table: "flash_sales"
CREATE INDEX "flashsale_settled_at_ends_at" ON "flash_sales" ("settled_at", "ends_at");
-- create "flash_sale_holdings" table
CREATE TABLE "flash_sale_holdings" ("id" character varying NOT NULL, "units" bigint NOT NULL, "flash_sale_id" character varying NOT NULL, "member_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "flash_sale_holding_units" CHECK (units >= 0));
-- create index "flashsaleholding_flash_sale_id_member_id" to table: "flash_sale_holdings"
CREATE UNIQUE INDEX "flashsaleholding_flash_sale_id_member_id" ON "flash_sale_holdings" ("flash_sale_id", "member_id");
-- create "live_events" table
CREATE TABLE "live_events" ("id" character varying NOT NULL, "title" character varying NOT NULL, "starts_at" timestamptz NOT NULL, "ends_at" timestamptz NOT NULL, "stream_url" character varying NULL, "created_at" timestamptz NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "live_event_window" CHECK (starts_at < ends_at));
-- create "members" table
CREATE TABLE "members" ("id" character varying NOT NULL, "phone" character varying NOT NULL, "password_hash" character varying NOT NULL, "display_name" character varying NOT NULL, "roles" jsonb NOT NULL, "verification_status" character varying NOT NULL DEFAULT 'UNVERIFIED', "real_name" character varying NULL, "id_number_hmac" character varying NULL, "id_number_masked" character varying NULL, "verification_submitted_at" timestamptz NULL, "verification_reviewed_at" timestamptz NULL, "verification_note" character varying NULL, "created_at" timestamptz NOT NULL, "purchasing_unit_id" character varying NULL, "organization_id" character varying NULL, PRIMARY KEY ("id"));
-- create index "member_verification_status_verification_submitted_at" to table: "members"
CREATE INDEX "member_verification_status_verification_submitted_at" ON "members" ("verification_status", "verification_submitted_at");
-- create index "members_id_number_hmac_key" to table: "members"
CREATE UNIQUE INDEX "members_id_number_hmac_key" ON "members" ("id_number_hmac");
-- create index "members_phone_key" to table: "members"
CREATE UNIQUE INDEX "members_phone_key" ON "members" ("phone");
-- create "orders" table
CREATE TABLE "orders" ("id" character varying NOT NULL, "number" character varying NOT NULL, "subtotal" bigint NOT NULL, "discount" bigint NOT NULL, "total" bigint NOT NULL, "status" character varying NOT NULL DEFAULT 'PENDING_PAYMENT', "created_at" timestamptz NOT NULL, "pay_by" timestamptz NULL, "paid_at" timestamptz NULL, "payment_reference" character varying NULL, "idempotency_key" character varying NULL, "shipping_address" jsonb NULL, "tracking_number" character varying NULL, "shipped_at" timestamptz NULL, "completed_at" timestamptz NULL, "closed_at" timestamptz NULL, "refund_reason" character varying NULL, "coupon_id" character varying NULL, "flash_sale_id" character varying NULL, "buyer_id" character varying NOT NULL, "purchasing_unit_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "order_amounts" CHECK ((discount >= 0) AND (discount <= subtotal) AND (total = (subtotal - discount))));
-- create index "order_buyer_id_created_at" to table: "orders"
CREATE INDEX "order_buyer_id_created_at" ON "orders" ("buyer_id", "created_at");
-- create index "order_buyer_id_idempotency_key" to table: "orders"
CREATE UNIQUE INDEX "order_buyer_id_idempotency_key" ON "orders" ("buyer_id", "idempotency_key");
-- create index "order_created_at" to table: "orders"
CREATE INDEX "order_created_at" ON "orders" ("created_at");
-- create index "order_flash_sale_id_status" to table: "orders"
CREATE INDEX "order_flash_sale_id_status" ON "orders" ("flash_sale_id", "status");
-- create index "order_status_pay_by" to table: "orders"
CREATE INDEX "order_status_pay_by" ON "orders" ("status", "pay_by");
-- create index "orders_number_key" to table: "orders"
CREATE UNIQUE INDEX "orders_number_key" ON "orders" ("number");
-- create index "orders_payment_reference_key" to table: "orders"
CREATE UNIQUE INDEX "orders_payment_reference_key" ON "orders" ("payment_reference");
-- create "order_items" table
CREATE TABLE "order_items" ("id" character varying NOT NULL, "quantity" bigint NOT NULL, "unit_price" bigint NOT NULL, "line_total" bigint NOT NULL, "order_id" character varying NOT NULL, "product_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "order_item_amounts" CHECK (((quantity >= 1) AND (quantity <= 999)) AND (line_total = (unit_price * quantity))));
-- create index "orderitem_order_id" to table: "order_items"
CREATE INDEX "orderitem_order_id" ON "order_items" ("order_id");
-- create index "orderitem_product_id" to table: "order_items"
CREATE INDEX "orderitem_product_id" ON "order_items" ("product_id");
-- create "procurement_records" table
CREATE TABLE "procurement_records" ("id" character varying NOT NULL, "amount" bigint NOT NULL, "channel" character varying NOT NULL, "occurred_on" timestamptz NOT NULL, "note" character varying NULL, "created_at" timestamptz NOT NULL, "recorded_by_id" character varying NULL, "purchasing_unit_id" character varying NOT NULL, "supplier_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "procurement_amount_positive" CHECK (amount > 0));
-- create index "procurementrecord_channel" to table: "procurement_records"
CREATE INDEX "procurementrecord_channel" ON "procurement_records" ("channel");
-- create index "procurementrecord_purchasing_unit_id" to table: "procurement_records"
CREATE INDEX "procurementrecord_purchasing_unit_id" ON "procurement_records" ("purchasing_unit_id");
-- create index "procurementrecord_supplier_id" to table: "procurement_records"
CREATE INDEX "procurementrecord_supplier_id" ON "procurement_records" ("supplier_id");
-- create "products" table
CREATE TABLE "products" ("id" character varying NOT NULL, "name" character varying NOT NULL, "description" text NOT NULL DEFAULT '', "category" character varying NOT NULL, "price" bigint NOT NULL, "sale_price" bigint NOT NULL, "stock" bigint NOT NULL, "sold_count" bigint NOT NULL DEFAULT 0, "on_sale" boolean NOT NULL DEFAULT true, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "county_id" character varying NOT NULL, "supplier_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "product_price_positive" CHECK (price > 0), CONSTRAINT "product_sale_price_range" CHECK ((sale_price > 0) AND (sale_price <= price)), CONSTRAINT "product_sold_count_nonnegative" CHECK (sold_count >= 0), CONSTRAINT "product_stock_nonnegative" CHECK (stock >= 0));
-- create index "product_category" to table: "products"
CREATE INDEX "product_category" ON "products" ("category");
-- create index "product_county_id" to table: "products"
CREATE INDEX "product_county_id" ON "products" ("county_id");
-- create index "product_created_at" to table: "products"
CREATE INDEX "product_created_at" ON "products" ("created_at");
-- create index "product_on_sale" to table: "products"
CREATE INDEX "product_on_sale" ON "products" ("on_sale");
-- create index "product_price" to table: "products"
CREATE INDEX "product_price" ON "products" ("price");
-- create index "product_sold_count" to table: "products"
CREATE INDEX "product_sold_count" ON "products" ("sold_count");
-- create index "product_supplier_id" to table: "products"
CREATE INDEX "product_supplier_id" ON "products" ("supplier_id");
-- create "purchasing_units" table
CREATE TABLE "purchasing_units" ("id" character varying NOT NULL, "name" character varying NOT NULL, "registered_at" timestamptz NOT NULL, "organization_id" character varying NULL, PRIMARY KEY ("id"));
-- create index "purchasing_units_name_key" to table: "purchasing_units"
CREATE UNIQUE INDEX "purchasing_units_name_key" ON "purchasing_units" ("name");
-- create "suppliers" table
CREATE TABLE "suppliers" ("id" character varying NOT NULL, "name" character varying NOT NULL, "beneficiaries" bigint NOT NULL, "joined_at" timestamptz NOT NULL, "county_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "supplier_beneficiaries_nonnegative" CHECK (beneficiaries >= 0));
-- create index "suppliers_name_key" to table: "suppliers"
CREATE UNIQUE INDEX "suppliers_name_key" ON "suppliers" ("name");
-- create "union_organizations" table
CREATE TABLE "union_organizations" ("id" character varying NOT NULL, "name" character varying NOT NULL, "kind" character varying NOT NULL, "parent_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "union_organizations_union_organizations_children" FOREIGN KEY ("parent_id") REFERENCES "union_organizations" ("id") ON UPDATE NO ACTION ON DELETE SET NULL);
-- create index "union_organizations_name_key" to table: "union_organizations"
CREATE UNIQUE INDEX "union_organizations_name_key" ON "union_organizations" ("name");
-- modify "auth_tokens" table
ALTER TABLE "auth_tokens" ADD CONSTRAINT "auth_tokens_members_tokens" FOREIGN KEY ("member_id") REFERENCES "members" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- modify "coupons" table
ALTER TABLE "coupons" ADD CONSTRAINT "coupons_coupon_campaigns_coupons" FOREIGN KEY ("campaign_id") REFERENCES "coupon_campaigns" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "coupons_coupon_tiers_coupons" FOREIGN KEY ("tier_id") REFERENCES "coupon_tiers" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "coupons_members_coupons" FOREIGN KEY ("member_id") REFERENCES "members" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "coupons_orders_held_coupons" FOREIGN KEY ("order_id") REFERENCES "orders" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- modify "coupon_tiers" table
ALTER TABLE "coupon_tiers" ADD CONSTRAINT "coupon_tiers_coupon_campaigns_tiers" FOREIGN KEY ("campaign_id") REFERENCES "coupon_campaigns" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- modify "flash_sales" table
ALTER TABLE "flash_sales" ADD CONSTRAINT "flash_sales_live_events_flash_sales" FOREIGN KEY ("live_event_id") REFERENCES "live_events" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, ADD CONSTRAINT "flash_sales_products_flash_sales" FOREIGN KEY ("product_id") REFERENCES "products" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- modify "flash_sale_holdings" table
ALTER TABLE "flash_sale_holdings" ADD CONSTRAINT "flash_sale_holdings_flash_sales_holdings" FOREIGN KEY ("flash_sale_id") REFERENCES "flash_sales" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "flash_sale_holdings_members_flash_sale_holdings" FOREIGN KEY ("member_id") REFERENCES "members" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- modify "members" table
ALTER TABLE "members" ADD CONSTRAINT "members_purchasing_units_purchasers" FOREIGN KEY ("purchasing_unit_id") REFERENCES "purchasing_units" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, ADD CONSTRAINT "members_union_organizations_members" FOREIGN KEY ("organization_id") REFERENCES "union_organizations" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- modify "orders" table
ALTER TABLE "orders" ADD CONSTRAINT "orders_coupons_orders" FOREIGN KEY ("coupon_id") REFERENCES "coupons" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, ADD CONSTRAINT "orders_flash_sales_orders" FOREIGN KEY ("flash_sale_id") REFERENCES "flash_sales" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, ADD CONSTRAINT "orders_members_orders" FOREIGN KEY ("buyer_id") REFERENCES "members" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "orders_purchasing_units_orders" FOREIGN KEY ("purchasing_unit_id") REFERENCES "purchasing_units" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- modify "order_items" table
ALTER TABLE "order_items" ADD CONSTRAINT "order_items_orders_items" FOREIGN KEY ("order_id") REFERENCES "orders" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "order_items_products_order_items" FOREIGN KEY ("product_id") REFERENCES "products" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- modify "procurement_records" table
ALTER TABLE "procurement_records" ADD CONSTRAINT "procurement_records_members_procurement_records" FOREIGN KEY ("recorded_by_id") REFERENCES "members" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, ADD CONSTRAINT "procurement_records_purchasing_units_procurement_records" FOREIGN KEY ("purchasing_unit_id") REFERENCES "purchasing_units" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "procurement_records_suppliers_procurement_records" FOREIGN KEY ("supplier_id") REFERENCES "suppliers" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- modify "products" table
ALTER TABLE "products" ADD CONSTRAINT "products_counties_products" FOREIGN KEY ("county_id") REFERENCES "counties" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "products_suppliers_products" FOREIGN KEY ("supplier_id") REFERENCES "suppliers" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- modify "purchasing_units" table
ALTER TABLE "purchasing_units" ADD CONSTRAINT "purchasing_units_union_organizations_purchasing_units" FOREIGN KEY ("organization_id") REFERENCES "union_organizations" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- modify "suppliers" table
ALTER TABLE "suppliers" ADD CONSTRAINT "suppliers_counties_suppliers" FOREIGN KEY ("county_id") REFERENCES "counties" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;

-- +goose Down
-- reverse: modify "suppliers" table
ALTER TABLE "suppliers" DROP CONSTRAINT "suppliers_counties_suppliers";
-- reverse: modify "purchasing_units" table
ALTER TABLE "purchasing_units" DROP CONSTRAINT "purchasing_units_union_organizations_purchasing_units";
-- reverse: modify "products" table
ALTER TABLE "products" DROP CONSTRAINT "products_suppliers_products", DROP CONSTRAINT "products_counties_products";
-- reverse: modify "procurement_records" table
ALTER TABLE "procurement_records" DROP CONSTRAINT "procurement_records_suppliers_procurement_records", DROP CONSTRAINT "procurement_records_purchasing_units_procurement_records", DROP CONSTRAINT "procurement_records_members_procurement_records";
-- reverse: modify "order_items" table
ALTER TABLE "order_items" DROP CONSTRAINT "order_items_products_order_items", DROP CONSTRAINT "order_items_orders_items";
-- reverse: modify "orders" table
ALTER TABLE "orders" DROP CONSTRAINT "orders_purchasing_units_orders", DROP CONSTRAINT "orders_members_orders", DROP CONSTRAINT "orders_flash_sales_orders", DROP CONSTRAINT "orders_coupons_orders";
-- reverse: modify "members" table
ALTER TABLE "members" DROP CONSTRAINT "members_union_organizations_members", DROP CONSTRAINT "members_purchasing_units_purchasers";
-- reverse: modify "flash_sale_holdings" table
ALTER TABLE "flash_sale_holdings" DROP CONSTRAINT "flash_sale_holdings_members_flash_sale_holdings", DROP CONSTRAINT "flash_sale_holdings_flash_sales_holdings";
-- reverse: modify "flash_sales" table
ALTER TABLE "flash_sales" DROP CONSTRAINT "flash_sales_products_flash_sales", DROP CONSTRAINT "flash_sales_live_events_flash_sales";
-- reverse: modify "coupon_tiers" table
ALTER TABLE "coupon_tiers" DROP CONSTRAINT "coupon_tiers_coupon_campaigns_tiers";
-- reverse: modify "coupons" table
ALTER TABLE "coupons" DROP CONSTRAINT "coupons_orders_held_coupons", DROP CONSTRAINT "coupons_members_coupons", DROP CONSTRAINT "coupons_coupon_tiers_coupons", DROP CONSTRAINT "coupons_coupon_campaigns_coupons";
-- reverse: modify "auth_tokens" table
ALTER TABLE "auth_tokens" DROP CONSTRAINT "auth_tokens_members_tokens";
-- reverse: create index "union_organizations_name_key" to table: "union_organizations"
DROP INDEX "union_organizations_name_key";
-- reverse: create "union_organizations" table
DROP TABLE "union_organizations";
-- reverse: create index "suppliers_name_key" to table: "suppliers"
DROP INDEX "suppliers_name_key";
-- reverse: create "suppliers" table
DROP TABLE "suppliers";
-- reverse: create index "purchasing_units_name_key" to table: "purchasing_units"
DROP INDEX "purchasing_units_name_key";
-- reverse: create "purchasing_units" table
DROP TABLE "purchasing_units";
-- reverse: create index "product_supplier_id" to table: "products"
DROP INDEX "product_supplier_id";
-- reverse: create index "product_sold_count" to table: "products"
DROP INDEX "product_sold_count";
-- reverse: create index "product_price" to table: "products"
DROP INDEX "product_price";
-- reverse: create index "product_on_sale" to table: "products"
DROP INDEX "product_on_sale";
-- reverse: create index "product_created_at" to table: "products"
DROP INDEX "product_created_at";
-- reverse: create index "product_county_id" to table: "products"
DROP INDEX "product_county_id";
-- reverse: create index "product_category" to table: "products"
DROP INDEX "product_category";
-- reverse: create "products" table
DROP TABLE "products";
-- reverse: create index "procurementrecord_supplier_id" to table: "procurement_records"
DROP INDEX "procurementrecord_supplier_id";
-- reverse: create index "procurementrecord_purchasing_unit_id" to table: "procurement_records"
DROP INDEX "procurementrecord_purchasing_unit_id";
-- reverse: create index "procurementrecord_channel" to table: "procurement_records"
DROP INDEX "procurementrecord_channel";
-- reverse: create "procurement_records" table
DROP TABLE "procurement_records";
-- reverse: create index "orderitem_product_id" to table: "order_items"
DROP INDEX "orderitem_product_id";
-- reverse: create index "orderitem_order_id" to table: "order_items"
DROP INDEX "orderitem_order_id";
-- reverse: create "order_items" table
DROP TABLE "order_items";
-- reverse: create index "orders_payment_reference_key" to table: "orders"
DROP INDEX "orders_payment_reference_key";
-- reverse: create index "orders_number_key" to table: "orders"
DROP INDEX "orders_number_key";
-- reverse: create index "order_status_pay_by" to table: "orders"
DROP INDEX "order_status_pay_by";
-- reverse: create index "order_flash_sale_id_status" to table: "orders"
DROP INDEX "order_flash_sale_id_status";
-- reverse: create index "order_created_at" to table: "orders"
DROP INDEX "order_created_at";
-- reverse: create index "order_buyer_id_idempotency_key" to table: "orders"
DROP INDEX "order_buyer_id_idempotency_key";
-- reverse: create index "order_buyer_id_created_at" to table: "orders"
DROP INDEX "order_buyer_id_created_at";
-- reverse: create "orders" table
DROP TABLE "orders";
-- reverse: create index "members_phone_key" to table: "members"
DROP INDEX "members_phone_key";
-- reverse: create index "members_id_number_hmac_key" to table: "members"
DROP INDEX "members_id_number_hmac_key";
-- reverse: create index "member_verification_status_verification_submitted_at" to table: "members"
DROP INDEX "member_verification_status_verification_submitted_at";
-- reverse: create "members" table
DROP TABLE "members";
-- reverse: create "live_events" table
DROP TABLE "live_events";
-- reverse: create index "flashsaleholding_flash_sale_id_member_id" to table: "flash_sale_holdings"
DROP INDEX "flashsaleholding_flash_sale_id_member_id";
-- reverse: create "flash_sale_holdings" table
DROP TABLE "flash_sale_holdings";
-- reverse: create index "flashsale_settled_at_ends_at" to table: "flash_sales"
DROP INDEX "flashsale_settled_at_ends_at";
-- reverse: create index "flashsale_product_id" to table: "flash_sales"
DROP INDEX "flashsale_product_id";
-- reverse: create index "flashsale_live_event_id" to table: "flash_sales"
DROP INDEX "flashsale_live_event_id";
-- reverse: create "flash_sales" table
DROP TABLE "flash_sales";
-- reverse: create index "coupontier_campaign_id_position" to table: "coupon_tiers"
DROP INDEX "coupontier_campaign_id_position";
-- reverse: create "coupon_tiers" table
DROP TABLE "coupon_tiers";
-- reverse: create "coupon_campaigns" table
DROP TABLE "coupon_campaigns";
-- reverse: create index "coupon_order_id" to table: "coupons"
DROP INDEX "coupon_order_id";
-- reverse: create index "coupon_member_id_status" to table: "coupons"
DROP INDEX "coupon_member_id_status";
-- reverse: create index "coupon_campaign_id_member_id_tier_id" to table: "coupons"
DROP INDEX "coupon_campaign_id_member_id_tier_id";
-- reverse: create "coupons" table
DROP TABLE "coupons";
-- reverse: create index "county_city_name" to table: "counties"
DROP INDEX "county_city_name";
-- reverse: create "counties" table
DROP TABLE "counties";
-- reverse: create index "authtoken_member_id" to table: "auth_tokens"
DROP INDEX "authtoken_member_id";
-- reverse: create index "authtoken_last_used_at" to table: "auth_tokens"
DROP INDEX "authtoken_last_used_at";
-- reverse: create index "auth_tokens_token_hash_key" to table: "auth_tokens"
DROP INDEX "auth_tokens_token_hash_key";
-- reverse: create "auth_tokens" table
DROP TABLE "auth_tokens";

package server_test

// Fixtures of the order tests: the order's GraphQL operations, a small shop,
// coupon campaigns created and claimed through the API, and a snapshot of
// everything an order touches (stock, sold counts, orders, lines, coupons)
// to prove that a refusal changed nothing.

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// ordFields is every field of an order the tests look at.
const ordFields = `id number status subtotal discount total createdAt payBy paidAt closedAt trackingNumber
	buyer { id phone } purchasingUnit { id } coupon { id status }
	items { product { id } quantity unitPrice lineTotal }
	shippingAddress { recipient phone region detail }`

const (
	ordPlaceQ    = `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { ` + ordFields + ` } }`
	ordConfirmQ  = `mutation($i: ConfirmPaymentInput!) { confirmPayment(input: $i) { ` + ordFields + ` } }`
	ordCancelQ   = `mutation($id: ID!) { cancelOrder(id: $id) { ` + ordFields + ` } }`
	ordAddressQ  = `mutation($id: ID!, $a: ShippingAddressInput!) { setShippingAddress(orderID: $id, input: $a) { ` + ordFields + ` } }`
	ordShipQ     = `mutation($i: ShipOrderInput!) { shipOrder(input: $i) { ` + ordFields + ` } }`
	ordCompleteQ = `mutation($id: ID!) { completeOrder(id: $id) { ` + ordFields + ` } }`
	ordRefundQ   = `mutation($i: RefundOrderInput!) { refundOrder(input: $i) { ` + ordFields + ` } }`
	ordNodeQ     = `query($id: ID!) { node(id: $id) { __typename id ... on Order { ` + ordFields + ` } ... on Coupon { couponStatus: status threshold } } }`
	ordCampaignQ = `mutation($i: CreateCouponCampaignInput!) { createCouponCampaign(input: $i) { id packValue } }`
	ordClaimQ    = `mutation($id: ID!) { claimCouponPack(campaignID: $id) { id threshold discount status } }`
	ordMyCouponQ = `query($s: CouponStatus) { myCoupons(status: $s) { id threshold discount status order { id } } }`
)

// ordOut is an order as the API returns it.
type ordOut struct {
	ID, Number, Status, Subtotal, Discount, Total, CreatedAt string
	PayBy, PaidAt, ClosedAt, TrackingNumber                  *string
	Buyer                                                    struct{ ID, Phone string }
	PurchasingUnit                                           *struct{ ID string }
	Coupon                                                   *struct{ ID, Status string }
	Items                                                    []ordItem
	ShippingAddress                                          *ordAddress
}

type ordItem struct {
	Product              struct{ ID string }
	Quantity             int
	UnitPrice, LineTotal string
}

type ordAddress struct{ Recipient, Phone, Region, Detail string }

// ordAddr is a valid shipping address.
var ordAddr = map[string]any{"recipient": "王小明", "phone": "13812345678", "region": "陕西省咸阳市秦都区", "detail": "人民路1号"}

// ordLine is one line of an order being placed.
type ordLine struct {
	ID  string
	Qty int
}

// ordInput is placeOrder's variables: the lines and any further input
// fields (couponID, shippingAddress, ...).
func ordInput(lines []ordLine, extra map[string]any) map[string]any {
	items := make([]map[string]any, len(lines))
	for i, l := range lines {
		items[i] = map[string]any{"productID": l.ID, "quantity": l.Qty}
	}
	in := map[string]any{"items": items}
	for k, v := range extra {
		in[k] = v
	}
	return map[string]any{"i": in}
}

// ordMust runs a query whose data is one field holding an order, failing
// on any error.
func ordMust(t testing.TB, m *servertest.Mall, token, query string, vars map[string]any) ordOut {
	t.Helper()
	var out map[string]ordOut
	mustDo(t, m, token, query, vars, &out)
	if len(out) != 1 {
		t.Fatalf("want one field, got %v", out)
	}
	for _, o := range out {
		return o
	}
	panic("unreachable")
}

// ordPlace places an order, failing on any error.
func ordPlace(t testing.TB, m *servertest.Mall, token string, lines []ordLine, extra map[string]any) ordOut {
	t.Helper()
	return ordMust(t, m, token, ordPlaceQ, ordInput(lines, extra))
}

// ordPay confirms the payment of the order's total.
func ordPay(t testing.TB, m *servertest.Mall, o ordOut, ref string) ordOut {
	t.Helper()
	return ordMust(t, m, m.Admin, ordConfirmQ, map[string]any{"i": map[string]any{
		"orderID": o.ID, "paymentReference": ref, "amount": o.Total}})
}

// ordShop is a county, a supplier and the products the test adds.
type ordShop struct {
	m        *servertest.Mall
	supplier string
}

func newOrdShop(t testing.TB, m *servertest.Mall) *ordShop {
	t.Helper()
	county := createCounty(t, m, "紫阳县", "安康市", "LIFTED")
	return &ordShop{m: m, supplier: createSupplier(t, m, "Ziyang Tea Co-op", county, 12)}
}

// product creates an on-sale product; salePrice "" means none.
func (s *ordShop) product(t testing.TB, name, price, salePrice string, stock int) string {
	t.Helper()
	return createProduct(t, s.m, productIn{Name: name, Category: "TEA", Price: price, SalePrice: salePrice,
		Stock: stock, OnSale: true, SupplierID: s.supplier})
}

// ordTiers are the seed campaign's four tiers.
var ordTiers = [][2]string{{"20.00", "10.00"}, {"40.00", "20.00"}, {"100.00", "50.00"}, {"200.00", "100.00"}}

// ordTime formats a time for the API.
func ordTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// ordCampaign creates (as ADMIN) a campaign claimable from a minute ago
// until validUntil, valid from a minute ago until validUntil, with the
// tiers given (the seed campaign's when none are).
func ordCampaign(t testing.TB, m *servertest.Mall, validUntil time.Time, tiers ...[2]string) string {
	t.Helper()
	if len(tiers) == 0 {
		tiers = ordTiers
	}
	in := make([]map[string]any, len(tiers))
	for i, tr := range tiers {
		in[i] = map[string]any{"threshold": tr[0], "discount": tr[1]}
	}
	start := time.Now().Add(-time.Minute)
	var out struct{ CreateCouponCampaign struct{ ID string } }
	mustDo(t, m, m.Admin, ordCampaignQ, map[string]any{"i": map[string]any{
		"name": "消费扶贫优惠券 " + servertest.NextPhone(), "budget": "10000000.00",
		"claimStartsAt": ordTime(start), "claimEndsAt": ordTime(validUntil),
		"validFrom": ordTime(start), "validUntil": ordTime(validUntil),
		"tiers": in,
	}}, &out)
	return out.CreateCouponCampaign.ID
}

// ordClaim claims the campaign's pack as the member and returns the
// coupons' IDs by threshold ("20.00" → ID).
func ordClaim(t testing.TB, m *servertest.Mall, token, campaign string) map[string]string {
	t.Helper()
	var out struct {
		ClaimCouponPack []struct{ ID, Threshold, Status string }
	}
	mustDo(t, m, token, ordClaimQ, map[string]any{"id": campaign}, &out)
	byThreshold := map[string]string{}
	for _, c := range out.ClaimCouponPack {
		if c.Status != "AVAILABLE" {
			t.Fatalf("claimed coupon %+v is not AVAILABLE", c)
		}
		byThreshold[c.Threshold] = c.ID
	}
	return byThreshold
}

type ordCouponOut struct {
	ID, Threshold, Discount, Status string
	Order                           *struct{ ID string }
}

// ordMyCoupons lists the member's coupons, of one status unless status is "".
func ordMyCoupons(t testing.TB, m *servertest.Mall, token, status string) map[string]ordCouponOut {
	t.Helper()
	vars := map[string]any{}
	if status != "" {
		vars["s"] = status
	}
	var out struct{ MyCoupons []ordCouponOut }
	mustDo(t, m, token, ordMyCouponQ, vars, &out)
	byID := map[string]ordCouponOut{}
	for _, c := range out.MyCoupons {
		byID[c.ID] = c
	}
	return byID
}

// ordCouponRow is a coupon as stored: its status and the order holding it
// ("" for none).
func ordCouponRow(t testing.TB, d *testdb.DB, id string) (status, orderID string) {
	t.Helper()
	var o sql.NullString
	if err := d.Pool.QueryRow(d.Q(`SELECT status, order_id FROM coupons WHERE id = ?`), id).Scan(&status, &o); err != nil {
		t.Fatalf("coupon %s: %v", id, err)
	}
	return status, o.String
}

// ordStatus is the order's stored status.
func ordStatus(t testing.TB, d *testdb.DB, id string) string {
	t.Helper()
	var s string
	if err := d.Pool.QueryRow(d.Q(`SELECT status FROM orders WHERE id = ?`), id).Scan(&s); err != nil {
		t.Fatalf("order %s: %v", id, err)
	}
	return s
}

// ordStock and ordSold read a product's stock and sold count.
func ordStock(t testing.TB, d *testdb.DB, id string) int {
	t.Helper()
	return d.Int(t, `SELECT stock FROM products WHERE id = ?`, id)
}

func ordSold(t testing.TB, d *testdb.DB, id string) int {
	t.Helper()
	return d.Int(t, `SELECT sold_count FROM products WHERE id = ?`, id)
}

// ordState is everything an order operation may change, one row a line.
func ordState(t testing.TB, d *testdb.DB) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT id, stock, sold_count FROM products ORDER BY id`,
		`SELECT id, number, status, subtotal, discount, total, pay_by, paid_at, payment_reference,
			CAST(shipping_address AS TEXT), tracking_number, shipped_at, completed_at, closed_at,
			refund_reason, coupon_id, buyer_id, purchasing_unit_id, idempotency_key FROM orders ORDER BY id`,
		`SELECT id, order_id, product_id, quantity, unit_price, line_total FROM order_items ORDER BY id`,
		`SELECT id, status, order_id, member_id FROM coupons ORDER BY id`,
		`SELECT id, issued_value, packs_claimed FROM coupon_campaigns ORDER BY id`,
	} {
		out = append(out, rowLines(t, d, strings.Fields(q[strings.Index(q, " FROM ")+6:])[0], q)...)
	}
	return out
}

// ordUnchanged fails when the state differs from before, naming the first
// difference.
func ordUnchanged(t testing.TB, d *testdb.DB, before []string) {
	t.Helper()
	after := ordState(t, d)
	for i := 0; i < max(len(before), len(after)); i++ {
		var b, a string
		if i < len(before) {
			b = before[i]
		}
		if i < len(after) {
			a = after[i]
		}
		if a != b {
			t.Fatalf("state changed:\nbefore: %s\nafter:  %s", b, a)
		}
	}
}

// ordRefused sends the request, wants the code and an unchanged state.
func ordRefused(t testing.TB, m *servertest.Mall, d *testdb.DB, token, query string, vars map[string]any, code string) {
	t.Helper()
	before := ordState(t, d)
	r := m.Do(token, query, vars)
	wantCode(t, r, code)
	if data := strings.TrimSpace(string(r.Data)); data != "" && data != "null" {
		t.Fatalf("refusal returned data %s", data)
	}
	ordUnchanged(t, d, before)
}

// ordParseTime parses a Time the API returned.
func ordParseTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	if !strings.HasSuffix(s, "Z") {
		t.Fatalf("time %q is not in UTC", s)
	}
	return v
}

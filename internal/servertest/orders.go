package servertest

// Fixtures of the order tests (and of others that place orders): the order's GraphQL operations, a small shop,
// coupon campaigns created and claimed through the API, and a snapshot of
// everything an order touches (stock, sold counts, orders, lines, coupons)
// to prove that a refusal changed nothing.

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	"unionmall/internal/testdb"
)

// OrderFields is every field of an order the tests look at.
const OrderFields = `id number status subtotal discount total createdAt payBy paidAt closedAt trackingNumber
	buyer { id phone } purchasingUnit { id } coupon { id status }
	items { product { id } quantity unitPrice lineTotal }
	shippingAddress { recipient phone region detail }`

const (
	PlaceOrderQ     = `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { ` + OrderFields + ` } }`
	ConfirmPaymentQ = `mutation($i: ConfirmPaymentInput!) { confirmPayment(input: $i) { ` + OrderFields + ` } }`
	CancelOrderQ    = `mutation($id: ID!) { cancelOrder(id: $id) { ` + OrderFields + ` } }`
	SetAddressQ     = `mutation($id: ID!, $a: ShippingAddressInput!) { setShippingAddress(orderID: $id, input: $a) { ` + OrderFields + ` } }`
	ShipOrderQ      = `mutation($i: ShipOrderInput!) { shipOrder(input: $i) { ` + OrderFields + ` } }`
	CompleteOrderQ  = `mutation($id: ID!) { completeOrder(id: $id) { ` + OrderFields + ` } }`
	RefundOrderQ    = `mutation($i: RefundOrderInput!) { refundOrder(input: $i) { ` + OrderFields + ` } }`
	PayOrderQ       = `mutation($i: PayOrderInput!) { payOrder(input: $i) { channel expiresAt sandboxURL
		order { id number status total payment { channel status amount providerTransactionID paidAt refundedAt } }
		jsapi { appId timeStamp nonceStr package signType paySign }
		app { appid partnerid prepayid package noncestr timestamp sign } } }`
	OrderNodeQ      = `query($id: ID!) { node(id: $id) { __typename id ... on Order { ` + OrderFields + ` } ... on Coupon { couponStatus: status threshold } } }`
	CreateCampaignQ = `mutation($i: CreateCouponCampaignInput!) { createCouponCampaign(input: $i) { id packValue } }`
	ClaimPackQ      = `mutation($id: ID!) { claimCouponPack(campaignID: $id) { id threshold discount status } }`
	MyCouponsQ      = `query($s: CouponStatus) { myCoupons(status: $s) { id threshold discount status order { id } } }`
)

// Order is an order as the API returns it.
type Order struct {
	ID, Number, Status, Subtotal, Discount, Total, CreatedAt string
	PayBy, PaidAt, ClosedAt, TrackingNumber                  *string
	Buyer                                                    struct{ ID, Phone string }
	PurchasingUnit                                           *struct{ ID string }
	Coupon                                                   *struct{ ID, Status string }
	Items                                                    []OrderItem
	ShippingAddress                                          *Address
}

// OrderItem is one line of an Order.
type OrderItem struct {
	Product              struct{ ID string }
	Quantity             int
	UnitPrice, LineTotal string
}

// Address is an order's shipping address.
type Address struct{ Recipient, Phone, Region, Detail string }

// ValidAddress is a valid shipping address.
var ValidAddress = map[string]any{"recipient": "王小明", "phone": "13812345678", "region": "陕西省咸阳市秦都区", "detail": "人民路1号"}

// Line is one line of an order being placed.
type Line struct {
	ID  string
	Qty int
}

// OrderInput is placeOrder's variables: the lines and any further input
// fields (couponID, shippingAddress, ...).
func OrderInput(lines []Line, extra map[string]any) map[string]any {
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

// MustOrder runs a query whose data is one field holding an order, failing
// on any error.
func MustOrder(t testing.TB, m *Mall, token, query string, vars map[string]any) Order {
	t.Helper()
	var out map[string]Order
	MustDo(t, m, token, query, vars, &out)
	if len(out) != 1 {
		t.Fatalf("want one field, got %v", out)
	}
	for _, o := range out {
		return o
	}
	panic("unreachable")
}

// PlaceOrder places an order, failing on any error.
func PlaceOrder(t testing.TB, m *Mall, token string, lines []Line, extra map[string]any) Order {
	t.Helper()
	return MustOrder(t, m, token, PlaceOrderQ, OrderInput(lines, extra))
}

// Pay confirms the payment of the order's total.
func Pay(t testing.TB, m *Mall, o Order, ref string) Order {
	t.Helper()
	return MustOrder(t, m, m.Admin, ConfirmPaymentQ, map[string]any{"i": map[string]any{
		"orderID": o.ID, "paymentReference": ref, "amount": o.Total}})
}

// Shop is a county, a supplier and the products the test adds.
type Shop struct {
	m                *Mall
	County, Supplier string
}

// NewShop creates a LIFTED county and a supplier in it.
func NewShop(t testing.TB, m *Mall) *Shop {
	t.Helper()
	county := CreateCounty(t, m, "紫阳县", "安康市", "LIFTED")
	return &Shop{m: m, County: county, Supplier: CreateSupplier(t, m, "Ziyang Tea Co-op", county, 12)}
}

// Product creates an on-sale product; salePrice "" means none.
func (s *Shop) Product(t testing.TB, name, price, salePrice string, stock int) string {
	t.Helper()
	return CreateProduct(t, s.m, ProductIn{Name: name, Category: "TEA", Price: price, SalePrice: salePrice,
		Stock: stock, OnSale: true, SupplierID: s.Supplier})
}

// Tiers are the seed campaign's four tiers.
var Tiers = [][2]string{{"20.00", "10.00"}, {"40.00", "20.00"}, {"100.00", "50.00"}, {"200.00", "100.00"}}

// FormatTime formats a time for the API.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// NewCampaign creates (as ADMIN) a campaign claimable from a minute ago
// until validUntil, valid from a minute ago until validUntil, with the
// tiers given (the seed campaign's when none are).
func NewCampaign(t testing.TB, m *Mall, validUntil time.Time, tiers ...[2]string) string {
	t.Helper()
	if len(tiers) == 0 {
		tiers = Tiers
	}
	in := make([]map[string]any, len(tiers))
	for i, tr := range tiers {
		in[i] = map[string]any{"threshold": tr[0], "discount": tr[1]}
	}
	start := time.Now().Add(-time.Minute)
	var out struct{ CreateCouponCampaign struct{ ID string } }
	MustDo(t, m, m.Admin, CreateCampaignQ, map[string]any{"i": map[string]any{
		"name": "消费扶贫优惠券 " + NextPhone(), "budget": "10000000.00",
		"claimStartsAt": FormatTime(start), "claimEndsAt": FormatTime(validUntil),
		"validFrom": FormatTime(start), "validUntil": FormatTime(validUntil),
		"tiers": in,
	}}, &out)
	return out.CreateCouponCampaign.ID
}

// ClaimPack claims the campaign's pack as the member and returns the
// coupons' IDs by threshold ("20.00" → ID).
func ClaimPack(t testing.TB, m *Mall, token, campaign string) map[string]string {
	t.Helper()
	var out struct {
		ClaimCouponPack []struct{ ID, Threshold, Status string }
	}
	MustDo(t, m, token, ClaimPackQ, map[string]any{"id": campaign}, &out)
	byThreshold := map[string]string{}
	for _, c := range out.ClaimCouponPack {
		if c.Status != "AVAILABLE" {
			t.Fatalf("claimed coupon %+v is not AVAILABLE", c)
		}
		byThreshold[c.Threshold] = c.ID
	}
	return byThreshold
}

// Coupon is a coupon as myCoupons returns it.
type Coupon struct {
	ID, Threshold, Discount, Status string
	Order                           *struct{ ID string }
}

// MyCoupons lists the member's coupons, of one status unless status is "".
func MyCoupons(t testing.TB, m *Mall, token, status string) map[string]Coupon {
	t.Helper()
	vars := map[string]any{}
	if status != "" {
		vars["s"] = status
	}
	var out struct{ MyCoupons []Coupon }
	MustDo(t, m, token, MyCouponsQ, vars, &out)
	byID := map[string]Coupon{}
	for _, c := range out.MyCoupons {
		byID[c.ID] = c
	}
	return byID
}

// CouponRow is a coupon as stored: its status and the order holding it
// ("" for none).
func CouponRow(t testing.TB, d *testdb.DB, id string) (status, orderID string) {
	t.Helper()
	var o sql.NullString
	if err := d.Pool.QueryRow(d.Q(`SELECT status, order_id FROM coupons WHERE id = ?`), id).Scan(&status, &o); err != nil {
		t.Fatalf("coupon %s: %v", id, err)
	}
	return status, o.String
}

// OrderStatus is the order's stored status.
func OrderStatus(t testing.TB, d *testdb.DB, id string) string {
	t.Helper()
	var s string
	if err := d.Pool.QueryRow(d.Q(`SELECT status FROM orders WHERE id = ?`), id).Scan(&s); err != nil {
		t.Fatalf("order %s: %v", id, err)
	}
	return s
}

// StockOf and SoldOf read a product's stock and sold count.
func StockOf(t testing.TB, d *testdb.DB, id string) int {
	t.Helper()
	return d.Int(t, `SELECT stock FROM products WHERE id = ?`, id)
}

func SoldOf(t testing.TB, d *testdb.DB, id string) int {
	t.Helper()
	return d.Int(t, `SELECT sold_count FROM products WHERE id = ?`, id)
}

// OrderState is everything an order operation may change, one row a line.
func OrderState(t testing.TB, d *testdb.DB) []string {
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
		out = append(out, RowLines(t, d, strings.Fields(q[strings.Index(q, " FROM ")+6:])[0], q)...)
	}
	return out
}

// Unchanged fails when the state differs from before, naming the first
// difference.
func Unchanged(t testing.TB, d *testdb.DB, before []string) {
	t.Helper()
	SameRows(t, "state changed", before, OrderState(t, d))
}

// SameRows fails, saying what and naming the first difference, unless two
// snapshots of rows are equal.
func SameRows(t testing.TB, what string, before, after []string) {
	t.Helper()
	for i := range max(len(before), len(after)) {
		var b, a string
		if i < len(before) {
			b = before[i]
		}
		if i < len(after) {
			a = after[i]
		}
		if a != b {
			t.Fatalf("%s:\nbefore: %s\nafter:  %s", what, b, a)
		}
	}
}

// Refused sends the request, wants the code and an unchanged state.
func Refused(t testing.TB, m *Mall, d *testdb.DB, token, query string, vars map[string]any, code string) {
	t.Helper()
	before := OrderState(t, d)
	r := m.Do(token, query, vars)
	WantCode(t, r, code)
	if data := strings.TrimSpace(string(r.Data)); data != "" && data != "null" {
		t.Fatalf("refusal returned data %s", data)
	}
	Unchanged(t, d, before)
}

// ParseTime parses a Time the API returned.
func ParseTime(t testing.TB, s string) time.Time {
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

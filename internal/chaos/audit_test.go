package chaos

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"unionmall/internal/testdb"
)

// The audit reads these columns only: the hand-made state is built on
// tables of just them, without the real schema's constraints, so that each
// invariant can be broken (the CHECKs would refuse some of the breaks).
const handMadeTables = `
CREATE TABLE suppliers (id TEXT PRIMARY KEY, beneficiaries BIGINT NOT NULL);
CREATE TABLE products (id TEXT PRIMARY KEY, supplier_id TEXT NOT NULL, stock BIGINT NOT NULL, stock_received BIGINT NOT NULL,
	sold_count BIGINT NOT NULL);
CREATE TABLE members (id TEXT PRIMARY KEY, verification_status TEXT NOT NULL);
CREATE TABLE purchasing_units (id TEXT PRIMARY KEY);
CREATE TABLE procurement_records (id TEXT PRIMARY KEY, supplier_id TEXT NOT NULL, amount BIGINT NOT NULL, channel TEXT NOT NULL);
CREATE TABLE flash_sales (id TEXT PRIMARY KEY, product_id TEXT NOT NULL, quantity BIGINT NOT NULL, sold BIGINT NOT NULL,
	per_member_limit BIGINT NOT NULL, settled_at TIMESTAMP NULL);
CREATE TABLE flash_sale_holdings (id TEXT PRIMARY KEY, flash_sale_id TEXT NOT NULL, member_id TEXT NOT NULL, units BIGINT NOT NULL);
CREATE TABLE orders (id TEXT PRIMARY KEY, buyer_id TEXT NOT NULL, status TEXT NOT NULL, flash_sale_id TEXT NULL,
	coupon_id TEXT NULL, total BIGINT NOT NULL, paid_at TIMESTAMP NULL, shipped_at TIMESTAMP NULL, payment_reference TEXT NULL);
CREATE TABLE payments (id TEXT PRIMARY KEY, order_id TEXT NOT NULL, out_trade_no TEXT NOT NULL, status TEXT NOT NULL,
	amount BIGINT NOT NULL, provider_transaction_id TEXT NULL, out_refund_no TEXT NULL, late BOOLEAN NOT NULL);
CREATE TABLE order_items (id TEXT PRIMARY KEY, order_id TEXT NOT NULL, product_id TEXT NOT NULL, quantity BIGINT NOT NULL);
CREATE TABLE coupon_campaigns (id TEXT PRIMARY KEY, budget BIGINT NOT NULL, issued_value BIGINT NOT NULL,
	pack_value BIGINT NOT NULL, daily_pack_quota BIGINT NULL, packs_claimed BIGINT NOT NULL);
CREATE TABLE coupon_tiers (id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL);
CREATE TABLE coupons (id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, member_id TEXT NOT NULL, tier_id TEXT NOT NULL,
	status TEXT NOT NULL, order_id TEXT NULL, claimed_at TIMESTAMP NOT NULL)`

// A consistent state with a bit of everything:
//
//   - oil: flash sale fs1 (10 units, 3 sold, limit 2, open) with m1's
//     pending o1 and paid o2, m2's shipped o3, m2's cancelled o5 and m1's
//     refund-after-shipping o6; settled sale fs2 (5 units, 1 sold) with
//     m2's completed o4. Stock 20: received 20 + 4 live + 1 shipped refund
//   - 7 unsold in fs1 = 32.
//   - tea: m1's pending o7 with coupon c1 (RESERVED), m2's paid o8 with
//     coupon c3 (USED). Stock 8, received 10.
//   - campaign cp1 (tiers t1, t2; pack 30.00; quota 2 a day): m1's and m2's
//     packs, claimed on the same Asia/Shanghai day 2026-12-01 but on two
//     UTC days; campaign cp2 (one tier, no quota): m1's pack.
//   - payments through WeChat Pay: o1's started (PENDING), o2 paid by
//     transaction T2, o5 paid after it was cancelled (late, refunded),
//     o6 paid by T6 and refunded; o8's started and closed, the order paid
//     by hand (hand-8), as o3 and o4 were.
var handMadeRows = []string{
	`INSERT INTO suppliers VALUES ('sup1', 30), ('sup2', 7), ('sup3', 1000)`,
	`INSERT INTO products VALUES ('oil', 'sup1', 20, 32, 3), ('tea', 'sup1', 8, 10, 1)`,
	`INSERT INTO members VALUES ('m1', 'VERIFIED'), ('m2', 'VERIFIED'), ('m3', 'UNVERIFIED')`,
	`INSERT INTO purchasing_units VALUES ('pu1')`,
	`INSERT INTO procurement_records VALUES ('pr1', 'sup2', 50000, 'OFFLINE')`,
	`INSERT INTO flash_sales VALUES ('fs1', 'oil', 10, 3, 2, NULL), ('fs2', 'oil', 5, 1, 1, ?)`,
	`INSERT INTO flash_sale_holdings VALUES ('h1', 'fs1', 'm1', 2), ('h2', 'fs1', 'm2', 1), ('h3', 'fs2', 'm2', 1)`,
	`INSERT INTO orders VALUES
		('o1', 'm1', 'PENDING_PAYMENT', 'fs1', NULL, 100, NULL, NULL, NULL),
		('o2', 'm1', 'PAID', 'fs1', NULL, 100, ?, NULL, 'T2'),
		('o3', 'm2', 'SHIPPED', 'fs1', NULL, 100, ?, ?, 'hand-3'),
		('o4', 'm2', 'COMPLETED', 'fs2', NULL, 100, ?, ?, 'hand-4'),
		('o5', 'm2', 'CANCELLED', 'fs1', NULL, 100, NULL, NULL, NULL),
		('o6', 'm1', 'REFUNDED', 'fs1', NULL, 100, ?, ?, 'T6'),
		('o7', 'm1', 'PENDING_PAYMENT', NULL, 'c1', 990, NULL, NULL, NULL),
		('o8', 'm2', 'PAID', NULL, 'c3', 1990, ?, NULL, 'hand-8')`,
	`INSERT INTO order_items VALUES ('i1', 'o1', 'oil', 1), ('i2', 'o2', 'oil', 1), ('i3', 'o3', 'oil', 1),
		('i4', 'o4', 'oil', 1), ('i5', 'o5', 'oil', 1), ('i6', 'o6', 'oil', 1), ('i7', 'o7', 'tea', 1), ('i8', 'o8', 'tea', 1)`,
	`INSERT INTO coupon_campaigns VALUES ('cp1', 10000, 6000, 3000, 2, 2), ('cp2', 5000, 1000, 1000, NULL, 1)`,
	`INSERT INTO coupon_tiers VALUES ('t1', 'cp1'), ('t2', 'cp1'), ('t3', 'cp2')`,
	`INSERT INTO coupons VALUES
		('c1', 'cp1', 'm1', 't1', 'RESERVED', 'o7', ?), ('c2', 'cp1', 'm1', 't2', 'AVAILABLE', NULL, ?),
		('c3', 'cp1', 'm2', 't1', 'USED', 'o8', ?), ('c4', 'cp1', 'm2', 't2', 'AVAILABLE', NULL, ?),
		('c5', 'cp2', 'm1', 't3', 'AVAILABLE', NULL, ?)`,
	`INSERT INTO payments VALUES ('pay1', 'o1', 'N1', 'PENDING', 100, NULL, NULL, FALSE),
		('pay2', 'o2', 'N2', 'PAID', 100, 'T2', NULL, FALSE), ('pay5', 'o5', 'N5', 'REFUNDED', 100, 'T5', 'N5R', TRUE),
		('pay6', 'o6', 'N6', 'REFUNDED', 100, 'T6', 'N6R', FALSE), ('pay8', 'o8', 'N8', 'CLOSED', 1990, NULL, NULL, FALSE)`,
}

// handMadeStats is platformStats of that state: paid orders o2, o3, o4
// and o8; sup1 has sold, sup2 has a procurement record, sup3 neither.
var handMadeStats = PlatformStats{
	PurchasingUnits: 1, Members: 3, VerifiedMembers: 2,
	OnlineProcurement: "22.90", OfflineProcurement: "500.00", TotalProcurement: "522.90",
	PaidOrders: 4, Beneficiaries: 37, CouponsIssued: 5, CouponsRedeemed: 1,
}

func handMade(t *testing.T, d *testdb.DB) {
	t.Helper()
	ts := "TIMESTAMP"
	if d.Postgres() {
		ts = "TIMESTAMPTZ"
	}
	for _, stmt := range strings.Split(handMadeTables, ";") {
		if _, err := d.Pool.Exec(strings.ReplaceAll(stmt, "TIMESTAMP", ts)); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	// 2026-12-01 01:00 and 23:00 in Asia/Shanghai: one day there, two in UTC.
	early, late := time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	next := late.Add(12 * time.Hour)
	args := [][]any{nil, nil, nil, nil, nil, {early}, nil,
		{early, early, late, early, late, early, late, late}, nil, nil, nil,
		{early, early, late, late, next}, nil}
	for i, stmt := range handMadeRows {
		if _, err := d.Pool.Exec(d.Q(stmt), args[i]...); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

// thirdUnit sells m1 a third unit of fs1 (limit 2): a pending order, and
// sold moved with it.
var thirdUnit = []string{
	`INSERT INTO orders VALUES ('o9', 'm1', 'PENDING_PAYMENT', 'fs1', NULL, 100, NULL, NULL, NULL)`,
	`INSERT INTO order_items VALUES ('i9', 'o9', 'oil', 1)`,
	`UPDATE flash_sales SET sold = 4 WHERE id = 'fs1'`,
}

// Each case breaks the consistent state once; exactly the checks named
// (by the start of their names) must fail, each naming the row.
func TestAuditFindsEachBrokenInvariant(t *testing.T) {
	cases := []struct {
		name   string
		breaks []string
		stats  *PlatformStats    // a platformStats answer to check too
		want   map[string]string // check name prefix → a word of a violation
	}{
		{name: "consistent", stats: &handMadeStats},
		{"oversold", []string{`UPDATE flash_sales SET quantity = 2 WHERE id = 'fs1'`,
			`UPDATE products SET stock_received = 24 WHERE id = 'oil'`}, nil,
			map[string]string{"flash sales: sold ≤ quantity": "flash_sale=fs1 sold=3 quantity=2"}},
		{"sold is not the live units", []string{`UPDATE flash_sales SET sold = 4 WHERE id = 'fs1'`,
			`UPDATE products SET stock_received = 31 WHERE id = 'oil'`}, nil,
			map[string]string{"flash sales: sold = units": "flash_sale=fs1 sold=4 live_units=3"}},
		// The stale-holdings bug: a third unit sold, the holding overwritten.
		{"holding overwritten from a stale read", append(thirdUnit, `UPDATE flash_sale_holdings SET units = 1 WHERE id = 'h1'`), nil,
			map[string]string{
				"flash sales: each holding":                        "member=m1 held=1 live_units=3",
				"flash sales: nobody above per_member_limit (live": "member=m1 live_units=3",
			}},
		{"member above the limit", append(thirdUnit, `UPDATE flash_sale_holdings SET units = 3 WHERE id = 'h1'`), nil,
			map[string]string{
				"flash sales: nobody above per_member_limit (holdings)": "member=m1 units=3",
				"flash sales: nobody above per_member_limit (live":      "member=m1 live_units=3",
			}},
		{"a unit appeared in stock", []string{`UPDATE products SET stock = stock + 1 WHERE id = 'tea'`}, nil,
			map[string]string{"stock: stock +": "product=tea stock=9 live_units=2"}},
		{"issued above the budget", []string{`UPDATE coupon_campaigns SET budget = 5000 WHERE id = 'cp1'`}, nil,
			map[string]string{"coupons: issued_value ≤ budget": "campaign=cp1 issued_value=6000 budget=5000"}},
		{"issued is not the packs' value", []string{`UPDATE coupon_campaigns SET issued_value = 9000 WHERE id = 'cp1'`}, nil,
			map[string]string{"coupons: issued_value = packs": "campaign=cp1 issued_value=9000"}},
		{"a day above its quota", []string{`UPDATE coupon_campaigns SET daily_pack_quota = 1 WHERE id = 'cp1'`}, nil,
			map[string]string{"coupons: packs per Asia/Shanghai day": "campaign=cp1 day=2026-12-01 packs=2"}},
		{"a second coupon of a tier", []string{
			`INSERT INTO coupons VALUES ('c6', 'cp1', 'm1', 't1', 'AVAILABLE', NULL, '2026-12-01 03:00:00+00:00')`}, nil,
			map[string]string{"coupons: one pack per member": "member=m1 coupons=3 tiers_covered=2"}},
		{"reserved by a cancelled order", []string{`UPDATE orders SET status = 'CANCELLED' WHERE id = 'o7'`,
			`UPDATE products SET stock = stock + 1 WHERE id = 'tea'`}, nil,
			map[string]string{"coupons: RESERVED": "coupon=c1 status=RESERVED held_by=o7 order_status=CANCELLED"}},
		{"used by an order never paid", []string{`UPDATE orders SET status = 'CANCELLED', paid_at = NULL, payment_reference = NULL WHERE id = 'o8'`,
			`UPDATE products SET stock = stock + 1, sold_count = 0 WHERE id = 'tea'`}, nil,
			map[string]string{"coupons: USED": "coupon=c3 status=USED held_by=o8"}},
		{"available but held", []string{`UPDATE coupons SET order_id = 'o5' WHERE id = 'c2'`}, nil,
			map[string]string{"coupons: an AVAILABLE coupon": "coupon=c2"}},
		{"a sold count off", []string{`UPDATE products SET sold_count = 2 WHERE id = 'oil'`}, nil,
			map[string]string{"stock: sold_count": "product=oil sold_count=2 paid_units=3"}},
		{"a cancelled order's late payment kept", []string{`UPDATE payments SET status = 'PAID', late = FALSE WHERE id = 'pay5'`}, nil,
			map[string]string{
				"payments: each agrees":                    "payment=pay5 order_id=o5 status=PAID",
				"flash sales: a unit paid for through a p": "order_id=o5 flash_sale_id=fs1 order_status=CANCELLED payment=PAID",
			}},
		{"one transaction paying two orders", []string{`UPDATE payments SET provider_transaction_id = 'T2' WHERE id = 'pay6'`}, nil,
			map[string]string{
				"payments: one per order": "what=provider_transaction_id value=T2 payments=2",
				"payments: each agrees":   "payment=pay6 order_id=o6 status=REFUNDED",
			}},
		{"a payment of another amount", []string{`UPDATE payments SET amount = 99 WHERE id = 'pay2'`}, nil,
			map[string]string{"payments: each agrees": "payment=pay2 order_id=o2 status=PAID"}},
		{"a paid order cancelled", []string{`UPDATE orders SET payment_reference = 'T5' WHERE id = 'o5'`}, nil,
			map[string]string{"orders: none expired or cancelled after": "order_id=o5 status=CANCELLED"}},
		{"platformStats off by one", nil, &PlatformStats{
			PurchasingUnits: 1, Members: 3, VerifiedMembers: 2,
			OnlineProcurement: "22.90", OfflineProcurement: "500.00", TotalProcurement: "522.90",
			PaidOrders: 4, Beneficiaries: 37, CouponsIssued: 5, CouponsRedeemed: 2,
		}, map[string]string{"platformStats": "couponsRedeemed 2 (rows: 1)"}},
	}
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					d := testdb.OpenEmpty(t, kind)
					handMade(t, d)
					for _, stmt := range c.breaks {
						if _, err := d.Pool.Exec(stmt); err != nil {
							t.Fatalf("%s: %v", stmt, err)
						}
					}
					var seen []StatsSeen
					if c.stats != nil {
						seen = append(seen, StatsSeen{Instance: "A", Stats: *c.stats})
					}
					checks := Audit(context.Background(), d.Pool, seen...)
					if want := 18 + len(seen); len(checks) != want {
						t.Errorf("%d checks, want %d", len(checks), want)
					}
					for _, ch := range checks {
						word, want := "", false
						for prefix, w := range c.want {
							if strings.HasPrefix(ch.Name, prefix) {
								word, want = w, true
							}
						}
						switch {
						case want && ch.OK():
							t.Errorf("%s: no violation (figures: %s)", ch.Name, ch.Figures)
						case want && !slices.ContainsFunc(ch.Violations, func(v string) bool { return strings.Contains(v, word) }):
							t.Errorf("%s: violations %q, want one with %q", ch.Name, ch.Violations, word)
						case !want && !ch.OK():
							t.Errorf("%s: unexpected violations %q", ch.Name, ch.Violations)
						}
					}
					if t.Failed() {
						for _, ch := range checks {
							t.Logf("%s — %s", ch.Name, ch.Figures)
						}
					}
				})
			}
		})
	}
}

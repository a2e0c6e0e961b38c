package chaos

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"unionmall/internal/coupons"
)

// couponOrder joins each coupon to the order holding it (coupons.order_id).
const couponOrder = `SELECT c.id AS coupon, c.status, c.order_id AS held_by, o.status AS order_status, o.paid_at
	FROM coupons c LEFT JOIN orders o ON o.id = c.order_id`

// orderCoupon joins each order placed with a coupon (orders.coupon_id) to
// that coupon, in couponOrder's columns.
const orderCoupon = `SELECT c.id AS coupon, c.status, c.order_id AS held_by, o.status AS order_status, o.paid_at
	FROM orders o JOIN coupons c ON c.id = o.coupon_id`

var couponChecks = []sqlCheck{
	{
		name:    "coupons: issued_value ≤ budget",
		figures: `SELECT COUNT(*), COALESCE(SUM(issued_value), 0), COALESCE(SUM(budget), 0) FROM coupon_campaigns`,
		format:  "%d campaigns, %d fen issued of %d budgeted",
		offenders: `SELECT id AS campaign, issued_value, budget FROM coupon_campaigns
			WHERE issued_value > budget OR issued_value < 0 ORDER BY id`,
	},
	{
		name:    "coupons: issued_value = packs × pack_value (and packs_claimed = packs)",
		figures: `SELECT COUNT(*) FROM (SELECT DISTINCT campaign_id, member_id FROM coupons) p`,
		format:  "%d packs claimed",
		offenders: `SELECT c.id AS campaign, c.issued_value, c.pack_value, COALESCE(p.packs, 0) AS packs, c.packs_claimed
			FROM coupon_campaigns c LEFT JOIN (SELECT campaign_id, COUNT(DISTINCT member_id) AS packs FROM coupons
				GROUP BY campaign_id) p ON p.campaign_id = c.id
			WHERE c.issued_value <> COALESCE(p.packs, 0) * c.pack_value OR c.packs_claimed <> COALESCE(p.packs, 0)
			ORDER BY c.id`,
	},
	{
		name:    "coupons: one pack per member, one coupon of each tier",
		figures: `SELECT COUNT(*) FROM coupons`,
		format:  "%d coupons",
		offenders: `SELECT x.campaign_id AS campaign, x.member_id AS member, x.coupons, x.tiers_covered, t.tiers
			FROM (SELECT campaign_id, member_id, COUNT(*) AS coupons, COUNT(DISTINCT tier_id) AS tiers_covered
				FROM coupons GROUP BY campaign_id, member_id) x
			JOIN (SELECT campaign_id, COUNT(*) AS tiers FROM coupon_tiers GROUP BY campaign_id) t ON t.campaign_id = x.campaign_id
			WHERE x.coupons <> t.tiers OR x.tiers_covered <> t.tiers ORDER BY x.campaign_id, x.member_id`,
	},
	{
		name: "coupons: RESERVED exactly while its order awaits payment",
		figures: `SELECT (SELECT COUNT(*) FROM coupons WHERE status = 'RESERVED'),
			(SELECT COUNT(*) FROM orders WHERE coupon_id IS NOT NULL AND status = 'PENDING_PAYMENT')`,
		format: "%d coupons RESERVED, %d orders with a coupon awaiting payment",
		offenders: couponOrder + ` WHERE (c.status = 'RESERVED' AND (o.id IS NULL OR o.status <> 'PENDING_PAYMENT'))
				OR (c.status <> 'RESERVED' AND o.status = 'PENDING_PAYMENT')
			UNION ` + orderCoupon + ` WHERE o.status = 'PENDING_PAYMENT'
				AND (c.status <> 'RESERVED' OR c.order_id IS NULL OR c.order_id <> o.id)
			ORDER BY coupon`,
	},
	{
		name: "coupons: USED exactly when its order was paid",
		figures: `SELECT (SELECT COUNT(*) FROM coupons WHERE status = 'USED'),
			(SELECT COUNT(*) FROM orders WHERE coupon_id IS NOT NULL AND paid_at IS NOT NULL)`,
		format: "%d coupons USED, %d paid orders with a coupon",
		offenders: couponOrder + ` WHERE (c.status = 'USED' AND (o.id IS NULL OR o.paid_at IS NULL))
				OR (c.status <> 'USED' AND o.paid_at IS NOT NULL)
			UNION ` + orderCoupon + ` WHERE o.paid_at IS NOT NULL
				AND (c.status <> 'USED' OR c.order_id IS NULL OR c.order_id <> o.id)
			ORDER BY coupon`,
	},
	{
		name:      "coupons: an AVAILABLE coupon has no order",
		figures:   `SELECT COUNT(*) FROM coupons WHERE status = 'AVAILABLE'`,
		format:    "%d coupons AVAILABLE",
		offenders: `SELECT id AS coupon, status, order_id AS held_by FROM coupons WHERE status = 'AVAILABLE' AND order_id IS NOT NULL ORDER BY id`,
	},
}

// dailyQuotaCheck counts each campaign's packs by the Asia/Shanghai
// calendar day of their coupons' claimed_at (a pack's coupons are claimed
// at once), against daily_pack_quota.
func dailyQuotaCheck(ctx context.Context, db *sql.DB) Check {
	c := Check{Name: "coupons: packs per Asia/Shanghai day ≤ daily_pack_quota"}
	fail := func(err error) Check {
		c.Violations = append(c.Violations, "cannot check: "+err.Error())
		return c
	}
	quotas := map[string]sql.NullInt64{}
	rows, err := db.QueryContext(ctx, `SELECT id, daily_pack_quota FROM coupon_campaigns`)
	if err != nil {
		return fail(err)
	}
	for rows.Next() {
		var id string
		var q sql.NullInt64
		if err := rows.Scan(&id, &q); err != nil {
			rows.Close()
			return fail(err)
		}
		quotas[id] = q
	}
	rows.Close()
	type pack struct{ campaign, member string }
	first := map[pack]time.Time{}
	rows, err = db.QueryContext(ctx, `SELECT campaign_id, member_id, claimed_at FROM coupons`)
	if err != nil {
		return fail(err)
	}
	for rows.Next() {
		var p pack
		var at time.Time
		if err := rows.Scan(&p.campaign, &p.member, &at); err != nil {
			rows.Close()
			return fail(err)
		}
		if t, ok := first[p]; !ok || at.Before(t) {
			first[p] = at
		}
	}
	if err := rows.Close(); err != nil {
		return fail(err)
	}
	type campaignDay struct{ campaign, day string }
	perDay := map[campaignDay]int{}
	for p, at := range first {
		perDay[campaignDay{p.campaign, coupons.Day(at)}]++
	}
	keys := make([]campaignDay, 0, len(perDay))
	fullest := 0
	for k, n := range perDay {
		keys = append(keys, k)
		fullest = max(fullest, n)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].campaign != keys[j].campaign {
			return keys[i].campaign < keys[j].campaign
		}
		return keys[i].day < keys[j].day
	})
	for _, k := range keys {
		if q := quotas[k.campaign]; q.Valid && int64(perDay[k]) > q.Int64 {
			c.Violations = append(c.Violations, fmt.Sprintf("campaign=%s day=%s packs=%d daily_pack_quota=%d",
				k.campaign, k.day, perDay[k], q.Int64))
		}
	}
	c.Figures = fmt.Sprintf("%d packs on %d campaign-days, at most %d on one", len(first), len(perDay), fullest)
	return c
}

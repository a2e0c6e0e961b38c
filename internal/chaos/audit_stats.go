package chaos

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"

	"unionmall/internal/money"
)

// PlatformStats is the contract's PlatformStats without updatedAt, as
// answered (Money as its decimal string).
type PlatformStats struct {
	PurchasingUnits    int    `json:"purchasingUnits"`
	Members            int    `json:"members"`
	VerifiedMembers    int    `json:"verifiedMembers"`
	OnlineProcurement  string `json:"onlineProcurement"`
	OfflineProcurement string `json:"offlineProcurement"`
	TotalProcurement   string `json:"totalProcurement"`
	PaidOrders         int    `json:"paidOrders"`
	Beneficiaries      int    `json:"beneficiaries"`
	CouponsIssued      int    `json:"couponsIssued"`
	CouponsRedeemed    int    `json:"couponsRedeemed"`
}

// PlatformStatsQuery asks for every field of PlatformStats.
const PlatformStatsQuery = `{ platformStats { purchasingUnits members verifiedMembers onlineProcurement
	offlineProcurement totalProcurement paidOrders beneficiaries couponsIssued couponsRedeemed } }`

// StatsSeen is one instance's platformStats answer.
type StatsSeen struct {
	Instance string
	Stats    PlatformStats
}

// platformFromRows sums internal/stats' figures from the rows: online
// procurement and paid orders are orders PAID, SHIPPED or COMPLETED; a
// supplier's beneficiaries count once it has a product in such an order or
// a procurement record.
const platformFromRows = `SELECT
	(SELECT COUNT(*) FROM purchasing_units),
	(SELECT COUNT(*) FROM members),
	(SELECT COUNT(*) FROM members WHERE verification_status = 'VERIFIED'),
	(SELECT COALESCE(SUM(total), 0) FROM orders WHERE status IN ` + paidStates + `),
	(SELECT COALESCE(SUM(amount), 0) FROM procurement_records WHERE channel = 'OFFLINE'),
	(SELECT COUNT(*) FROM orders WHERE status IN ` + paidStates + `),
	(SELECT COALESCE(SUM(s.beneficiaries), 0) FROM suppliers s WHERE
		EXISTS (SELECT 1 FROM products p JOIN order_items i ON i.product_id = p.id JOIN orders o ON o.id = i.order_id
			WHERE p.supplier_id = s.id AND o.status IN ` + paidStates + `)
		OR EXISTS (SELECT 1 FROM procurement_records r WHERE r.supplier_id = s.id)),
	(SELECT COUNT(*) FROM coupons),
	(SELECT COUNT(*) FROM coupons WHERE status = 'USED')`

// StatsFromRows computes PlatformStats from the database.
func StatsFromRows(ctx context.Context, db *sql.DB) (PlatformStats, error) {
	v, err := ints(ctx, db, platformFromRows)
	if err != nil {
		return PlatformStats{}, err
	}
	n := func(i int) int { return int(v[i].(int64)) }
	fen := func(i int) money.Fen { return money.Fen(v[i].(int64)) }
	return PlatformStats{
		PurchasingUnits: n(0), Members: n(1), VerifiedMembers: n(2),
		OnlineProcurement: fen(3).String(), OfflineProcurement: fen(4).String(), TotalProcurement: (fen(3) + fen(4)).String(),
		PaidOrders: n(5), Beneficiaries: n(6), CouponsIssued: n(7), CouponsRedeemed: n(8),
	}, nil
}

func statsCheck(ctx context.Context, db *sql.DB, seen []StatsSeen) Check {
	c := Check{Name: "platformStats = the same figures summed from the rows"}
	want, err := StatsFromRows(ctx, db)
	if err != nil {
		c.Violations = append(c.Violations, "cannot check: "+err.Error())
		return c
	}
	c.Figures = fmt.Sprintf("%d answers; rows: %+v", len(seen), want)
	for _, s := range seen {
		if d := statsDiff(s.Stats, want); d != "" {
			c.Violations = append(c.Violations, fmt.Sprintf("instance %s answered %s", s.Instance, d))
		}
	}
	return c
}

// statsDiff lists the fields in which got differs from want.
func statsDiff(got, want PlatformStats) string {
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	var out []string
	for i := range g.NumField() {
		if g.Field(i).Interface() != w.Field(i).Interface() {
			out = append(out, fmt.Sprintf("%s %v (rows: %v)", g.Type().Field(i).Tag.Get("json"), g.Field(i), w.Field(i)))
		}
	}
	return strings.Join(out, ", ")
}

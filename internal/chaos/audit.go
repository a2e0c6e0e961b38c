package chaos

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// A Check is one invariant as audited: its name, the figures it was
// checked on, and the rows (or answers) that break it, one line each.
type Check struct {
	Name       string
	Figures    string
	Violations []string
}

// OK reports whether nothing breaks the invariant.
func (c Check) OK() bool { return len(c.Violations) == 0 }

// Failed lists the checks that found violations.
func Failed(checks []Check) []Check {
	var out []Check
	for _, c := range checks {
		if !c.OK() {
			out = append(out, c)
		}
	}
	return out
}

// Audit checks the mall's invariants from the database alone, in SQL over
// the rows: flash sales (AuditFlashSales), stock conservation and sold
// counts, coupon campaigns and coupons, payments against their orders, and
// — for each platformStats answer in seen — that it equals the same figures
// summed from the rows. It reads PostgreSQL and SQLite alike. A check whose query fails reports that as its violation.
func Audit(ctx context.Context, db *sql.DB, seen ...StatsSeen) []Check {
	checks := AuditFlashSales(ctx, db)
	checks = append(checks, runSQLChecks(ctx, db, stockChecks)...)
	checks = append(checks, runSQLChecks(ctx, db, couponChecks)...)
	checks = append(checks, runSQLChecks(ctx, db, paymentChecks)...)
	checks = append(checks, dailyQuotaCheck(ctx, db))
	if len(seen) > 0 {
		checks = append(checks, statsCheck(ctx, db, seen))
	}
	return checks
}

// AuditFlashSales checks every flash sale: sold never passes quantity;
// sold equals the units of its live orders; each holding equals its
// member's live units in the sale; nobody is above per_member_limit, by
// holdings or by live orders.
func AuditFlashSales(ctx context.Context, db *sql.DB) []Check {
	return runSQLChecks(ctx, db, flashChecks)
}

// The order states that hold stock, flash-sale units and coupons, and
// those that count as paid (online procurement).
const (
	liveStates = `('PENDING_PAYMENT', 'PAID', 'SHIPPED', 'COMPLETED')`
	paidStates = `('PAID', 'SHIPPED', 'COMPLETED')`
)

// An sqlCheck is an invariant written as two queries: one row of integer
// figures (shown with format), and the rows that break it.
type sqlCheck struct {
	name      string
	figures   string
	format    string
	offenders string
}

func runSQLChecks(ctx context.Context, db *sql.DB, list []sqlCheck) []Check {
	out := make([]Check, 0, len(list))
	for _, c := range list {
		out = append(out, c.run(ctx, db))
	}
	return out
}

func (c sqlCheck) run(ctx context.Context, db *sql.DB) Check {
	out := Check{Name: c.name}
	figs, err := ints(ctx, db, c.figures)
	if err != nil {
		out.Violations = append(out.Violations, "cannot check: "+err.Error())
		return out
	}
	out.Figures = fmt.Sprintf(c.format, figs...)
	rows, err := rowLines(ctx, db, c.offenders)
	if err != nil {
		out.Violations = append(out.Violations, "cannot check: "+err.Error())
		return out
	}
	out.Violations = rows
	return out
}

// scan runs a query and calls row with each row, its columns scanned into
// vals (one slice, reused for every row).
func scan[T any](ctx context.Context, db *sql.DB, query string, row func(cols []string, vals []T)) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]T, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		row(cols, vals)
	}
	return rows.Err()
}

// ints runs a query returning one row of integers.
func ints(ctx context.Context, db *sql.DB, query string) ([]any, error) {
	var out []any
	err := scan(ctx, db, query, func(_ []string, vals []int64) {
		for _, v := range vals {
			out = append(out, v)
		}
	})
	if err == nil && out == nil {
		err = fmt.Errorf("no row from %s", firstLine(query))
	}
	return out, err
}

// rowLines runs a query and renders each row as "column=value ...".
func rowLines(ctx context.Context, db *sql.DB, query string) ([]string, error) {
	var out []string
	err := scan(ctx, db, query, func(cols []string, vals []sql.NullString) {
		parts := make([]string, len(cols))
		for i, v := range vals {
			s := "NULL"
			if v.Valid {
				s = v.String
			}
			parts[i] = cols[i] + "=" + s
		}
		out = append(out, strings.Join(parts, " "))
	})
	return out, err
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i > 0 {
		return s[:i]
	}
	return s
}

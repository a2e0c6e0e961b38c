package chaos

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"unionmall/internal/chaos/harness"
)

// settle waits until the instances have expired every order due and
// settled every sale that ended (its check lists what is still due after
// a while), then lets platformStats' caches run out and asks each instance
// for it.
func (w *workload) settle(ctx context.Context, pool *sql.DB, instances []*harness.Instance) (Check, []StatsSeen, error) {
	c := Check{Name: "background work: every order past payBy expired, every ended sale settled, on their own"}
	if err := awaitReady(instances, 30*time.Second); err != nil {
		return c, nil, err
	}
	// Wait for what falls due within the payment window (plus time for
	// the workers): every order of the run, unless the window is long.
	t0 := time.Now()
	wait := min(w.cfg.PaymentWindow, time.Minute) + 15*time.Second
	until := t0.Add(min(w.cfg.PaymentWindow, time.Minute))
	for {
		var pending, soon, due, unsettled int
		err := pool.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM orders WHERE status = 'PENDING_PAYMENT'),
			(SELECT COUNT(*) FROM orders WHERE status = 'PENDING_PAYMENT' AND pay_by <= $1),
			(SELECT COUNT(*) FROM orders WHERE status = 'PENDING_PAYMENT' AND pay_by <= now()),
			(SELECT COUNT(*) FROM flash_sales WHERE settled_at IS NULL AND ends_at <= now())`, until).Scan(&pending, &soon, &due, &unsettled)
		if err == nil && soon == 0 && unsettled == 0 {
			c.Figures = fmt.Sprintf("nothing due %s after the run; %d orders still within their payment window",
				time.Since(t0).Round(100*time.Millisecond), pending)
			break
		}
		if err == nil && time.Since(t0) > wait {
			c.Figures = fmt.Sprintf("%d orders past payBy still awaiting payment, %d ended sales unsettled, %s after the run", due, unsettled, wait)
			rows, err := rowLines(ctx, pool, `SELECT id AS order_id, buyer_id, flash_sale_id, pay_by FROM orders
				WHERE status = 'PENDING_PAYMENT' AND pay_by <= now()
				UNION ALL SELECT id, '', 'unsettled sale', ends_at FROM flash_sales WHERE settled_at IS NULL AND ends_at <= now()
				ORDER BY 4 LIMIT 200`)
			if err != nil {
				rows = []string{"cannot list them: " + err.Error()}
			}
			c.Violations = rows
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	time.Sleep(statsTTL)
	var seen []StatsSeen
	for i, in := range instances {
		e, r := w.send(op{kind: kindStats, member: -1, token: -1, doc: PlatformStatsQuery, instance: i})
		var v struct{ PlatformStats PlatformStats }
		if e.Outcome != OK || decode(r, &v) != nil {
			return c, nil, fmt.Errorf("chaos: platformStats from %s: %s %s", in.Name, e.Outcome, e.Message)
		}
		seen = append(seen, StatsSeen{Instance: in.Name, Stats: v.PlatformStats})
	}
	return c, seen, nil
}

// statsTTL is a little more than how long an instance keeps platformStats
// when other instances changed them (internal/server: 2 s).
const statsTTL = 2500 * time.Millisecond

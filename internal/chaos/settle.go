package chaos

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"unionmall/internal/chaos/harness"
	"unionmall/internal/wechatpay/wechatpaytest"
)

// settle waits until the instances have expired every order due, settled
// every sale that ended, and closed or settled every payment due, until
// WeChat Pay's refunds are confirmed and its notifications answered (its
// checks list what is still due after a while); then it lets
// platformStats' caches run out and asks each instance for it.
func (w *workload) settle(ctx context.Context, pool *sql.DB, instances []*harness.Instance) ([]Check, []StatsSeen, error) {
	c := Check{Name: "background work: every order past payBy expired, every ended sale settled, on their own"}
	pc := Check{Name: "payments: none PENDING for an order closed or due, none REFUNDING, no notification pending or held, after settling"}
	if err := awaitReady(instances, 30*time.Second); err != nil {
		return nil, nil, err
	}
	// Wait for what falls due within the payment window (plus time for
	// the workers): every order of the run, unless the window is long.
	t0 := time.Now()
	wait := min(w.cfg.PaymentWindow, time.Minute) + 15*time.Second
	until := t0.Add(min(w.cfg.PaymentWindow, time.Minute))
	lastOwed := "none"
	for {
		var pending, soon, due, unsettled, unclosed, refunding int
		err := pool.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM orders WHERE status = 'PENDING_PAYMENT'),
			(SELECT COUNT(*) FROM orders WHERE status = 'PENDING_PAYMENT' AND pay_by <= $1),
			(SELECT COUNT(*) FROM orders WHERE status = 'PENDING_PAYMENT' AND pay_by <= now()),
			(SELECT COUNT(*) FROM flash_sales WHERE settled_at IS NULL AND ends_at <= now()),
			(SELECT COUNT(*) FROM payments p JOIN orders o ON o.id = p.order_id
				WHERE p.status = 'PENDING' AND (o.status <> 'PENDING_PAYMENT' OR o.pay_by <= $1)),
			(SELECT COUNT(*) FROM payments WHERE status = 'REFUNDING')`, until).Scan(&pending, &soon, &due, &unsettled, &unclosed, &refunding)
		posting := unanswered(w.fake.Deliveries())
		if err == nil && unclosed+refunding+len(posting) > 0 {
			lastOwed = fmt.Sprintf("%d PENDING for an order closed or due, %d REFUNDING, %d notifications unanswered, %s after the run",
				unclosed, refunding, len(posting), time.Since(t0).Round(100*time.Millisecond))
		}
		if err == nil && soon == 0 && unsettled == 0 && unclosed == 0 && refunding == 0 && len(posting) == 0 {
			took := time.Since(t0).Round(100 * time.Millisecond)
			c.Figures = fmt.Sprintf("nothing due %s after the run; %d orders still within their payment window", took, pending)
			pc.Figures = fmt.Sprintf("nothing owed %s after the run; owed last: %s", took, lastOwed)
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
			pc.Figures = fmt.Sprintf("%d payments PENDING for an order closed or due, %d REFUNDING, %d notifications unanswered, %s after the run",
				unclosed, refunding, len(posting), wait)
			if rows, err = rowLines(ctx, pool, `SELECT p.id AS payment, p.order_id, p.out_trade_no, p.status, o.status AS order_status,
					o.pay_by, p.out_refund_no, p.refund_id, p.next_check_at, p.attempts
				FROM payments p JOIN orders o ON o.id = p.order_id
				WHERE (p.status = 'PENDING' AND (o.status <> 'PENDING_PAYMENT' OR o.pay_by <= now())) OR p.status = 'REFUNDING'
				ORDER BY p.order_id LIMIT 200`); err != nil {
				rows = []string{"cannot list them: " + err.Error()}
			}
			pc.Violations = append(rows, posting...)
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
			return nil, nil, fmt.Errorf("chaos: platformStats from %s: %s %s", in.Name, e.Outcome, e.Message)
		}
		seen = append(seen, StatsSeen{Instance: in.Name, Stats: v.PlatformStats})
	}
	return []Check{c, pc}, seen, nil
}

// unanswered lists the notifications still being posted or held.
func unanswered(ds []wechatpaytest.Delivery) []string {
	var out []string
	for _, d := range ds {
		if d.State == wechatpaytest.Pending || d.State == wechatpaytest.Held {
			out = append(out, fmt.Sprintf("%s %s of %s: %s, %d posts", d.Event, d.ID, d.Key, d.State, len(d.Attempts)))
		}
	}
	return out
}

// statsTTL is a little more than how long an instance keeps platformStats
// when other instances changed them (internal/server: 2 s).
const statsTTL = 2500 * time.Millisecond

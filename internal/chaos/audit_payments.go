package chaos

// closedStates are the states of an order closed unpaid.
const closedStates = `('EXPIRED', 'CANCELLED')`

// keptMoney is a payment whose money the mall keeps: PAID, or a refund
// asked of a paid order (not a late payment's) that WeChat Pay has not
// confirmed yet.
const keptMoney = `(p.status = 'PAID' OR (p.status = 'REFUNDING' AND NOT p.late))`

// paymentPairs lists each payment with its order.
const paymentPairs = `SELECT p.id AS payment, p.order_id, p.status, p.late, o.status AS order_status,
		p.amount, o.total, p.provider_transaction_id, o.payment_reference
	FROM payments p JOIN orders o ON o.id = p.order_id`

// Payments through a provider (the payments table) against their orders.
var paymentChecks = []sqlCheck{
	{
		name:    "payments: one per order, one per provider transaction, one per refund; a payment reference pays one order",
		figures: `SELECT COUNT(*), COUNT(DISTINCT order_id), COUNT(provider_transaction_id), COUNT(out_refund_no) FROM payments`,
		format:  "%d payments of %d orders, %d with a provider transaction, %d with a refund asked",
		offenders: `SELECT 'order_id' AS what, order_id AS value, COUNT(*) AS payments FROM payments
				GROUP BY order_id HAVING COUNT(*) > 1
			UNION ALL SELECT 'provider_transaction_id', provider_transaction_id, COUNT(*) FROM payments
				WHERE provider_transaction_id IS NOT NULL GROUP BY provider_transaction_id HAVING COUNT(*) > 1
			UNION ALL SELECT 'out_refund_no', out_refund_no, COUNT(*) FROM payments
				WHERE out_refund_no IS NOT NULL GROUP BY out_refund_no HAVING COUNT(*) > 1
			UNION ALL SELECT 'orders.payment_reference', payment_reference, COUNT(*) FROM orders
				WHERE payment_reference IS NOT NULL GROUP BY payment_reference HAVING COUNT(*) > 1
			ORDER BY 1, 2`,
	},
	{
		// Of the order's total. PENDING: started (any order state until the
		// worker closes it);
		// CLOSED: never paid, its order no longer awaiting payment; PAID
		// (or a refund under way): the order paid by that transaction;
		// REFUNDED: the order refunded; late refunds: the order closed, or
		// paid by another reference (by hand).
		name: "payments: each agrees with its order (no order paid by a payment it does not hold, no PAID payment's order expired or cancelled)",
		figures: `SELECT
			(SELECT COUNT(*) FROM payments WHERE status = 'PAID'), (SELECT COUNT(*) FROM payments WHERE status = 'REFUNDING'),
			(SELECT COUNT(*) FROM payments WHERE status = 'REFUNDED'), (SELECT COUNT(*) FROM payments WHERE late),
			(SELECT COUNT(*) FROM payments WHERE status = 'CLOSED'), (SELECT COUNT(*) FROM payments WHERE status = 'PENDING')`,
		format: "%d PAID, %d REFUNDING, %d REFUNDED, %d late (paid after their order closed), %d CLOSED, %d PENDING",
		offenders: paymentPairs + ` WHERE p.amount <> o.total OR NOT (
				(p.status = 'PENDING' AND p.provider_transaction_id IS NULL)
				OR (p.status = 'CLOSED' AND p.provider_transaction_id IS NULL AND o.status <> 'PENDING_PAYMENT')
				OR (` + keptMoney + ` AND o.status IN ` + paidStates + ` AND o.payment_reference = p.provider_transaction_id)
				OR (p.status = 'REFUNDED' AND NOT p.late AND o.status = 'REFUNDED' AND o.payment_reference = p.provider_transaction_id)
				OR (p.status IN ('REFUNDING', 'REFUNDED') AND p.late
					AND (o.status IN ` + closedStates + ` OR o.payment_reference <> p.provider_transaction_id)))
			ORDER BY p.order_id`,
	},
	{
		name:    "orders: none expired or cancelled after it was paid",
		figures: `SELECT COUNT(*) FROM orders WHERE status IN ` + closedStates,
		format:  "%d orders expired or cancelled",
		offenders: `SELECT id AS order_id, status, paid_at, payment_reference FROM orders
			WHERE status IN ` + closedStates + ` AND (paid_at IS NOT NULL OR payment_reference IS NOT NULL) ORDER BY id`,
	},
}

package chaos

// liveFlashUnits is, per sale and member, the units of their live orders
// of that sale.
const liveFlashUnits = `SELECT o.flash_sale_id, o.buyer_id, SUM(i.quantity) AS units
	FROM orders o JOIN order_items i ON i.order_id = o.id
	WHERE o.flash_sale_id IS NOT NULL AND o.status IN ` + liveStates + `
	GROUP BY o.flash_sale_id, o.buyer_id`

var flashChecks = []sqlCheck{
	{
		name:    "flash sales: sold ≤ quantity",
		figures: `SELECT COUNT(*), COALESCE(SUM(sold), 0), COALESCE(SUM(quantity), 0) FROM flash_sales`,
		format:  "%d sales, %d units sold of %d",
		offenders: `SELECT id AS flash_sale, sold, quantity FROM flash_sales
			WHERE sold > quantity OR sold < 0 ORDER BY id`,
	},
	{
		name:    "flash sales: sold = units of live orders",
		figures: `SELECT COALESCE(SUM(units), 0), COUNT(*) FROM (` + liveFlashUnits + `) l`,
		format:  "%d units in live orders of %d member-sale pairs",
		offenders: `SELECT s.id AS flash_sale, s.sold, COALESCE(l.units, 0) AS live_units
			FROM flash_sales s LEFT JOIN (SELECT flash_sale_id, SUM(units) AS units FROM (` + liveFlashUnits + `) x
				GROUP BY flash_sale_id) l ON l.flash_sale_id = s.id
			WHERE s.sold <> COALESCE(l.units, 0) ORDER BY s.id`,
	},
	{
		name:    "flash sales: each holding = its member's live units",
		figures: `SELECT COUNT(*), COALESCE(SUM(units), 0) FROM flash_sale_holdings`,
		format:  "%d holdings of %d units",
		offenders: `SELECT flash_sale, member, SUM(held) AS held, SUM(live) AS live_units FROM (
				SELECT flash_sale_id AS flash_sale, member_id AS member, units AS held, 0 AS live FROM flash_sale_holdings
				UNION ALL
				SELECT flash_sale_id, buyer_id, 0, units FROM (` + liveFlashUnits + `) l
			) x GROUP BY flash_sale, member HAVING SUM(held) <> SUM(live) ORDER BY flash_sale, member`,
	},
	{
		name: "flash sales: nobody above per_member_limit (holdings)",
		figures: `SELECT COALESCE(MAX(h.units), 0), COALESCE(SUM(CASE WHEN h.units >= s.per_member_limit THEN 1 ELSE 0 END), 0)
			FROM flash_sale_holdings h JOIN flash_sales s ON s.id = h.flash_sale_id`,
		format: "largest holding %d; %d holdings at or above the limit",
		offenders: `SELECT h.flash_sale_id AS flash_sale, h.member_id AS member, h.units, s.per_member_limit
			FROM flash_sale_holdings h JOIN flash_sales s ON s.id = h.flash_sale_id
			WHERE h.units > s.per_member_limit ORDER BY h.flash_sale_id, h.member_id`,
	},
	{
		name: "flash sales: nobody above per_member_limit (live orders)",
		figures: `SELECT COALESCE(MAX(l.units), 0), COALESCE(SUM(CASE WHEN l.units >= s.per_member_limit THEN 1 ELSE 0 END), 0)
			FROM (` + liveFlashUnits + `) l JOIN flash_sales s ON s.id = l.flash_sale_id`,
		format: "most live units of one member in one sale %d; %d members at or above the limit",
		offenders: `SELECT l.flash_sale_id AS flash_sale, l.buyer_id AS member, l.units AS live_units, s.per_member_limit
			FROM (` + liveFlashUnits + `) l JOIN flash_sales s ON s.id = l.flash_sale_id
			WHERE l.units > s.per_member_limit ORDER BY l.flash_sale_id, l.buyer_id`,
	},
	{
		// Sold: counted in sold (a live order). A unit whose money the mall
		// keeps is sold; a returned unit's payment, if any, is refunded.
		name: "flash sales: a unit paid for through a provider stays sold, a returned unit's payment is refunded",
		figures: `SELECT
			(SELECT COALESCE(SUM(i.quantity), 0) FROM orders o JOIN order_items i ON i.order_id = o.id JOIN payments p ON p.order_id = o.id
				WHERE o.flash_sale_id IS NOT NULL AND ` + keptMoney + `),
			(SELECT COALESCE(SUM(i.quantity), 0) FROM orders o JOIN order_items i ON i.order_id = o.id JOIN payments p ON p.order_id = o.id
				WHERE o.flash_sale_id IS NOT NULL AND p.late)`,
		format: "%d units paid for and kept; %d units returned whose late payment was refunded",
		offenders: `SELECT o.id AS order_id, o.flash_sale_id, o.status AS order_status, p.status AS payment, p.late
			FROM orders o JOIN payments p ON p.order_id = o.id
			WHERE o.flash_sale_id IS NOT NULL AND ` + keptMoney + ` AND o.status NOT IN ` + paidStates + `
			ORDER BY o.id`,
	},
}

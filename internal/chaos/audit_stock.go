package chaos

// unitsIn sums, per product, the units of its order lines in orders
// matching the condition on o.
func unitsIn(cond string) string {
	return `(SELECT COALESCE(SUM(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id
		WHERE i.product_id = p.id AND ` + cond + `)`
}

// Stock conservation: every unit a product ever received (stock_received:
// its initial stock and every stockDelta) is in stock, in a live order, gone
// with a refunded order that had shipped, or still in a flash sale that has
// not been settled (its quantity - sold; settling sends those back to
// stock).
var stockChecks = []sqlCheck{{
	name:    "stock: stock + live units + shipped refunds + unsold units of unsettled sales = stock_received",
	figures: `SELECT COUNT(*), COALESCE(SUM(stock), 0), COALESCE(SUM(stock_received), 0) FROM products`,
	format:  "%d products, %d units in stock of %d received",
	offenders: `SELECT * FROM (SELECT p.id AS product, p.stock,
			` + unitsIn(`o.status IN `+liveStates) + ` AS live_units,
			` + unitsIn(`o.status = 'REFUNDED' AND o.shipped_at IS NOT NULL`) + ` AS shipped_refunds,
			(SELECT COALESCE(SUM(s.quantity - s.sold), 0) FROM flash_sales s
				WHERE s.product_id = p.id AND s.settled_at IS NULL) AS unsettled_sale_units,
			p.stock_received
		FROM products p) x
		WHERE stock + live_units + shipped_refunds + unsettled_sale_units <> stock_received ORDER BY product`,
}, {
	name:    "stock: sold_count = units of paid orders",
	figures: `SELECT COALESCE(SUM(sold_count), 0) FROM products`,
	format:  "%d units sold",
	offenders: `SELECT * FROM (SELECT p.id AS product, p.sold_count, ` + unitsIn(`o.status IN `+paidStates) + ` AS paid_units
		FROM products p) x WHERE sold_count <> paid_units ORDER BY product`,
}}

package orders_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// ExpireDue does not stop at an order whose expiry fails: the due orders
// after it expire (their stock back), and the error it returns names the
// one that failed, which is left as it was.
func TestExpireDueGoesOnPastAFailure(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		buyer := m.Verified("过期")
		product := m.NewProduct("20.00", 100)
		sale := m.NewFlashSale(m.NewProduct("30.00", 100), "1.00", 10, 5)

		bad := orderID(t, m.Do(buyer.Token, buyQ, buyVars(sale, "K-bad")))
		good := []string{
			orderID(t, m.Do(buyer.Token, placeQ, placeVars(product, 2, "K-good-1"))),
			orderID(t, m.Do(buyer.Token, placeQ, placeVars(product, 3, "K-good-2"))),
		}
		// All due, the flash-sale order first; its sale row says it sold
		// nothing, so giving its unit back fails.
		now := time.Now().UTC()
		for i, id := range append([]string{bad}, good...) {
			payBy := now.Add(time.Duration(i-10) * time.Minute)
			if _, err := d.Pool.Exec(d.Q(`UPDATE orders SET pay_by = ? WHERE id = ?`), payBy, id); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.Pool.Exec(d.Q(`UPDATE flash_sales SET sold = 0 WHERE id = ?`), sale); err != nil {
			t.Fatal(err)
		}
		holding := func() int {
			return d.Int(t, `SELECT COALESCE(SUM(units), 0) FROM flash_sale_holdings WHERE flash_sale_id = ?`, sale)
		}
		heldBefore := holding()
		status := func(id string) string {
			var s string
			if err := d.Pool.QueryRow(d.Q(`SELECT status FROM orders WHERE id = ?`), id).Scan(&s); err != nil {
				t.Fatal(err)
			}
			return s
		}

		n, err := m.Server.Orders.ExpireDue(context.Background(), 100)

		for _, id := range good {
			if s := status(id); s != "EXPIRED" {
				t.Errorf("the due order %s after the failing one: %s, want EXPIRED", id, s)
			}
		}
		if stock := d.Int(t, `SELECT stock FROM products WHERE id = ?`, product); stock != 100 {
			t.Errorf("stock %d after the expiries, want 100 back", stock)
		}
		if n != len(good) {
			t.Errorf("ExpireDue expired %d, want %d", n, len(good))
		}
		if err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ExpireDue's error %v, want one naming %s", err, bad)
		}
		if s, sold, held := status(bad), d.Int(t, `SELECT sold FROM flash_sales WHERE id = ?`, sale), holding(); s != "PENDING_PAYMENT" || sold != 0 || held != heldBefore {
			t.Errorf("the failing order was partly written: status %s, sold %d, held %d (want PENDING_PAYMENT, 0, %d)", s, sold, held, heldBefore)
		}
	})
}

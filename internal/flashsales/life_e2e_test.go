package flashsales_test

import (
	"sync"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// The same idempotency key sent many times at once by one buyer returns one
// order; a different key is a second purchase (refused by the limit).
func TestFlashSaleIdempotency(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		oil := servertest.OilProduct(t, m, 100)
		now := time.Now().UTC()
		sale := servertest.CreateSale(t, m, oil, "1", 10, 1, now.Add(-time.Second), now.Add(time.Hour))
		buyer := m.BulkVerified(1)[0]
		const q = `mutation($i: BuyFlashSaleInput!) { buyFlashSale(input: $i) { id } }`
		in := map[string]any{"i": map[string]any{"flashSaleID": sale.ID, "idempotencyKey": "tap-1"}}
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			ids = map[string]int{}
		)
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := servertest.Post(m.HTTP.Client(), m.HTTP.URL, buyer.Token, q, in)
				mu.Lock()
				defer mu.Unlock()
				if err != nil || len(r.Errors) > 0 {
					ids["error"]++
					return
				}
				var out struct{ BuyFlashSale struct{ ID string } }
				r.Decode(t, &out)
				ids[out.BuyFlashSale.ID]++
			}()
		}
		wg.Wait()
		if len(ids) != 1 || ids["error"] != 0 {
			t.Fatalf("answers by order id: %v; want one order for all ten", ids)
		}
		if n := d.Int(t, "SELECT COUNT(*) FROM orders WHERE flash_sale_id = ?", sale.ID); n != 1 {
			t.Fatalf("%d orders", n)
		}
		servertest.WantCode(t, m.Do(buyer.Token, q, map[string]any{"i": map[string]any{"flashSaleID": sale.ID, "idempotencyKey": "tap-2"}}), "LIMIT_EXCEEDED")
		checkFlashInvariants(t, d, sale.ID)
	})
}

// Without any request: an unpaid flash order expires and its unit returns
// to the sale (subscribers see it); when the sale ends, what is unsold goes
// back to the product; a refund of a paid, unshipped order after that
// restocks the product; a shipped one does not.
func TestFlashSaleLifeWithoutRequests(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{PaymentWindow: time.Second})
		oil := servertest.OilProduct(t, m, 100)
		now := time.Now().UTC()
		sale := servertest.CreateSale(t, m, oil, "1", 10, 1, now.Add(-time.Second), now.Add(4*time.Second))
		buyers := m.BulkVerified(3)
		ws := servertest.WatchStock(t, m.HTTP.URL, servertest.TransportWS, nil, sale.ID)
		servertest.WaitSold(t, ws, 0, 2*time.Second)
		var orders []string
		for _, b := range buyers {
			var out struct{ BuyFlashSale struct{ ID, Total string } }
			servertest.MustDo(t, m, b.Token, `mutation($s: ID!) { buyFlashSale(input: {flashSaleID: $s}) { id total } }`,
				map[string]any{"s": sale.ID}, &out)
			orders = append(orders, out.BuyFlashSale.ID)
		}
		servertest.WaitSold(t, ws, 3, 2*time.Second)
		// Pay two of them at once; ship one.
		for _, id := range orders[1:] {
			servertest.MustDo(t, m, m.Admin, `mutation($id: ID!, $ref: String!) { confirmPayment(input: {orderID: $id, paymentReference: $ref, amount: "1.00"}) { status } }`,
				map[string]any{"id": id, "ref": "pay-" + id}, nil)
		}
		servertest.MustDo(t, m, buyers[2].Token, `mutation($id: ID!) { setShippingAddress(orderID: $id, input: {recipient: "张三", phone: "13800000000", region: "陕西省咸阳市秦都区", detail: "人民路1号"}) { id } }`,
			map[string]any{"id": orders[2]}, nil)
		servertest.MustDo(t, m, m.Admin, `mutation($id: ID!) { shipOrder(input: {orderID: $id, trackingNumber: "SF1234"}) { status } }`,
			map[string]any{"id": orders[2]}, nil)
		// The unpaid one expires within a few seconds; its unit comes back.
		servertest.WaitSold(t, ws, 2, 6*time.Second)
		if s := d.Int(t, "SELECT COUNT(*) FROM orders WHERE id = ? AND status = 'EXPIRED'", orders[0]); s != 1 {
			t.Fatal("the unpaid order did not expire")
		}
		// The sale ends on its own: 8 unsold units go back to the product.
		deadline := time.Now().Add(8 * time.Second)
		for d.Int(t, "SELECT COUNT(*) FROM flash_sales WHERE id = ? AND settled_at IS NOT NULL", sale.ID) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the ended sale was not settled")
			}
			time.Sleep(200 * time.Millisecond)
		}
		if stock := d.Int(t, "SELECT stock FROM products WHERE id = ?", oil); stock != 100-10+8 {
			t.Fatalf("stock after settlement %d, want 98", stock)
		}
		// Refunds after the end: the unshipped unit restocks the product,
		// the shipped one does not; sold follows the live orders.
		for _, id := range orders[1:] {
			servertest.MustDo(t, m, m.Admin, `mutation($id: ID!) { refundOrder(input: {orderID: $id, reason: "售后"}) { status } }`,
				map[string]any{"id": id}, nil)
		}
		if stock := d.Int(t, "SELECT stock FROM products WHERE id = ?", oil); stock != 99 {
			t.Fatalf("stock after the refunds %d, want 99", stock)
		}
		checkFlashInvariants(t, d, sale.ID)
		if sold := d.Int(t, "SELECT sold FROM flash_sales WHERE id = ?", sale.ID); sold != 0 {
			t.Fatalf("sold %d after every order was refunded or expired", sold)
		}
	})
}

package orders_test

import (
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// Orders of a settled flash sale stop being live at once: a refund of a
// paid one and a cancel of a pending one both give units back to the sale
// and, the sale being settled, to the product. Both must lock the sale's
// row before the product's, as settlement does. The test holds the
// product's row so that both queue: the refund first, then the cancel.
// (Before, a paid order's refund locked the product first — its sold
// count — and then the sale, while the cancel held the sale and waited
// for the product: PostgreSQL broke the deadlock by failing one of them
// with INTERNAL_SERVER_ERROR.)
func TestRefundAndCancelOfASettledSaleDoNotDeadlock(t *testing.T) {
	d := testdb.Open(t, "postgres")
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	a, b := m.Verified("甲"), m.Verified("乙")
	product := m.NewProduct("30.00", 100)
	sale := m.NewFlashSale(product, "1.00", 10, 2)
	paid := orderID(t, m.Do(a.Token, buyQ, buyVars(sale, "K-a")))
	pending := orderID(t, m.Do(b.Token, buyQ, buyVars(sale, "K-b")))
	m.MustDo(m.Admin, `mutation($i: ConfirmPaymentInput!) { confirmPayment(input: $i) { status } }`,
		map[string]any{"i": map[string]any{"orderID": paid, "paymentReference": "wx-lock-order", "amount": "1.00"}}, nil)
	m.MustDo(m.Admin, `mutation($id: ID!) { endFlashSale(id: $id) { status } }`, map[string]any{"id": sale}, nil)

	lock := d.Hold(t, "SELECT 1 FROM products WHERE id = $1 FOR UPDATE", product)
	refunded, cancelled := make(chan *servertest.Response, 1), make(chan *servertest.Response, 1)
	go func() {
		refunded <- m.Do(m.Admin, `mutation($i: RefundOrderInput!) { refundOrder(input: $i) { status } }`,
			map[string]any{"i": map[string]any{"orderID": paid, "reason": "质量问题"}})
	}()
	lock.AwaitQueued(1, "the refund")
	go func() {
		cancelled <- m.Do(b.Token, `mutation($id: ID!) { cancelOrder(id: $id) { status } }`, map[string]any{"id": pending})
	}()
	lock.AwaitQueued(2, "the cancel")
	lock.Release()
	for what, c := range map[string]chan *servertest.Response{"refund": refunded, "cancel": cancelled} {
		if r := <-c; len(r.Errors) > 0 {
			t.Errorf("%s: %+v", what, r.Errors)
		}
	}
	// Every unit is back in stock: 100 - 10 for the sale, 8 back at the
	// settlement, 2 back now.
	if stock := d.Int(t, "SELECT stock FROM products WHERE id = ?", product); stock != 100 {
		t.Errorf("stock %d, want 100", stock)
	}
}

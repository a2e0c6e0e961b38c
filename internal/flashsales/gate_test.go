package flashsales

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"unionmall/ent"
	"unionmall/ent/county"
	"unionmall/ent/member"
	"unionmall/ent/product"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/role"
	"unionmall/internal/testdb"
)

// The gate's batching: oncePerBuyer alone, then buyers through the
// Service, with the invariants checked from the rows.

func TestOncePerBuyer(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	// req: buyer letter, then "x" when its context is cancelled.
	cases := []struct {
		name              string
		in                []string
		keep, carry, gone []string // gone: answered with the context's error
	}{
		{name: "empty", in: nil},
		{name: "everyone once", in: []string{"a", "b", "c"}, keep: []string{"a", "b", "c"}},
		{name: "a second request waits for the next batch, in order",
			in:   []string{"a1", "b1", "a2", "c1", "a3", "b2"},
			keep: []string{"a1", "b1", "c1"}, carry: []string{"a2", "a3", "b2"}},
		{name: "cancelled requests are answered and dropped",
			in:   []string{"ax", "b1", "cx", "b2x", "b3"},
			keep: []string{"b1"}, carry: []string{"b3"}, gone: []string{"ax", "cx", "b2x"}},
		{name: "a cancelled first request does not hold the buyer's place",
			in: []string{"ax", "a2"}, keep: []string{"a2"}, gone: []string{"ax"}},
		{name: "everyone cancelled", in: []string{"ax", "bx"}, gone: []string{"ax", "bx"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var batch []*buyRequest
			names := map[*buyRequest]string{}
			for _, s := range c.in {
				r := &buyRequest{ctx: live, buyer: gid.ID("mem_" + s[:1]), q: 1, reply: make(chan buyResult, 1)}
				if s[len(s)-1] == 'x' {
					r.ctx = cancelled
				}
				names[r] = s
				batch = append(batch, r)
			}
			keep, carry := oncePerBuyer(slices.Clone(batch))
			nameAll := func(rs []*buyRequest) []string {
				var out []string
				for _, r := range rs {
					out = append(out, names[r])
				}
				return out
			}
			if got := nameAll(keep); !reflect.DeepEqual(got, c.keep) {
				t.Errorf("kept %v, want %v", got, c.keep)
			}
			if got := nameAll(carry); !reflect.DeepEqual(got, c.carry) {
				t.Errorf("carried %v, want %v", got, c.carry)
			}
			var gone []string
			for _, r := range batch {
				select {
				case res := <-r.reply:
					if !errors.Is(res.err, context.Canceled) || res.order != nil {
						t.Errorf("%s answered %+v, want the context's error", names[r], res)
					}
					gone = append(gone, names[r])
				default:
				}
			}
			if !reflect.DeepEqual(gone, c.gone) {
				t.Errorf("answered %v, want %v", gone, c.gone)
			}
		})
	}
}

// seedSale opens a sale of a new product, with the product's whole stock
// (quantity units), for an hour from a second ago.
func seedSale(t *testing.T, d *testdb.DB, svc *Service, quantity, limit int) *ent.FlashSale {
	t.Helper()
	ctx := context.Background()
	c := d.Client.County.Create().SetName("城固县").SetCity("汉中市").SetPovertyStatus(county.PovertyStatusLIFTED).SaveX(ctx)
	s := d.Client.Supplier.Create().SetName("汉中粮油").SetCountyID(c.ID).SetBeneficiaries(10).SaveX(ctx)
	p := d.Client.Product.Create().SetName("菜籽油 5L").SetCategory(product.CategoryGRAIN_OIL).
		SetPrice(7990).SetSalePrice(7990).SetStock(quantity).SetStockReceived(quantity).
		SetSupplierID(s.ID).SetCountyID(c.ID).SaveX(ctx)
	sale, err := svc.Create(ctx, NewSale{ProductID: p.ID, Price: money.Yuan, Quantity: quantity, PerMemberLimit: limit,
		StartsAt: time.Now().Add(-time.Second), EndsAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return sale
}

// seedMembers creates n verified members.
func seedMembers(t *testing.T, d *testdb.DB, n int) []gid.ID {
	t.Helper()
	creates := make([]*ent.MemberCreate, n)
	for i := range creates {
		creates[i] = d.Client.Member.Create().SetPhone(fmt.Sprintf("138%08d", i)).SetPasswordHash("-").
			SetDisplayName(fmt.Sprintf("买家%d", i)).SetRoles(role.Set{role.Member}).
			SetVerificationStatus(member.VerificationStatusVERIFIED)
	}
	ms := d.Client.Member.CreateBulk(creates...).SaveX(context.Background())
	ids := make([]gid.ID, n)
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

const gateLive = `o.status IN ('PENDING_PAYMENT', 'PAID', 'SHIPPED', 'COMPLETED')`

// checkSaleRows checks a sale's invariants from the rows: no oversell,
// sold equal to the units of live orders, every holding equal to its
// member's live units and within the limit, the product's units
// conserved.
func checkSaleRows(t *testing.T, d *testdb.DB, sale *ent.FlashSale, stock int) {
	t.Helper()
	sold := d.Int(t, "SELECT sold FROM flash_sales WHERE id = ?", sale.ID)
	live := d.Int(t, `SELECT COALESCE(SUM(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id
		WHERE o.flash_sale_id = ? AND `+gateLive, sale.ID)
	if sold > sale.Quantity || sold != live {
		t.Errorf("sold %d, units of live orders %d, quantity %d", sold, live, sale.Quantity)
	}
	if n := d.Int(t, `SELECT COUNT(*) FROM flash_sale_holdings h WHERE h.flash_sale_id = ? AND h.units <>
		(SELECT COALESCE(SUM(i.quantity), 0) FROM orders o JOIN order_items i ON i.order_id = o.id
		 WHERE o.flash_sale_id = h.flash_sale_id AND o.buyer_id = h.member_id AND `+gateLive+`)`, sale.ID); n != 0 {
		t.Errorf("%d holdings differ from their member's live units", n)
	}
	if n := d.Int(t, `SELECT COUNT(*) FROM flash_sale_holdings WHERE flash_sale_id = ? AND (units > ? OR per_member_limit <> ?)`,
		sale.ID, sale.PerMemberLimit, sale.PerMemberLimit); n != 0 {
		t.Errorf("%d holdings above (or not carrying) the limit of %d", n, sale.PerMemberLimit)
	}
	if n := d.Int(t, `SELECT COUNT(*) FROM (SELECT o.buyer_id FROM orders o JOIN order_items i ON i.order_id = o.id
		WHERE o.flash_sale_id = ? AND `+gateLive+` GROUP BY o.buyer_id HAVING SUM(i.quantity) > ?) x`,
		sale.ID, sale.PerMemberLimit); n != 0 {
		t.Errorf("%d members hold more than the limit in live orders", n)
	}
	left := d.Int(t, "SELECT stock FROM products WHERE id = ?", sale.ProductID)
	unsold := d.Int(t, "SELECT CASE WHEN settled_at IS NULL THEN quantity - sold ELSE 0 END FROM flash_sales WHERE id = ?", sale.ID)
	if left+live+unsold != stock {
		t.Errorf("stock %d + live units %d + unsold %d != the %d the product had", left, live, unsold, stock)
	}
}

// holdSale takes the sale's row lock (and on SQLite the database's write
// lock) in a transaction of the test's own, as another instance's batch
// would hold it; release commits it.
func holdSale(t *testing.T, d *testdb.DB, id gid.ID) (release func()) {
	t.Helper()
	tx, err := d.Pool.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(d.Q("UPDATE flash_sales SET sold = sold WHERE id = ?"), id); err != nil {
		_ = tx.Rollback()
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if err := tx.Commit(); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

// awaitCond polls cond for up to 10 s.
func awaitCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// Buyers who queue while a batch waits for the sale's lock are served
// together once it is released: a pilot batch, then everyone's first
// request in one batch, then the second requests that oncePerBuyer
// carried, in another. Buyers who gave up meanwhile get nothing.
func TestGateBatchesQueuedBuyers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		const (
			buyers    = 150
			gaveUp    = 10 // of the buyers, whose requests are cancelled while queued
			remaining = 50 // units left for the second requests
		)
		ctx := context.Background()
		svc := New(d.DB, time.Hour, nil)
		quantity := 1 + (buyers - gaveUp) + remaining
		sale := seedSale(t, d, svc, quantity, 2)
		ids := seedMembers(t, d, buyers+1)
		pilot, ids := ids[0], ids[1:]
		g, err := svc.gateFor(ctx, sale.ID)
		if err != nil {
			t.Fatal(err)
		}

		release := holdSale(t, d, sale.ID)
		// The pilot goes straight into the queue, so that the test knows
		// when the gate has taken it: its batch then waits for the lock.
		pilotReq := &buyRequest{ctx: ctx, sale: sale.ID, buyer: pilot, q: 1, reply: make(chan buyResult, 1)}
		g.in <- pilotReq
		awaitCond(t, "the gate to take the pilot", func() bool { return len(g.in) == 0 })
		time.Sleep(20 * time.Millisecond) // for its drain of the queue (empty) to pass

		type result struct {
			buyer int
			err   error
		}
		results := make(chan result, 2*buyers)
		cancels := make([]context.CancelFunc, buyers)
		for i, id := range ids {
			bctx, cancel := context.WithCancel(ctx)
			cancels[i] = cancel
			for range 2 {
				go func() {
					_, err := svc.Buy(bctx, id, sale.ID, 1, nil)
					results <- result{i, err}
				}()
			}
		}
		awaitCond(t, "every request to queue", func() bool { return len(g.in) == 2*buyers })
		for i := range gaveUp {
			cancels[i]()
		}
		for range 2 * gaveUp {
			if r := <-results; r.buyer >= gaveUp || !errors.Is(r.err, context.Canceled) {
				t.Fatalf("buyer %d: %v, want a cancelled buyer's context error", r.buyer, r.err)
			}
		}
		release()

		if res := <-pilotReq.reply; res.err != nil || res.order == nil {
			t.Fatalf("pilot: %+v", res)
		}
		var bought, soldOut int
		for range 2 * (buyers - gaveUp) {
			r := <-results
			switch {
			case r.err == nil:
				bought++
			case errors.Is(r.err, errSoldOut):
				soldOut++
			default:
				t.Errorf("buyer %d: %v", r.buyer, r.err)
			}
		}
		if bought != quantity-1 || soldOut != buyers-gaveUp-remaining {
			t.Errorf("%d bought and %d sold out, want %d and %d", bought, soldOut, quantity-1, buyers-gaveUp-remaining)
		}
		// One batch writes its orders at one clock reading.
		if n := d.Int(t, "SELECT COUNT(DISTINCT created_at) FROM orders WHERE flash_sale_id = ?", sale.ID); n != 3 {
			t.Errorf("the orders were written by %d batches, want 3 (the pilot, the first requests, the second)", n)
		}
		for _, id := range ids[:gaveUp] {
			if n := d.Int(t, "SELECT COUNT(*) FROM orders WHERE buyer_id = ?", id); n != 0 {
				t.Errorf("buyer %s gave up and got %d orders", id, n)
			}
		}
		checkSaleRows(t, d, sale, quantity)
		if !g.soldOut.Load() {
			t.Error("the gate did not see the sale sell out")
		}
	})
}

// Many buyers at once, each asking two or three times for one to three
// units (some with idempotency keys, some retried with the same key):
// whatever the batches, the rows keep every invariant, and each key names
// one order.
func TestGateConcurrentBuyersKeepInvariants(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		const buyers = 120
		ctx := context.Background()
		svc := New(d.DB, time.Hour, nil)
		sale := seedSale(t, d, svc, 200, 3)
		ids := seedMembers(t, d, buyers)
		var wg sync.WaitGroup
		var mu sync.Mutex
		byKey := map[string]map[gid.ID]bool{}
		errs := map[string]int{}
		for i, id := range ids {
			for try := range 2 + i%2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					q := 1 + (i+try)%3
					var key *string
					if i%3 == 0 {
						k := fmt.Sprintf("retry-%d", i) // every try the same request
						key, q = &k, 1+i%3
					}
					o, err := svc.Buy(ctx, id, sale.ID, q, key)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err != nil:
						errs[err.Error()]++
					case key != nil:
						if byKey[*key] == nil {
							byKey[*key] = map[gid.ID]bool{}
						}
						byKey[*key][o.ID] = true
					}
				}()
			}
		}
		wg.Wait()
		for k, os := range byKey {
			if len(os) != 1 {
				t.Errorf("key %s answered with %d orders", k, len(os))
			}
		}
		for e := range errs {
			if e != errSoldOut.Error() && e != errLimit.Error() {
				t.Errorf("unexpected refusal %q (%d times)", e, errs[e])
			}
		}
		batches := d.Int(t, "SELECT COUNT(DISTINCT created_at) FROM orders WHERE flash_sale_id = ?", sale.ID)
		orders := d.Int(t, "SELECT COUNT(*) FROM orders WHERE flash_sale_id = ?", sale.ID)
		t.Logf("%d orders in %d batches; refusals %v", orders, batches, errs)
		if requests := buyers * 5 / 2; batches > requests/10 {
			t.Errorf("%d requests took %d batches with orders: the gate is not batching", requests, batches)
		}
		checkSaleRows(t, d, sale, 200)
	})
}

package flashsales_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"unionmall/ent"
	"unionmall/ent/county"
	"unionmall/ent/member"
	"unionmall/ent/product"
	"unionmall/internal/apperr"
	"unionmall/internal/auth"
	"unionmall/internal/catalog"
	"unionmall/internal/changes"
	"unionmall/internal/db"
	"unionmall/internal/flashsales"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/orders"
	"unionmall/internal/role"
	"unionmall/internal/testdb"
)

// These tests race the way production does: two instances (two services
// on two connection pools of one database), buyers queued behind a lock or
// a pool wait, and then check the invariants from the rows.

// fixture is one sale of a product whose whole stock the sale took.
type fixture struct {
	d       *testdb.DB
	product gid.ID
	sale    *ent.FlashSale
	stock   int
}

func newFixture(t *testing.T, d *testdb.DB, quantity, limit int, ends time.Duration) fixture {
	t.Helper()
	ctx := context.Background()
	cat := catalog.New(d.DB, nil)
	c, err := cat.CreateCounty(ctx, "城固县", "汉中市", county.PovertyStatusLIFTED)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cat.CreateSupplier(ctx, "汉中粮油", c.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cat.CreateProduct(ctx, catalog.NewProduct{Name: "汉中香小榨菜籽油 5L", Category: product.CategoryGRAIN_OIL,
		Price: 7990, Stock: quantity, SupplierID: s.ID})
	if err != nil {
		t.Fatal(err)
	}
	sale, err := flashsales.New(d.DB, time.Hour, nil).Create(ctx, flashsales.NewSale{ProductID: p.ID, Price: money.Yuan,
		Quantity: quantity, PerMemberLimit: limit, StartsAt: time.Now().Add(-time.Second), EndsAt: time.Now().Add(ends)})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{d: d, product: p.ID, sale: sale, stock: quantity}
}

func members(t *testing.T, d *db.DB, n int) []gid.ID {
	t.Helper()
	creates := make([]*ent.MemberCreate, n)
	for i := range creates {
		creates[i] = d.Client.Member.Create().SetPhone(fmt.Sprintf("139%08d", i)).SetPasswordHash("-").
			SetDisplayName(fmt.Sprintf("买家%d", i)).SetRoles(role.Set{role.Member}).
			SetVerificationStatus(member.VerificationStatusVERIFIED)
	}
	ms, err := d.Client.Member.CreateBulk(creates...).Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]gid.ID, n)
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

const liveOrders = `o.status IN ('PENDING_PAYMENT', 'PAID', 'SHIPPED', 'COMPLETED')`

// check asserts the sale's invariants from the rows: sold within quantity
// and equal to the units of live orders; every holding equal to its
// member's live units; nobody above the limit; and the product's units
// conserved (stock + live units + unsold units of an unsettled sale = the
// stock the product started with).
func (f fixture) check(t *testing.T) {
	t.Helper()
	d := f.d
	sold := d.Int(t, "SELECT sold FROM flash_sales WHERE id = ?", f.sale.ID)
	live := d.Int(t, `SELECT COALESCE(SUM(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id
		WHERE o.flash_sale_id = ? AND `+liveOrders, f.sale.ID)
	if sold > f.sale.Quantity || sold != live {
		t.Errorf("sold %d, units of live orders %d, quantity %d", sold, live, f.sale.Quantity)
	}
	wrong := d.Int(t, `SELECT COUNT(*) FROM flash_sale_holdings h WHERE h.flash_sale_id = ? AND h.units <>
		(SELECT COALESCE(SUM(i.quantity), 0) FROM orders o JOIN order_items i ON i.order_id = o.id
		 WHERE o.flash_sale_id = h.flash_sale_id AND o.buyer_id = h.member_id AND `+liveOrders+`)`, f.sale.ID)
	if wrong != 0 {
		t.Errorf("%d holdings differ from their member's live units", wrong)
	}
	over := d.Int(t, `SELECT COUNT(*) FROM (SELECT o.buyer_id FROM orders o JOIN order_items i ON i.order_id = o.id
		WHERE o.flash_sale_id = ? AND `+liveOrders+` GROUP BY o.buyer_id HAVING SUM(i.quantity) > ?) x`,
		f.sale.ID, f.sale.PerMemberLimit)
	if over != 0 {
		t.Errorf("%d members hold more than the limit of %d in live orders", over, f.sale.PerMemberLimit)
	}
	stock := d.Int(t, "SELECT stock FROM products WHERE id = ?", f.product)
	unsold := d.Int(t, "SELECT CASE WHEN settled_at IS NULL THEN quantity - sold ELSE 0 END FROM flash_sales WHERE id = ?", f.sale.ID)
	if stock+live+unsold != f.stock {
		t.Errorf("stock %d + units in live orders %d + unsold in the open sale %d = %d, but the product had %d: units were sold twice",
			stock, live, unsold, stock+live+unsold, f.stock)
	}
}

// holdLock takes the sale's row lock, as a batch of another instance
// would hold it.
func holdLock(t *testing.T, d *testdb.DB, saleID gid.ID) *testdb.Holder {
	t.Helper()
	return d.Hold(t, "SELECT 1 FROM flash_sales WHERE id = $1 FOR UPDATE", saleID)
}

type outcome struct {
	order *ent.Order
	err   error
}

func buy(svc *flashsales.Service, buyer, sale gid.ID) <-chan outcome {
	out := make(chan outcome, 1)
	go func() {
		o, err := svc.Buy(context.Background(), buyer, sale, 1, nil)
		out <- outcome{o, err}
	}()
	return out
}

func mustBuy(t *testing.T, c <-chan outcome) *ent.Order {
	t.Helper()
	r := <-c
	if r.err != nil {
		t.Fatalf("buy: %v", r.err)
	}
	return r.order
}

func wantRefusal(t *testing.T, c <-chan outcome, code apperr.Code) {
	t.Helper()
	r := <-c
	if !apperr.Is(r.err, code) {
		t.Fatalf("buy: order %v, err %v; want %s", r.order != nil, r.err, code)
	}
}

// One member buys on two instances at once while both batches wait for
// the sale's lock (held by the test, as a third batch would hold it). The
// second batch to get the lock must see the first one's holding: both buys
// fit the limit of 2, the holding counts both, and a third buy is refused.
// (Before: the holdings read beside the lock came from before the first
// batch committed, and the second batch overwrote the holding with that
// stale sum, so the holding said 1 and a third unit was sold.)
func TestOneMemberOnTwoInstancesBehindALock(t *testing.T) {
	d := testdb.Open(t, "postgres")
	f := newFixture(t, d, 10, 2, time.Hour)
	a := flashsales.New(d.DB, time.Hour, nil)
	b := flashsales.New(testdb.Reopen(t, d), time.Hour, nil)
	m := members(t, d.DB, 1)[0]
	for _, svc := range []*flashsales.Service{a, b} { // load both gates first
		if _, err := svc.Sale(f.sale.ID); err != nil {
			t.Fatal(err)
		}
	}
	lock := holdLock(t, d, f.sale.ID)
	first, second := buy(a, m, f.sale.ID), buy(b, m, f.sale.ID)
	lock.AwaitQueued(2, "both batches")
	lock.Release()
	mustBuy(t, first)
	mustBuy(t, second)
	if held := d.Int(t, "SELECT units FROM flash_sale_holdings WHERE flash_sale_id = ? AND member_id = ?", f.sale.ID, m); held != 2 {
		t.Errorf("the holding says %d units after two buys", held)
	}
	wantRefusal(t, buy(a, m, f.sale.ID), apperr.LimitExceeded)
	wantRefusal(t, buy(b, m, f.sale.ID), apperr.LimitExceeded)
	f.check(t)
}

// A cancel and a buy of one member meet behind the sale's lock on one
// instance: the cancel goes first, then the buy must count from what the
// cancel left. (Before: the buy overwrote the holding with its stale read,
// 2 units held with 1 live, and the member's next buy was wrongly refused.)
func TestCancelAndBuyOfOneMemberMeet(t *testing.T) {
	d := testdb.Open(t, "postgres")
	f := newFixture(t, d, 10, 2, time.Hour)
	svc := flashsales.New(d.DB, time.Hour, nil)
	ords := orders.New(d.DB, time.Hour, nil)
	m := members(t, d.DB, 1)[0]
	o := mustBuy(t, buy(svc, m, f.sale.ID))

	lock := holdLock(t, d, f.sale.ID)
	cancelled := make(chan error, 1)
	go func() {
		_, err := ords.Cancel(auth.WithViewer(context.Background(), &auth.Viewer{MemberID: m}), o.ID)
		cancelled <- err
	}()
	lock.AwaitQueued(1, "the cancel") // the cancel queues first...
	bought := buy(svc, m, f.sale.ID)
	lock.AwaitQueued(2, "the buy") // ...then the buy
	lock.Release()
	if err := <-cancelled; err != nil {
		t.Fatalf("cancel: %v", err)
	}
	mustBuy(t, bought)
	f.check(t)
	mustBuy(t, buy(svc, m, f.sale.ID)) // 2 live units: within the limit
	wantRefusal(t, buy(svc, m, f.sale.ID), apperr.LimitExceeded)
	f.check(t)
}

// A buyer is admitted while the sale runs, then waits for a connection of
// its instance's pool (a rush) while the sale ends and another instance
// settles it (its unsold units go back to the product). When the batch
// finally runs it must refuse with ENDED: deciding with the clock it read
// before the wait sold a unit the product had already been given back.
func TestSettledSaleSellsNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		const runs = 1500 * time.Millisecond
		f := newFixture(t, d, 10, 2, runs)
		rush := testdb.Reopen(t, d)
		rush.Pool.SetMaxOpenConns(1)
		a := flashsales.New(rush, time.Hour, nil)
		b := flashsales.New(d.DB, time.Hour, nil)
		ms := members(t, d.DB, 2)
		mustBuy(t, buy(a, ms[0], f.sale.ID)) // the gate is loaded

		busy, err := rush.Pool.Conn(ctx) // the pool's one connection
		if err != nil {
			t.Fatal(err)
		}
		late := buy(a, ms[1], f.sale.ID)
		time.Sleep(time.Until(f.sale.EndsAt.Add(300 * time.Millisecond)))
		if n, err := b.SettleDue(ctx); err != nil || n != 1 {
			t.Fatalf("settle: %d sales, %v", n, err)
		}
		busy.Close()
		wantRefusal(t, late, apperr.Ended)
		f.check(t)
		if stock := d.Int(t, "SELECT stock FROM products WHERE id = ?", f.product); stock != 9 {
			t.Errorf("stock %d after settlement, want the 9 unsold units back", stock)
		}
	})
}

// A storm: members each send three buys at once, spread over two
// instances (limit 2), and the invariants hold from the rows.
func TestMembersRacingThemselvesOnTwoInstances(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		n := 300
		if d.Name == "sqlite" {
			n = 100
		}
		f := newFixture(t, d, 2*n, 2, time.Hour)
		svcs := []*flashsales.Service{flashsales.New(d.DB, time.Hour, nil), flashsales.New(testdb.Reopen(t, d), time.Hour, nil)}
		ms := members(t, d.DB, n)
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[string]int{}
		for i, m := range ms {
			for try := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := svcs[(i+try)%2].Buy(context.Background(), m, f.sale.ID, 1, nil)
					code := "OK"
					if err != nil {
						code = string(apperr.CodeOf(err))
					}
					mu.Lock()
					got[code]++
					mu.Unlock()
					if err != nil && !apperr.Is(err, apperr.LimitExceeded) && !apperr.Is(err, apperr.SoldOut) {
						t.Errorf("buy: %v", err)
					}
				}()
			}
		}
		wg.Wait()
		t.Logf("outcomes: %v", got)
		f.check(t)
		if sold := d.Int(t, "SELECT sold FROM flash_sales WHERE id = ?", f.sale.ID); sold != 2*n {
			t.Errorf("sold %d of %d: every member could buy two", sold, 2*n)
		}
	})
}

// Units given back on one instance reach a sold-out copy on another: the
// cancel's announcement crosses to the other instance, marks its copy
// stale, and its next buyer is let through instead of refused from the
// copy. (Each instance's copy is only re-read when it would refuse.)
func TestUnitsGivenBackOnAnotherInstanceSellAgain(t *testing.T) {
	d := testdb.Open(t, "postgres")
	f := newFixture(t, d, 1, 1, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	regA, regB := changes.New(), changes.New()
	other := testdb.Reopen(t, d)
	a := flashsales.New(d.DB, time.Hour, regA)
	b := flashsales.New(other, time.Hour, regB)
	ordsB := orders.New(other, time.Hour, regB)
	if err := regA.Join(ctx, d.URL, d.Pool); err != nil {
		t.Fatal(err)
	}
	if err := regB.Join(ctx, d.URL, other.Pool); err != nil {
		t.Fatal(err)
	}
	ms := members(t, d.DB, 2)
	o := mustBuy(t, buy(b, ms[0], f.sale.ID))
	wantRefusal(t, buy(a, ms[1], f.sale.ID), apperr.SoldOut) // a's copy: sold out
	if _, err := ordsB.Cancel(auth.WithViewer(ctx, &auth.Viewer{MemberID: ms[0]}), o.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := <-buy(a, ms[1], f.sale.ID)
		if r.err == nil {
			break
		}
		if !apperr.Is(r.err, apperr.SoldOut) || time.Now().After(deadline) {
			t.Fatalf("the unit given back on the other instance never sold here: %v", r.err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.check(t)
}

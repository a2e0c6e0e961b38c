package faulttest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"unionmall/internal/chaos/harness"
	"unionmall/internal/gid"
)

// One instance on a cluster of the test's own; the cluster is stopped
// (fast) and started again. /readyz turns 503 while it is down; within 5 s
// of its return the server serves queries, /readyz is 200 again, and the
// subscriber — on the same websocket, which stays open throughout — gets
// the current state again (a change made behind the server's back shows up
// when its listener reconnects) and then every change.
func TestPostgresRestart(t *testing.T) {
	needPostgres(t)
	tStart := time.Now()
	c := newCluster(t)
	admin, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE DATABASE mall"); err != nil {
		t.Fatalf("create database: %v", err)
	}
	admin.Close()
	dbURL := c.URL("mall")
	migrate(t, dbURL)
	d := openDB(t, dbURL)
	const quantity = 100
	sale := makeSale(t, d, quantity, 1)
	buyers := makeBuyers(t, d, 4000)
	// A second sale that buyers keep buying through the restart ("mid-run");
	// the first one is only touched by the test's own steps.
	busy := makeSale(t, d, 100000, 1)

	in := startInstance(t, "mall", dbURL)
	sub := subscribeStock(t, in.URL, sale.ID)
	if first := sub.snapshot()[0]; first.Sold != 0 || first.Quantity != quantity {
		t.Fatalf("first state %+v, want sold 0 of %d", first, quantity)
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	ctx := context.Background()
	querySale := func() (int, error) {
		r, err := gql(ctx, hc, in.URL, "", saleQuery, map[string]any{"id": string(sale.ID)})
		if err != nil {
			return 0, err
		}
		if len(r.Errors) > 0 || r.Status != http.StatusOK {
			return 0, fmt.Errorf("status %d, errors %+v", r.Status, r.Errors)
		}
		var v struct{ FlashSale *struct{ Sold int } }
		if err := json.Unmarshal(r.Data, &v); err != nil || v.FlashSale == nil {
			return 0, fmt.Errorf("data %s: %v", r.Data, err)
		}
		return v.FlashSale.Sold, nil
	}
	buyOK := func(token string) error {
		r, err := gql(ctx, hc, in.URL, token, buyMutation, buyVars(sale.ID))
		if err != nil {
			return err
		}
		if code := r.Code(); code != "" {
			return fmt.Errorf("buyFlashSale: %s (%+v)", code, r.Errors)
		}
		return nil
	}
	if code, err := harness.Readyz(in.URL); code != http.StatusOK {
		t.Fatalf("/readyz before the restart: %d %v", code, err)
	}
	if _, err := querySale(); err != nil {
		t.Fatalf("query before the restart: %v", err)
	}
	// A purchase: the subscriber sees it (sold 1).
	if err := buyOK(buyers[0].Token); err != nil {
		t.Fatal(err)
	}
	if _, ok := sub.waitFor(2*time.Second, func(e stockEvent) bool { return e.Sold == 1 }); !ok {
		t.Fatalf("the subscriber did not see the first purchase: %s", sub.status())
	}
	time.Sleep(300 * time.Millisecond) // the listener is up

	// A change behind the server's back (no NOTIFY): only a resync after
	// the listener reconnects tells the subscriber.
	const extra = 7
	if _, err := d.Pool.Exec("UPDATE flash_sales SET quantity = quantity + $1 WHERE id = $2", extra, sale.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if ev, ok := sub.waitFor(0, func(e stockEvent) bool { return e.Quantity != quantity }); ok {
		t.Fatalf("the subscriber saw the change made behind the server's back before any restart (%+v): "+
			"the resync check below would prove nothing", ev)
	}
	before := sub.count()

	// Buyers keep buying the other sale through the restart.
	busySub := subscribeStock(t, in.URL, busy.ID)
	load := startLoad(in.URL, busy.ID, buyers[2:], 4)
	time.Sleep(300 * time.Millisecond)

	// Down.
	tStop := time.Now()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	t.Logf("pg_ctl -m fast stop took %s", stopped.Sub(tStop).Round(time.Millisecond))
	unready := awaitReadyz(t, in.URL, http.StatusServiceUnavailable, stopped, "PostgreSQL stopped")
	t.Logf("/readyz turned 503 %s after PostgreSQL stopped", unready.Round(time.Millisecond))
	// While it is down: queries fail with an answer (no crash), the
	// websocket stays open.
	if r, err := gql(ctx, hc, in.URL, "", saleQuery, map[string]any{"id": string(sale.ID)}); err != nil {
		t.Errorf("a query while PostgreSQL is down got no answer: %v", err)
	} else {
		t.Logf("a query while PostgreSQL is down: status %d, code %q", r.Status, r.Code())
	}
	if err := buyOK(buyers[1].Token); err == nil {
		t.Errorf("a purchase succeeded while PostgreSQL was down")
	} else {
		t.Logf("a purchase while PostgreSQL is down: %v", err)
	}
	time.Sleep(2 * time.Second) // long enough for the listener's reconnect backoff to reach its ceiling
	select {
	case <-in.Done():
		t.Fatalf("the server exited while PostgreSQL was down: %v", in.Err())
	default:
	}
	if !sub.alive() {
		t.Fatalf("the websocket closed while PostgreSQL was down: %s", sub.status())
	}

	// Back.
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	t.Logf("PostgreSQL was down for %s", back.Sub(stopped).Round(time.Millisecond))
	var (
		served   time.Duration
		failures int
		lastErr  error
	)
	for {
		_, err := querySale()
		if err == nil {
			served = time.Since(back)
			break
		}
		failures++
		lastErr = err
		if time.Since(back) > 5*time.Second {
			t.Fatalf("the server does not serve queries 5 s after PostgreSQL came back (%d failures, last: %v)", failures, lastErr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("serving queries again %s after PostgreSQL came back (%d failed polls before, last: %v)", served.Round(time.Millisecond), failures, lastErr)
	ready := awaitReadyz(t, in.URL, http.StatusOK, back, "PostgreSQL came back")
	t.Logf("/readyz 200 again %s after PostgreSQL came back", ready.Round(time.Millisecond))

	// The resync: the change made behind the server's back arrives on the
	// same connection once the listener has reconnected.
	ev, ok := sub.waitForAfter(before, 5*time.Second, func(e stockEvent) bool { return e.Quantity == quantity+extra })
	if !ok {
		t.Errorf("the subscriber was not sent the current state again after PostgreSQL came back (%s)", sub.status())
	} else {
		t.Logf("resync: the subscriber got the current state (quantity %d, sold %d) %s after PostgreSQL came back",
			ev.Quantity, ev.Sold, ev.at.Sub(back).Round(time.Millisecond))
	}

	// A purchase after the restart: sold moves on the same connection.
	var bought time.Time
	for {
		err := buyOK(buyers[1].Token)
		if err == nil {
			bought = time.Now()
			break
		}
		if time.Since(back) > 5*time.Second {
			t.Fatalf("no purchase succeeds 5 s after PostgreSQL came back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ev, ok = sub.waitFor(2*time.Second, func(e stockEvent) bool { return e.Sold == 2 })
	if !ok {
		t.Fatalf("the subscriber did not see the purchase made after the restart (%s)", sub.status())
	}
	t.Logf("a purchase %s after PostgreSQL came back reached the subscriber %s later",
		bought.Sub(back).Round(time.Millisecond), ev.at.Sub(bought).Round(time.Millisecond))
	if ev.Quantity != quantity+extra || ev.Remaining != quantity+extra-2 {
		t.Errorf("state after the restart %+v, want quantity %d, remaining %d", ev, quantity+extra, quantity+extra-2)
	}
	if !sub.alive() {
		t.Errorf("the websocket closed: %s", sub.status())
	}

	// The buyers who kept buying: some failed while PostgreSQL was down,
	// purchases succeed again after it, every one reported OK exists, and
	// the other sale's subscriber gets its final state.
	time.Sleep(300 * time.Millisecond)
	ls := load.stop()
	t.Logf("buyers during the restart: %d OK (%d of them after PostgreSQL came back), answers %v, %d transport errors",
		len(ls.okIDs), ls.okAfter(back), ls.codes, ls.transport)
	if ls.okAfter(back) == 0 {
		t.Errorf("no purchase of the busy sale succeeded after PostgreSQL came back")
	}
	if ls.transport > 0 {
		t.Errorf("%d purchases got no answer at all", ls.transport)
	}
	if errs := sub.errors(); len(errs) > 0 {
		t.Errorf("the subscription sent errors: %v", errs)
	}
	// The test's own pool held connections from before the restart too.
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, err := d.Pool.Exec("SELECT 1"); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the test's connection to PostgreSQL does not come back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	checkInvariants(t, d, sale.ID)
	busySold := checkInvariants(t, d, busy.ID)
	failed := 0
	for code, n := range ls.codes {
		if code != "OK" {
			failed += n
		}
	}
	// A purchase whose answer was lost in the shutdown may have committed.
	if busySold < len(ls.okIDs) || busySold > len(ls.okIDs)+failed {
		t.Errorf("busy sale: sold %d, %d purchases reported OK, %d failed", busySold, len(ls.okIDs), failed)
	}
	if found := queryInt(t, d, `SELECT COUNT(*) FROM orders WHERE id = ANY($1::text[]) AND flash_sale_id = $2`,
		pqArray(ls.okIDs), busy.ID); found != len(ls.okIDs) {
		t.Errorf("%d purchases were reported OK, %d of their orders exist", len(ls.okIDs), found)
	}
	if ev, ok := busySub.waitFor(2*time.Second, func(e stockEvent) bool { return e.Sold == busySold }); !ok {
		t.Errorf("the busy sale's subscriber never got its final state (sold %d): %s", busySold, busySub.status())
	} else if !busySub.alive() {
		t.Errorf("the busy sale's websocket closed: %s", busySub.status())
	} else {
		t.Logf("the busy sale's subscriber got the final state (sold %d) %s after the last purchase was answered",
			ev.Sold, ev.at.Sub(ls.last).Round(time.Millisecond))
	}
	t.Logf("total %s", time.Since(tStart).Round(time.Millisecond))
}

// load is buyers buying a sale one after another, each once, with a few
// clients, until stopped.
type load struct {
	stopc chan struct{}
	wg    sync.WaitGroup

	mu        sync.Mutex
	okIDs     []string
	okAt      []time.Time
	codes     map[string]int
	transport int
	last      time.Time // the last answer
}

func startLoad(base string, saleID gid.ID, buyers []harness.Buyer, clients int) *load {
	l := &load{stopc: make(chan struct{}), codes: map[string]int{}}
	hc := &http.Client{Timeout: 10 * time.Second}
	var next atomic.Int64
	for range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stopc:
					return
				case <-time.After(5 * time.Millisecond):
				}
				i := int(next.Add(1) - 1)
				if i >= len(buyers) {
					return
				}
				r, err := gql(context.Background(), hc, base, buyers[i].Token, buyMutation, buyVars(saleID))
				l.mu.Lock()
				switch {
				case err != nil:
					l.transport++
				case r.Code() != "":
					l.codes[r.Code()]++
				default:
					var v struct{ BuyFlashSale struct{ ID string } }
					_ = json.Unmarshal(r.Data, &v)
					l.okIDs = append(l.okIDs, v.BuyFlashSale.ID)
					l.okAt = append(l.okAt, time.Now())
					l.codes["OK"]++
				}
				l.last = time.Now()
				l.mu.Unlock()
			}
		}()
	}
	return l
}

// stop stops the clients and returns the load for reading.
func (l *load) stop() *load {
	close(l.stopc)
	l.wg.Wait()
	return l
}

func (l *load) okAfter(t time.Time) int {
	n := 0
	for _, at := range l.okAt {
		if at.After(t) {
			n++
		}
	}
	return n
}

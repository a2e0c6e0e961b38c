package faulttest

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"unionmall/internal/chaos/harness"
)

// Two instances sell one sale from one database; one of them is killed
// with SIGKILL in the middle of the storm. Requests to it fail with
// transport errors, and its clients fail over to the other instance, which
// sells until SOLD_OUT. Afterwards the flash-sale invariants hold, every
// purchase reported OK exists, and the survivor's subscriber saw the final
// state.
func TestKillInstanceMidSale(t *testing.T) {
	base := needPostgres(t)
	t0 := time.Now()
	dbURL := newDatabase(t, base)
	migrate(t, dbURL)
	d := openDB(t, dbURL)

	const (
		quantity = 3000
		buyersN  = 5000
		workers  = 32 // concurrent clients per instance
		// The storm is paced (both instances together) so that the sale is
		// still going when A dies, however fast this machine is.
		rate      = 2500 // requests per second
		killAfter = 700 * time.Millisecond
		lbDelay   = 200 * time.Millisecond // until A's buyers go straight to B
	)
	sale := makeSale(t, d, quantity, 1)
	buyers := makeBuyers(t, d, buyersN)
	t.Logf("setup: database, %d buyers with tokens and a sale of %d units in %s", buyersN, quantity, time.Since(t0).Round(time.Millisecond))

	a := startInstance(t, "A", dbURL)
	b := startInstance(t, "B", dbURL)
	sub := subscribeStock(t, b.URL, sale.ID)
	if first := sub.snapshot()[0]; first.Sold != 0 || first.Quantity != quantity {
		t.Fatalf("first state %+v, want sold 0 of %d", first, quantity)
	}
	time.Sleep(300 * time.Millisecond) // both instances' listeners are up

	client := func() *http.Client {
		return &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers, DisableCompression: true,
		}}
	}
	clientA, clientB := client(), client()
	// Warm both instances up as a running site would be: database pools
	// open, the sale's page read.
	var warm sync.WaitGroup
	for _, target := range []struct {
		c   *http.Client
		url string
	}{{clientA, a.URL}, {clientB, b.URL}} {
		for range workers {
			warm.Add(1)
			go func() {
				defer warm.Done()
				for range 3 {
					if r, err := gql(context.Background(), target.c, target.url, "", saleQuery, map[string]any{"id": string(sale.ID)}); err != nil || r.Code() != "" {
						t.Errorf("warm-up: %v %+v", err, r)
						return
					}
				}
			}()
		}
	}
	warm.Wait()

	type outcome struct {
		code    string // "" for OK
		via     string // the instance that gave the answer
		orderID string
		at      time.Time
		failed  bool // a request to A died first
	}
	var (
		outcomes   = make([]outcome, buyersN)
		killed     atomic.Bool
		killedAt   time.Time
		aTransport atomic.Int64 // requests to A that died
		bTransport atomic.Int64 // requests to B that died: must stay 0
		bErrs      = make(chan string, 16)
		answeredA  atomic.Int64
		answeredB  atomic.Int64
	)
	ctx := context.Background()
	buy := func(c *http.Client, in string, i int) (outcome, error) {
		r, err := gql(ctx, c, in, buyers[i].Token, buyMutation, buyVars(sale.ID))
		if err != nil {
			return outcome{}, err
		}
		o := outcome{code: r.Code(), at: time.Now()}
		if o.code == "" {
			var v struct{ BuyFlashSale struct{ ID string } }
			if err := json.Unmarshal(r.Data, &v); err == nil {
				o.orderID = v.BuyFlashSale.ID
			}
			if o.orderID == "" {
				o.code = "OK without an order ID"
			}
		}
		return o, nil
	}
	// onB buys through B; B must always answer.
	onB := func(i int, failed bool) {
		o, err := buy(clientB, b.URL, i)
		if err != nil {
			bTransport.Add(1)
			select {
			case bErrs <- err.Error():
			default:
			}
			outcomes[i] = outcome{code: "transport error on B", via: "B", failed: failed}
			return
		}
		answeredB.Add(1)
		o.via, o.failed = "B", failed
		outcomes[i] = o
	}

	// Buyer i goes to A when i is even, to B when odd, at start + i/rate.
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 2 * workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= buyersN {
					return
				}
				time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
				if i%2 == 1 || killed.Load() {
					// B's share; and A's once A is known dead (a load
					// balancer takes it out).
					onB(i, false)
					continue
				}
				o, err := buy(clientA, a.URL, i)
				if err != nil {
					aTransport.Add(1)
					onB(i, true) // the client retries elsewhere
					continue
				}
				answeredA.Add(1)
				o.via = "A"
				outcomes[i] = o
			}
		}()
	}

	time.Sleep(time.Until(start.Add(killAfter)))
	if err := a.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt = time.Now()
	soldAtKill := queryInt(t, d, "SELECT sold FROM flash_sales WHERE id = $1", sale.ID)
	// Like a load balancer's health check, the clients take a moment to
	// stop sending to A: until then its buyers fail and fail over one by one.
	time.Sleep(time.Until(killedAt.Add(lbDelay)))
	killed.Store(true)
	t.Logf("killed A (SIGKILL) %s into the storm: %d answers from A, %d from B so far; sold %d of %d",
		killedAt.Sub(start).Round(time.Millisecond), answeredA.Load(), answeredB.Load(), soldAtKill, quantity)
	if soldAtKill >= quantity {
		t.Errorf("the sale had sold out before A was killed: the test did not kill mid-sale")
	}
	wg.Wait()
	stormEnd := time.Now()
	t.Logf("storm over in %s: %d requests to A died (transport errors), all retried on B", stormEnd.Sub(start).Round(time.Millisecond), aTransport.Load())
	if aTransport.Load() == 0 {
		t.Errorf("no request to A failed: A was not killed under load")
	}
	if n := bTransport.Load(); n > 0 {
		t.Errorf("%d requests to B failed without an answer, e.g. %s", n, <-bErrs)
	}

	// Tally the answers.
	codes := map[string]map[string]int{"A": {}, "B": {}}
	var okIDs []string
	var lastOK time.Time
	var bOKAfterKill, limitAfterFailover, limitOther int
	for i, o := range outcomes {
		via := codes[o.via]
		if via == nil {
			t.Fatalf("buyer %d has no answer: %+v", i, o)
		}
		code := o.code
		if code == "" {
			code = "OK"
			okIDs = append(okIDs, o.orderID)
			if o.at.After(lastOK) {
				lastOK = o.at
			}
			if o.via == "B" && o.at.After(killedAt) {
				bOKAfterKill++
			}
		}
		via[code]++
		if code == "LIMIT_EXCEEDED" {
			if o.failed {
				limitAfterFailover++ // A committed the order but died before answering
			} else {
				limitOther++
			}
		}
	}
	t.Logf("answers: A %v, B %v; B's purchases after the kill: %d", codes["A"], codes["B"], bOKAfterKill)
	for via, m := range codes {
		for code, n := range m {
			switch code {
			case "OK", "SOLD_OUT":
			case "LIMIT_EXCEEDED":
				if via != "B" {
					t.Errorf("%d LIMIT_EXCEEDED from %s to buyers who tried once", n, via)
				}
			default:
				t.Errorf("%d answers %q from %s", n, code, via)
			}
		}
	}
	if limitOther > 0 {
		t.Errorf("%d buyers who had not bought before were refused LIMIT_EXCEEDED", limitOther)
	}
	if bOKAfterKill == 0 {
		t.Errorf("B sold nothing after A was killed")
	}

	// The database: the invariants, sold out, every reported purchase there.
	sold := checkInvariants(t, d, sale.ID)
	if sold != quantity {
		t.Errorf("sold %d of %d after every buyer had an answer: B did not sell until SOLD_OUT", sold, quantity)
	}
	if want := len(okIDs) + limitAfterFailover; sold != want {
		t.Errorf("sold %d, but %d purchases were reported OK and %d buyers failed over after A had bought for them (want %d)",
			sold, len(okIDs), limitAfterFailover, want)
	}
	found := queryInt(t, d, `SELECT COUNT(*) FROM orders WHERE id = ANY($1::text[]) AND flash_sale_id = $2
		AND status = 'PENDING_PAYMENT'`, pqArray(okIDs), sale.ID)
	if found != len(okIDs) {
		t.Errorf("%d purchases were reported OK, %d of their orders exist awaiting payment", len(okIDs), found)
	}
	var failedOver []string
	for i, o := range outcomes {
		if o.failed && o.code == "LIMIT_EXCEEDED" {
			failedOver = append(failedOver, string(buyers[i].ID))
		}
	}
	if n := queryInt(t, d, `SELECT COUNT(DISTINCT buyer_id) FROM orders WHERE buyer_id = ANY($1::text[]) AND flash_sale_id = $2
		AND status = 'PENDING_PAYMENT'`, pqArray(failedOver), sale.ID); n != len(failedOver) {
		t.Errorf("%d buyers were refused LIMIT_EXCEEDED by B after their request to A died; %d of them have an order", len(failedOver), n)
	}

	// B's subscriber: the final state within a moment of the last change.
	final, ok := sub.waitFor(2*time.Second, func(e stockEvent) bool { return e.Sold == sold })
	if !ok {
		evs := sub.snapshot()
		t.Fatalf("B's subscriber never saw sold = %d within 2 s of the storm's end (%s; last %+v)", sold, sub.status(), evs[len(evs)-1])
	}
	if final.Status != "SOLD_OUT" || final.Remaining != 0 {
		t.Errorf("final state %+v, want SOLD_OUT with 0 remaining", final)
	}
	lag := final.at.Sub(lastOK)
	t.Logf("B's subscriber: %d pushes; the final state (sold %d, %s) arrived %s after the last purchase was answered",
		sub.count(), final.Sold, final.Status, lag.Round(time.Millisecond))
	if lag > 2*time.Second {
		t.Errorf("the final state arrived %s after the last change", lag)
	}
	// Pushes never go back in time.
	evs := sub.snapshot()
	for i := 1; i < len(evs); i++ {
		if evs[i].Sold < evs[i-1].Sold {
			t.Errorf("push %d went back: sold %d after %d", i, evs[i].Sold, evs[i-1].Sold)
			break
		}
	}
	// B still serves.
	if code, err := harness.Readyz(b.URL); code != http.StatusOK {
		t.Errorf("B /readyz: %d %v", code, err)
	}
	t.Logf("total %s", time.Since(t0).Round(time.Millisecond))
}

// pqArray renders strings as a PostgreSQL text array literal.
func pqArray(ss []string) string {
	b, _ := json.Marshal(ss) // IDs are plain ASCII: JSON's quoting is PostgreSQL's
	s := string(b)
	return "{" + s[1:len(s)-1] + "}"
}

// Package faulttest runs the real server binary as separate processes and
// breaks things under it: an instance killed with SIGKILL in the middle of a
// flash sale, PostgreSQL restarted under a running instance, a storm of
// clients that connect and vanish, and a chaos run of three instances
// under a mixed workload with both faults, audited afterwards. Every test
// needs PostgreSQL (TEST_DATABASE_URL) and skips without it. The processes,
// clusters and fixtures come from internal/chaos/harness; the helpers here
// tie them to the test.
package faulttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"unionmall/ent"
	"unionmall/internal/chaos"
	"unionmall/internal/chaos/harness"
	"unionmall/internal/db"
	"unionmall/internal/gid"
	"unionmall/internal/servertest"
)

// serverBin is the server built once by TestMain ("" when the tests skip).
var serverBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("TEST_DATABASE_URL") == "" {
		return m.Run() // every test skips, saying why; nothing to build
	}
	dir, err := os.MkdirTemp("", "faulttest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faulttest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	t0 := time.Now()
	if serverBin, err = harness.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, "faulttest:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "faulttest: built the server in %s\n", time.Since(t0).Round(time.Millisecond))
	return m.Run()
}

// needPostgres returns TEST_DATABASE_URL or skips the test.
func needPostgres(t *testing.T) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		t.Skip("TEST_DATABASE_URL is not set: the fault tests run server processes on PostgreSQL " +
			"(e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	if serverBin == "" {
		t.Fatal("the server binary was not built")
	}
	return u
}

// newDatabase creates a database of the test's own on base's server and
// returns its URL; it is dropped when the test ends.
func newDatabase(t *testing.T, base string) string {
	t.Helper()
	dbURL, drop, err := harness.CreateDatabase(base, "faulttest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Log(err)
		}
	})
	return dbURL
}

// migrate applies the schema with the server's own `migrate up`.
func migrate(t *testing.T, dbURL string) {
	t.Helper()
	if err := harness.Migrate(serverBin, dbURL); err != nil {
		t.Fatal(err)
	}
}

// openDB opens the database for the test's own setup and checks.
func openDB(t *testing.T, dbURL string) *db.DB {
	t.Helper()
	target, err := db.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// newCluster starts a PostgreSQL cluster of the test's own (initdb, on a
// free port); it is stopped and removed when the test ends, its log
// printed if the test failed. It skips when no cluster can be run here.
func newCluster(t *testing.T) *harness.Cluster {
	t.Helper()
	t0 := time.Now()
	c, err := harness.NewCluster(100)
	if errors.Is(err, harness.ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("---- the test cluster's log ----\n%s---- end ----", c.Log())
		}
		c.Close()
	})
	t.Logf("test cluster: initdb and start in %s (port %d)", time.Since(t0).Round(time.Millisecond), c.Port())
	return c
}

// startInstance runs the server on dbURL and waits until /readyz answers
// 200. The process is stopped when the test ends, and its log printed if
// the test failed (or FAULTTEST_LOGS is set).
func startInstance(t *testing.T, name, dbURL string, extraEnv ...string) *harness.Instance {
	t.Helper()
	in, err := harness.StartInstance(harness.InstanceConfig{
		Name: name, Bin: serverBin, DatabaseURL: dbURL, Env: extraEnv, LogDir: t.TempDir(),
	}, 20*time.Second)
	if in != nil {
		t.Cleanup(func() {
			in.Stop(5 * time.Second)
			if t.Failed() || os.Getenv("FAULTTEST_LOGS") != "" {
				t.Logf("---- log of instance %s (%s) ----\n%s---- end of %s's log ----", in.Name, in.URL, in.LogTail(20000), in.Name)
			}
		})
	}
	if err != nil {
		t.Fatal(err) // its log is printed at cleanup
	}
	return in
}

// awaitReadyz polls /readyz until it answers want, at most 5 s after since
// (when what happened), and returns how long after since that was.
func awaitReadyz(t *testing.T, base string, want int, since time.Time, what string) time.Duration {
	t.Helper()
	for {
		code, _ := harness.Readyz(base)
		if code == want {
			return time.Since(since)
		}
		if time.Since(since) > 5*time.Second {
			t.Fatalf("/readyz answers %d 5 s after %s, want %d", code, what, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// gql posts a GraphQL request; err is a transport error (no answer), else
// the response (whatever its status).
func gql(ctx context.Context, c *http.Client, base, token, query string, vars map[string]any) (*harness.Response, error) {
	return harness.Post(ctx, c, base, harness.Request{Query: query, Vars: vars, Token: token})
}

// The operations the tests use.
const (
	buyMutation = `mutation($i: BuyFlashSaleInput!) { buyFlashSale(input: $i) { id status } }`
	saleQuery   = `query($id: ID!) { flashSale(id: $id) { sold remaining status } }`
	stockSub    = `subscription($id: ID!) { flashSaleStock(flashSaleID: $id) { flashSaleID quantity sold remaining status updatedAt } }`
)

func buyVars(saleID gid.ID) map[string]any {
	return map[string]any{"i": map[string]any{"flashSaleID": string(saleID)}}
}

// makeSale creates a county, supplier and product with the sale's units,
// and a sale running now, straight in the database.
func makeSale(t *testing.T, d *db.DB, quantity, limit int) *ent.FlashSale {
	t.Helper()
	sale, err := harness.MakeSale(context.Background(), d, quantity, limit, "故障测试")
	if err != nil {
		t.Fatal(err)
	}
	return sale
}

// makeBuyers creates n verified members straight in the database and signs
// each in (as mallbench does: no password hashing, no review).
func makeBuyers(t *testing.T, d *db.DB, n int) []harness.Buyer {
	t.Helper()
	buyers, err := harness.MakeBuyers(context.Background(), d, harness.Buyers{N: n, PhonePrefix: "188", Name: "故障测试买家"})
	if err != nil {
		t.Fatal(err)
	}
	return buyers
}

// queryInt runs a PostgreSQL query returning one integer.
func queryInt(t *testing.T, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Pool.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// checkInvariants audits the database's flash sales (chaos.AuditFlashSales:
// sold ≤ quantity; sold = the units of the sale's live orders; nobody above
// the limit, by holdings and by live orders; holdings = live units) and
// returns the sale's sold.
func checkInvariants(t *testing.T, d *db.DB, saleID gid.ID) int {
	t.Helper()
	for _, c := range chaos.AuditFlashSales(context.Background(), d.Pool) {
		t.Logf("invariant %s: %s", c.Name, c.Figures)
		for _, v := range c.Violations {
			t.Errorf("%s: %s", c.Name, v)
		}
	}
	return queryInt(t, d, "SELECT sold FROM flash_sales WHERE id = $1", saleID)
}

// stockEvent is one flashSaleStock push and when it arrived.
type stockEvent struct {
	at                        time.Time
	Quantity, Sold, Remaining int
	Status                    string
}

// recorder reads a websocket's subscription events into a list.
type recorder struct {
	ws     *servertest.WS
	mu     sync.Mutex
	events []stockEvent
	errs   []string // error payloads
	err    error    // why reading stopped
	done   chan struct{}
}

// subscribeStock opens a graphql-transport-ws connection to base,
// subscribes to the sale's stock and records every push. It waits for the
// first push (the current state).
func subscribeStock(t *testing.T, base string, saleID gid.ID) *recorder {
	t.Helper()
	ws, err := servertest.DialWS(base, servertest.TransportWS, nil)
	if err != nil {
		t.Fatalf("websocket to %s: %v", base, err)
	}
	if _, err := ws.Subscribe(stockSub, map[string]any{"id": string(saleID)}); err != nil {
		ws.Close()
		t.Fatalf("subscribe: %v", err)
	}
	r := &recorder{ws: ws, done: make(chan struct{})}
	go r.read()
	t.Cleanup(func() {
		ws.Close()
		<-r.done
	})
	if _, ok := r.waitFor(5*time.Second, func(stockEvent) bool { return true }); !ok {
		t.Fatalf("no first state from the subscription: %v", r.status())
	}
	return r
}

func (r *recorder) read() {
	defer close(r.done)
	for {
		_, res, err := r.ws.Next(time.Hour)
		if err != nil {
			r.mu.Lock()
			r.err = err
			r.mu.Unlock()
			return
		}
		at := time.Now()
		r.mu.Lock()
		if len(res.Errors) > 0 {
			r.errs = append(r.errs, fmt.Sprint(res.Errors))
			r.mu.Unlock()
			continue
		}
		var v struct{ FlashSaleStock stockEvent }
		if err := json.Unmarshal(res.Data, &v); err != nil {
			r.errs = append(r.errs, "undecodable: "+string(res.Data))
		} else {
			ev := v.FlashSaleStock
			ev.at = at
			r.events = append(r.events, ev)
		}
		r.mu.Unlock()
	}
}

// snapshot returns the events so far.
func (r *recorder) snapshot() []stockEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]stockEvent(nil), r.events...)
}

func (r *recorder) status() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("%d events, errors %v, reader stopped by %v", len(r.events), r.errs, r.err)
}

// alive reports whether the connection is still being read.
func (r *recorder) alive() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// waitFor waits for an event (from the start of the recording) that
// satisfies ok.
func (r *recorder) waitFor(timeout time.Duration, ok func(stockEvent) bool) (stockEvent, bool) {
	return r.waitForAfter(0, timeout, ok)
}

// waitForAfter waits for an event at index ≥ from that satisfies ok.
func (r *recorder) waitForAfter(from int, timeout time.Duration, ok func(stockEvent) bool) (stockEvent, bool) {
	deadline := time.Now().Add(timeout)
	for {
		r.mu.Lock()
		for i := from; i < len(r.events); i++ {
			if ok(r.events[i]) {
				ev := r.events[i]
				r.mu.Unlock()
				return ev, true
			}
		}
		r.mu.Unlock()
		if time.Now().After(deadline) || !r.alive() {
			return stockEvent{}, false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// errors returns the error payloads received.
func (r *recorder) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

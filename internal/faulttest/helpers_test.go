// Package faulttest runs the real server binary as separate processes and
// breaks things under it: an instance killed with SIGKILL in the middle of a
// flash sale, PostgreSQL restarted under a running instance, and a storm of
// clients that connect and vanish. Every test needs PostgreSQL
// (TEST_DATABASE_URL) and skips without it.
package faulttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"unionmall/ent"
	"unionmall/ent/county"
	"unionmall/ent/member"
	"unionmall/ent/product"
	"unionmall/internal/auth"
	"unionmall/internal/db"
	"unionmall/internal/flashsales"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/role"
	"unionmall/internal/servertest"
)

// serverBin is the server built once by TestMain ("" when the tests skip).
var serverBin string

// secretKey is every instance's SECRET_KEY (instances on one database must
// share it).
const secretKey = "faulttest-secret-key-0123456789"

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
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "faulttest:", err)
		return 1
	}
	serverBin = filepath.Join(dir, "unionmall")
	t0 := time.Now()
	cmd := exec.Command("go", "build", "-o", serverBin, "unionmall")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "faulttest: go build unionmall: %v\n%s", err, out)
		return 1
	}
	fmt.Fprintf(os.Stderr, "faulttest: built the server in %s\n", time.Since(t0).Round(time.Millisecond))
	return m.Run()
}

// moduleRoot is the directory of the module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module")
	}
	return filepath.Dir(mod), nil
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

// withDatabase returns base with its path (database name) replaced.
func withDatabase(t testing.TB, base, name string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %q: %v", base, err)
	}
	u.Path = "/" + name
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String()
}

// newDatabase creates a database of the test's own on base's server and
// returns its URL; it is dropped (WITH (FORCE): instances may still hold
// connections) when the test ends.
func newDatabase(t *testing.T, base string) string {
	t.Helper()
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	name := "faulttest_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
		admin.Close()
	})
	return withDatabase(t, base, name)
}

// migrate applies the schema with the server's own `migrate up`.
func migrate(t *testing.T, dbURL string) {
	t.Helper()
	cmd := exec.Command(serverBin, "migrate", "up")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "SECRET_KEY="+secretKey)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("unionmall migrate up: %v\n%s", err, out)
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

// freePort returns a TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// instance is one running server process.
type instance struct {
	name string
	url  string // http://127.0.0.1:port
	cmd  *exec.Cmd
	log  string        // its stderr and stdout
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, once done
}

// startInstance runs the server on dbURL and waits until /readyz answers
// 200. The process is stopped when the test ends, and its log printed if
// the test failed (or FAULTTEST_LOGS is set).
func startInstance(t *testing.T, name, dbURL string, extraEnv ...string) *instance {
	t.Helper()
	for try := 1; ; try++ {
		in, err := tryInstance(t, name, dbURL, extraEnv)
		if err == nil {
			return in
		}
		b, _ := os.ReadFile(in.log)
		if try < 3 && strings.Contains(string(b), "address already in use") {
			continue // the free port was taken meanwhile
		}
		t.Fatalf("instance %s: %v", name, err) // its log is printed at cleanup
	}
}

func tryInstance(t *testing.T, name, dbURL string, extraEnv []string) (*instance, error) {
	t.Helper()
	port := freePort(t)
	logPath := filepath.Join(t.TempDir(), fmt.Sprintf("%s-%d.log", name, port))
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{name: name, url: fmt.Sprintf("http://127.0.0.1:%d", port), log: logPath, done: make(chan struct{})}
	in.cmd = exec.Command(serverBin)
	in.cmd.Env = append(os.Environ(),
		fmt.Sprintf("ADDR=127.0.0.1:%d", port),
		"DATABASE_URL="+dbURL,
		"SECRET_KEY="+secretKey,
		"DEMO_DATA=false",
		"LOG_LEVEL=info",
		"PAYMENT_WINDOW=15m",
		"ADMIN_PHONE=",
		"ADMIN_PASSWORD=",
		"DEBUG_ADDR=",
	)
	in.cmd.Env = append(in.cmd.Env, extraEnv...)
	in.cmd.Stdout, in.cmd.Stderr = logFile, logFile
	if err := in.cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		in.err = in.cmd.Wait()
		logFile.Close()
		close(in.done)
	}()
	t.Cleanup(func() {
		in.stop(5 * time.Second)
		if t.Failed() || os.Getenv("FAULTTEST_LOGS") != "" {
			in.dumpLog(t)
		}
	})
	if err := in.waitReady(20 * time.Second); err != nil {
		in.stop(time.Second)
		return in, err
	}
	return in, nil
}

// waitReady polls /readyz until it answers 200.
func (in *instance) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-in.done:
			return fmt.Errorf("exited before becoming ready: %v", in.err)
		default:
		}
		if code, _ := readyz(in.url); code == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits, then SIGKILL.
func (in *instance) stop(grace time.Duration) {
	select {
	case <-in.done:
		return
	default:
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(grace):
		_ = in.cmd.Process.Kill()
		<-in.done
	}
}

func (in *instance) dumpLog(t *testing.T) {
	b, err := os.ReadFile(in.log)
	if err != nil {
		t.Logf("instance %s: no log: %v", in.name, err)
		return
	}
	const max = 20000
	if len(b) > max {
		b = append([]byte("...\n"), b[len(b)-max:]...)
	}
	t.Logf("---- log of instance %s (%s) ----\n%s---- end of %s's log ----", in.name, in.url, b, in.name)
}

// noKeepAlive is for probes (/readyz, /metrics) that must not leave idle
// connections, and so goroutines, in the server.
var noKeepAlive = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// readyz returns /readyz's status code.
// awaitReadyz polls /readyz until it answers want, at most 5 s after since
// (when what happened), and returns how long after since that was.
func awaitReadyz(t *testing.T, base string, want int, since time.Time, what string) time.Duration {
	t.Helper()
	for {
		code, _ := readyz(base)
		if code == want {
			return time.Since(since)
		}
		if time.Since(since) > 5*time.Second {
			t.Fatalf("/readyz answers %d 5 s after %s, want %d", code, what, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func readyz(base string) (int, error) {
	res, err := noKeepAlive.Get(base + "/readyz")
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

// metrics reads the samples of /metrics (name with labels, exactly as
// exposed, to value).
func metrics(base string) (map[string]float64, error) {
	res, err := noKeepAlive.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", res.Status)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, m := range sampleRE.FindAllSubmatch(b, -1) {
		v, err := strconv.ParseFloat(string(m[2]), 64)
		if err == nil {
			out[string(m[1])] = v
		}
	}
	return out, nil
}

var sampleRE = regexp.MustCompile(`(?m)^([a-zA-Z_:][^ ]*) ([0-9.eE+-]+|NaN)$`)

// gql posts a GraphQL request; err is a transport error (no answer), else
// the response (whatever its status).
func gql(ctx context.Context, c *http.Client, base, token, query string, vars map[string]any) (*servertest.Response, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	var out servertest.Response
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("status %d, undecodable body %q: %w", res.StatusCode, truncate(raw, 200), err)
	}
	out.Status = res.StatusCode
	return &out, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
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
	ctx := context.Background()
	c, err := d.Client.County.Query().Where(county.Name("城固县")).First(ctx)
	if ent.IsNotFound(err) {
		c, err = d.Client.County.Create().SetName("城固县").SetCity("汉中市").
			SetPovertyStatus(county.PovertyStatusNON_POOR_WITH_TASKS).Save(ctx)
	}
	if err != nil {
		t.Fatalf("county: %v", err)
	}
	sup, err := d.Client.Supplier.Create().SetName("故障测试粮油供应商 " + string(gid.New("sup"))).
		SetCountyID(c.ID).SetBeneficiaries(100).Save(ctx)
	if err != nil {
		t.Fatalf("supplier: %v", err)
	}
	p, err := d.Client.Product.Create().SetName("汉中香小榨菜籽油 5L（故障测试）").
		SetCategory(product.CategoryGRAIN_OIL).SetPrice(7990).SetSalePrice(7990).
		SetStock(quantity).SetStockReceived(quantity).SetSupplierID(sup.ID).SetCountyID(c.ID).Save(ctx)
	if err != nil {
		t.Fatalf("product: %v", err)
	}
	now := time.Now()
	sale, err := flashsales.New(d, 15*time.Minute, nil).Create(ctx, flashsales.NewSale{
		ProductID: p.ID, Price: money.Yuan, Quantity: quantity, PerMemberLimit: limit,
		StartsAt: now.Add(-time.Second), EndsAt: now.Add(time.Hour),
	})
	if err != nil {
		t.Fatalf("flash sale: %v", err)
	}
	return sale
}

// buyer is a verified member and a token of theirs.
type buyer struct {
	id    gid.ID
	token string
}

// makeBuyers creates n verified members straight in the database and signs
// each in (as mallbench does: no password hashing, no review).
func makeBuyers(t *testing.T, d *db.DB, n int) []buyer {
	t.Helper()
	ctx := context.Background()
	sessions := auth.NewSessions(d, 24*time.Hour)
	out := make([]buyer, 0, n)
	for start := 0; start < n; start += 1000 {
		size := min(1000, n-start)
		creates := make([]*ent.MemberCreate, size)
		for i := range creates {
			creates[i] = d.Client.Member.Create().
				SetPhone(fmt.Sprintf("188%08d", start+i)).
				SetPasswordHash("fault-test member: no password").
				SetDisplayName(fmt.Sprintf("故障测试买家%d", start+i)).
				SetRoles(role.Set{role.Member}).
				SetVerificationStatus(member.VerificationStatusVERIFIED)
		}
		members, err := d.Client.Member.CreateBulk(creates...).Save(ctx)
		if err != nil {
			t.Fatalf("members: %v", err)
		}
		tokens, err := sessions.IssueMany(ctx, d.Client, members)
		if err != nil {
			t.Fatalf("tokens: %v", err)
		}
		for i, m := range members {
			out = append(out, buyer{id: m.ID, token: tokens[i]})
		}
	}
	return out
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

// checkInvariants asserts the flash-sale invariants in SQL and returns
// sold: sold ≤ quantity; sold = the units of the sale's live orders; nobody
// above the limit (by holdings and by live orders); holdings = live units.
func checkInvariants(t *testing.T, d *db.DB, saleID gid.ID) int {
	t.Helper()
	sold := queryInt(t, d, "SELECT sold FROM flash_sales WHERE id = $1", saleID)
	qty := queryInt(t, d, "SELECT quantity FROM flash_sales WHERE id = $1", saleID)
	live := queryInt(t, d, `SELECT COALESCE(SUM(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id
		WHERE o.flash_sale_id = $1 AND o.status IN ('PENDING_PAYMENT', 'PAID', 'SHIPPED', 'COMPLETED')`, saleID)
	held := queryInt(t, d, "SELECT COALESCE(SUM(units), 0) FROM flash_sale_holdings WHERE flash_sale_id = $1", saleID)
	overHeld := queryInt(t, d, `SELECT COUNT(*) FROM flash_sale_holdings h JOIN flash_sales s ON s.id = h.flash_sale_id
		WHERE h.flash_sale_id = $1 AND h.units > s.per_member_limit`, saleID)
	overLive := queryInt(t, d, `SELECT COUNT(*) FROM (SELECT o.buyer_id FROM orders o JOIN order_items i ON i.order_id = o.id
		WHERE o.flash_sale_id = $1 AND o.status IN ('PENDING_PAYMENT', 'PAID', 'SHIPPED', 'COMPLETED')
		GROUP BY o.buyer_id HAVING SUM(i.quantity) > (SELECT per_member_limit FROM flash_sales WHERE id = $1)) x`, saleID)
	t.Logf("invariants: quantity %d, sold %d, units of live orders %d, held %d, members above the limit %d (holdings) / %d (orders)",
		qty, sold, live, held, overHeld, overLive)
	if sold > qty {
		t.Errorf("oversold: sold %d > quantity %d", sold, qty)
	}
	if sold != live {
		t.Errorf("sold %d != units of live orders %d", sold, live)
	}
	if held != live {
		t.Errorf("holdings %d != units of live orders %d", held, live)
	}
	if overHeld != 0 || overLive != 0 {
		t.Errorf("members above the limit: %d by holdings, %d by live orders", overHeld, overLive)
	}
	return sold
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

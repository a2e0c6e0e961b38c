package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"unionmall/ent"
	"unionmall/internal/chaos"
	"unionmall/internal/chaos/harness"
	"unionmall/internal/db"
	"unionmall/internal/gid"
)

const buyQuery = `mutation($i: BuyFlashSaleInput!) { buyFlashSale(input: $i) { id status total } }`

func flash(args []string) error {
	fs := flag.NewFlagSet("flash", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8080", "the server, or several instances of it on one database separated by commas")
	dbURL := fs.String("db", "", "the server's DATABASE_URL (setup and the invariant check)")
	buyers := fs.Int("buyers", 20000, "members who each try to buy")
	tries := fs.Int("tries", 1, "buys each member sends at once during the storm, each to the next instance (a member racing themselves)")
	quantity := fs.Int("quantity", 0, "units on sale (default: 3/4 of the buyers)")
	limit := fs.Int("limit", 1, "per-member limit")
	workers := fs.Int("workers", 64, "concurrent clients (in all, over the instances)")
	refusals := fs.Duration("refusals", 5*time.Second, "how long to keep buying after the sale sold out")
	baseline := fs.Duration("baseline", 5*time.Second, "how long to measure { __typename } first")
	statsSettle := fs.Duration("stats-settle", 11*time.Second, "wait before and after the refusals for PostgreSQL's statistics (idle backends report theirs after 10 s)")
	export := fs.String("export", "", "also write the buyers' tokens (tokens.txt, one per line) and the request bodies (typename.json, buy.json) into this directory, for other load generators")
	idle := fs.Bool("idle", true, "before the storm, count the database's transactions over an idle span as long as the refusals' (the servers' background work), to subtract")
	pairs := fs.Int("pairs", 6, "after the refusals, alternate this many 1 s spans of refusals and of { __typename } and print the median of their ratios (the machine's drift between the two falls out)")
	warm := fs.Bool("warm", true, "buyers open the sale's page (one signed-in query each, on every instance) before the storm, as they do while the livestream counts down; -warm=false: each buyer's first request to an instance is a buy")
	_ = fs.Parse(args)
	if *dbURL == "" {
		return fmt.Errorf("-db is required: the server's DATABASE_URL")
	}
	if *tries < 1 {
		return fmt.Errorf("-tries must be at least 1")
	}
	if *quantity == 0 {
		*quantity = *buyers * 3 / 4
	}
	ctx := context.Background()
	d, err := openDB(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer d.Close()

	fmt.Printf("setup: %d verified members with tokens, a sale of %d units (limit %d)\n", *buyers, *quantity, *limit)
	tokens, err := makeBuyers(ctx, d, *buyers)
	if err != nil {
		return err
	}
	sale, err := makeSale(ctx, d, *quantity, *limit)
	if err != nil {
		return err
	}
	c := newClient(*url, *workers)
	instances := len(c.urls)
	send := func(ctx context.Context, r request) (string, error) {
		a, err := c.postTo(ctx, r.instance, r.token, r.body)
		if err != nil {
			return "", err
		}
		return a.Code(), nil
	}
	// Requests without a member of their own go round the instances.
	var turn atomic.Int64
	anyInstance := func(token string, b []byte) func(int) (request, bool) {
		return func(int) (request, bool) { return request{token: token, body: b, instance: int(turn.Add(1))}, true }
	}

	idleTx, idleStmts := int64(-1), -1.0
	if *idle && d.Postgres() {
		time.Sleep(*statsSettle)
		before, _ := dbActivity(ctx, d)
		st0 := statements(c.urls)
		time.Sleep(*refusals + *statsSettle)
		after, _ := dbActivity(ctx, d)
		if n := since(c.urls, st0); n >= 0 {
			idleStmts = n * refusals.Seconds() / (*refusals + *statsSettle).Seconds()
		}
		if before >= 0 && after >= 0 {
			idleTx = after - before
		}
		fmt.Printf("idle background: %d database transactions in %s\n", idleTx, *refusals+*statsSettle)
	}

	typename := body(`{ __typename }`, nil)
	base := measureAt(ctx, *baseline, *workers, anyInstance("", typename), send)
	fmt.Printf("baseline { __typename } on %d instance(s): %.0f requests/s, p50 %s, p99 %s\n",
		instances, base.rate, ms(percentile(base.t.latencies, .5)), ms(percentile(base.t.latencies, .99)))

	if *warm {
		page := body(`query($id: ID!) { flashSale(id: $id) { remaining status } me { id } }`, map[string]any{"id": sale.ID})
		var next atomic.Int64
		all := int64(len(tokens) * instances)
		t, took := hammerAt(ctx, *workers, func(int) (request, bool) {
			i := next.Add(1) - 1
			return request{token: tokenAt(tokens, i%int64(len(tokens))), body: page, instance: int(i / int64(len(tokens)))}, i < all
		}, send)
		fmt.Printf("warm-up: %d buyers opened the sale page on each instance in %s (%v)\n", len(tokens), took.Round(time.Millisecond), t.codes)
	}

	buy := body(buyQuery, map[string]any{"i": map[string]any{"flashSaleID": sale.ID}})
	if *export != "" {
		if err := exportLoad(*export, tokens, map[string][]byte{"typename.json": typename, "buy.json": buy}); err != nil {
			return err
		}
	}
	stormStmts := statements(c.urls)
	// The storm: every buyer's tries are next to each other in the queue, so
	// they are sent at about the same time, each to the next instance.
	var nextTry atomic.Int64
	storm, took := hammerAt(ctx, *workers, func(int) (request, bool) {
		j := nextTry.Add(1) - 1
		if j >= int64(len(tokens)**tries) {
			return request{}, false
		}
		buyer, try := int(j)/(*tries), int(j)%(*tries)
		return request{token: tokens[buyer], body: buy, instance: buyer + try}, true
	}, send)
	sold := storm.codes[""]
	stormStmts = since(c.urls, stormStmts)
	window := storm.last.Sub(storm.first)
	fmt.Printf("storm: %d requests in %s; answers %v\n", len(storm.latencies), took.Round(time.Millisecond), storm.codes)
	if stormStmts >= 0 && sold > 0 {
		fmt.Printf("statements during the storm (ent's and the hot paths', from the servers' metrics): %.0f, %.2f per purchase, %.2f per request\n",
			stormStmts, stormStmts/float64(sold), stormStmts/float64(len(storm.latencies)))
	}
	if window > 0 {
		rate := float64(sold) / window.Seconds()
		fmt.Printf("purchases: %d in %s = %.0f purchases/s = %.2f× { __typename }; latency of every buy p50 %s, p99 %s\n",
			sold, window.Round(time.Millisecond), rate, rate/base.rate,
			ms(percentile(storm.latencies, .5)), ms(percentile(storm.latencies, .99)))
	}

	// PostgreSQL (15) flushes a backend's statistics at most once a second
	// while it is busy, and 10 s after it went idle: wait for the storm's
	// before counting, and for the refusals' after.
	time.Sleep(*statsSettle)
	before, scansBefore := dbActivity(ctx, d)

	refuse := func(int) (request, bool) {
		return request{token: tokens[rand.IntN(len(tokens))], body: buy, instance: rand.IntN(instances)}, true
	}
	refStmts := statements(c.urls)
	ref := measureAt(ctx, *refusals, *workers, refuse, send)
	refStmts = since(c.urls, refStmts)
	time.Sleep(*statsSettle)
	after, scansAfter := dbActivity(ctx, d)

	// The same no-op again, now that the server is as warm as during the
	// refusals (the first baseline ran on a freshly started server).
	base2 := measureAt(ctx, *baseline, *workers, anyInstance("", typename), send)

	n := len(ref.t.latencies)
	fmt.Printf("refusals after selling out: %.0f requests/s, answers %v, p50 %s, p99 %s\n",
		ref.rate, ref.t.codes, ms(percentile(ref.t.latencies, .5)), ms(percentile(ref.t.latencies, .99)))
	fmt.Printf("  %.2f× { __typename } before the sale, %.2f× { __typename } after it (%.0f requests/s, p50 %s, p99 %s)\n",
		ref.rate/base.rate, ref.rate/base2.rate, base2.rate,
		ms(percentile(base2.t.latencies, .5)), ms(percentile(base2.t.latencies, .99)))
	if *pairs > 0 {
		ratios := make([]float64, *pairs)
		for i := range ratios {
			r := measureAt(ctx, time.Second, *workers, refuse, send)
			t := measureAt(ctx, time.Second, *workers, anyInstance("", typename), send)
			ratios[i] = r.rate / t.rate
		}
		fmt.Printf("  %d interleaved 1 s pairs of refusals and { __typename }: median %.2f× (min %.2f×, max %.2f×)\n",
			*pairs, median(ratios), slices.Min(ratios), slices.Max(ratios))
	}
	if before >= 0 && n > 0 {
		// Every statement outside a transaction is a transaction of its own,
		// so this bounds the queries from above (the server's background
		// workers' count too).
		fmt.Printf("database transactions during the refusals: %d (%.2f per 100 refusals)\n",
			after-before, 100*float64(after-before)/float64(n))
		if idleTx >= 0 {
			beyond := after - before - idleTx
			fmt.Printf("  beyond the idle background: %d (%.2f per 100 refusals)\n", beyond, 100*float64(beyond)/float64(n))
		}
		if refStmts >= 0 && idleStmts >= 0 {
			fmt.Printf("statements during the refusals: %.0f, %.0f beyond the idle background (%.2f per 100 refusals)\n",
				refStmts, refStmts-idleStmts, 100*(refStmts-idleStmts)/float64(n))
		}
		fmt.Printf("table scans during the refusals: %d (%.2f per 100 refusals)\n",
			scansAfter-scansBefore, 100*float64(scansAfter-scansBefore)/float64(n))
	}
	return checkInvariants(ctx, d, sale.ID)
}

func tokenAt(tokens []string, i int64) string {
	if i < int64(len(tokens)) {
		return tokens[i]
	}
	return ""
}

type measured struct {
	t    *tally
	rate float64
}

// measureFor hammers for a while and returns the answers per second.
func measureFor(ctx context.Context, d time.Duration, workers int, next func(int) (string, []byte, bool),
	send func(context.Context, string, []byte) (string, error)) measured {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	t, took := hammer(ctx, workers, next, send)
	return measured{t: t, rate: float64(len(t.latencies)) / took.Seconds()}
}

// measureAt is measureFor with requests that name their instance.
func measureAt(ctx context.Context, d time.Duration, workers int, next func(int) (request, bool),
	send func(context.Context, request) (string, error)) measured {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	t, took := hammerAt(ctx, workers, next, send)
	return measured{t: t, rate: float64(len(t.latencies)) / took.Seconds()}
}

func openDB(ctx context.Context, url string) (*db.DB, error) {
	target, err := db.Parse(url)
	if err != nil {
		return nil, err
	}
	return db.Open(ctx, target)
}

// makeBuyers creates verified members and signs each in; their phones
// carry a tag of the run, so that runs on one database do not collide.
func makeBuyers(ctx context.Context, d *db.DB, n int) ([]string, error) {
	tag := gid.New("run")[4:14]
	buyers, err := harness.MakeBuyers(ctx, d, harness.Buyers{N: n, PhonePrefix: "19" + string(tag[len(tag)-3:]), Name: "压测买家"})
	if err != nil {
		return nil, err
	}
	tokens := make([]string, len(buyers))
	for i, b := range buyers {
		tokens[i] = b.Token
	}
	return tokens, nil
}

// makeSale creates a product with the sale's units and a sale running now.
func makeSale(ctx context.Context, d *db.DB, quantity, limit int) (*ent.FlashSale, error) {
	return harness.MakeSale(ctx, d, quantity, limit, "压测")
}

// dbActivity is PostgreSQL's count of committed and rolled-back
// transactions in this database (every statement outside a transaction is
// one) and of sequential and index scans started on its tables; -1s on
// SQLite.
func dbActivity(ctx context.Context, d *db.DB) (transactions, scans int64) {
	if !d.Postgres() {
		return -1, -1
	}
	err := d.Pool.QueryRowContext(ctx, `SELECT
		(SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()),
		(SELECT COALESCE(SUM(COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0)), 0) FROM pg_stat_user_tables)`).Scan(&transactions, &scans)
	if err != nil {
		return -1, -1
	}
	return transactions, scans
}

// exportLoad writes tokens and request bodies for another load generator.
func exportLoad(dir string, tokens []string, bodies map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "tokens.txt"), []byte(strings.Join(tokens, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	for name, b := range bodies {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// checkInvariants audits the database's flash sales (chaos.AuditFlashSales):
// never oversold, nobody above the limit, sold equals the units of the
// sale's live orders, holdings equal them too.
func checkInvariants(ctx context.Context, d *db.DB, saleID gid.ID) error {
	var sold, quantity int
	if err := d.Pool.QueryRowContext(ctx, rebind(d, `SELECT sold, quantity FROM flash_sales WHERE id = ?`), saleID).Scan(&sold, &quantity); err != nil {
		return err
	}
	fmt.Printf("invariants: sale %s sold %d of %d\n", saleID, sold, quantity)
	broken := 0
	for _, c := range chaos.AuditFlashSales(ctx, d.Pool) {
		fmt.Printf("  %s: %s\n", c.Name, c.Figures)
		for _, v := range c.Violations {
			fmt.Printf("    ✗ %s\n", v)
		}
		broken += len(c.Violations)
	}
	if broken > 0 {
		return fmt.Errorf("INVARIANT BROKEN (%d violations)", broken)
	}
	fmt.Println("invariants hold")
	return nil
}

func rebind(d *db.DB, q string) string {
	if !d.Postgres() {
		return q
	}
	out, n := []byte{}, 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = append(out, fmt.Sprintf("$%d", n)...)
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}

// statements sums the instances' statements run through their
// prepared-statement caches (mall_db_statements_*_total: ent's and the hot
// paths' own SQL); -1 when an instance does not export them (SQLite).
func statements(urls []string) float64 {
	var n float64
	for _, u := range urls {
		m, err := harness.Metrics(strings.TrimSuffix(u, "/graphql"))
		if err != nil {
			return -1
		}
		p, ok := m["mall_db_statements_prepared_total"]
		if !ok {
			return -1
		}
		n += p + m["mall_db_statements_unprepared_total"]
	}
	return n
}

// since is how many statements ran since statements said before; -1 if
// either count is unknown.
func since(urls []string, before float64) float64 {
	now := statements(urls)
	if before < 0 || now < 0 {
		return -1
	}
	return now - before
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"unionmall/internal/chaos/harness"
)

// compareConfig is catalog -compare's flags.
type compareConfig struct {
	on, gzip                  bool
	uncached, cached, dbURL   string
	rounds, workers           int
	duration, warmup          time.Duration
	changeEvery               time.Duration
	pgDir, logDir             string
	pgPort, pgWorkers, pgPool int
}

// target is one server under the products page's load.
type target struct {
	name string
	c    *client
	body []byte
}

type pageRun struct {
	measured
	hits, misses float64 // the response cache's, during the run
}

func (r pageRun) String() string {
	s := fmt.Sprintf("%7.0f requests/s, p50 %s, p99 %s", r.rate, ms(percentile(r.t.latencies, .5)), ms(percentile(r.t.latencies, .99)))
	if bad := len(r.t.latencies) - r.t.codes[""]; bad > 0 {
		s += fmt.Sprintf(", ✗ %d failed: %v", bad, r.t.codes)
	}
	if r.hits+r.misses > 0 {
		s += fmt.Sprintf(", %.1f%% from the cache (%.0f computed)", 100*r.hits/(r.hits+r.misses), r.misses)
	}
	return s
}

// catalogCompare measures the products page on our uncached instance, on
// PostGraphile v4 (started here on the same database) and on our cached
// instance, in turn, rounds times, with the same client and connections,
// renaming a product of the page during the cached runs to check that no
// stale page is served.
func catalogCompare(ctx context.Context, cc compareConfig) error {
	if cc.uncached == "" || cc.cached == "" || cc.dbURL == "" {
		return errors.New("catalog -compare needs -uncached URL, -cached URL and -db DATABASE_URL")
	}
	d, err := openDB(ctx, cc.dbURL)
	if err != nil {
		return err
	}
	defer d.Close()
	total, rows, err := fetchPage(ctx, cc.uncached+"/graphql", catalogQuery, ourPage)
	if err != nil {
		return err
	}
	cTotal, cRows, err := fetchPage(ctx, cc.cached+"/graphql", catalogQuery, ourPage)
	if err != nil {
		return err
	}
	if err := samePages(total, rows, cTotal, cRows); err != nil {
		return fmt.Errorf("the two instances differ (the same database?): %w", err)
	}
	dir, err := postgraphileDir(cc.pgDir)
	if err != nil {
		return err
	}
	if cc.logDir == "" {
		if cc.logDir, err = os.MkdirTemp("", "mallbench-catalog-"); err != nil {
			return err
		}
	}
	pg, err := startPostGraphile(dir, cc.dbURL, cc.pgPort, cc.pgWorkers, cc.pgPool, cc.logDir)
	if err != nil {
		return err
	}
	defer pg.Stop()
	pTotal, pRows, err := fetchPage(ctx, pg.URL+"/graphql", pgCatalogQuery, postgraphilePage)
	if err != nil {
		return err
	}
	if err := samePages(total, rows, pTotal, pRows); err != nil {
		return err
	}
	fmt.Printf("answers: ours and PostGraphile's (%s, %d worker(s), pool %d) hold the same %d products of %d, suppliers and counties\n",
		pg.URL, cc.pgWorkers, cc.pgPool, len(rows), total)

	ch, err := newChanger(ctx, d, cc.cached, cc.uncached, rows[0])
	if err != nil {
		return err
	}
	for via := range 2 { // the ADMIN works on both, and the name is the original
		if err := ch.rename(ctx, via, 0); err != nil {
			return fmt.Errorf("rename through %s: %w", ch.via[via], err)
		}
	}
	defer func() { _ = ch.rename(context.Background(), 0, 0) }()

	unc := target{"ours uncached", pageClient(cc.uncached, cc.workers, cc.gzip), body(catalogQuery, nil)}
	ref := target{"PostGraphile", pageClient(pg.URL, cc.workers, cc.gzip), body(pgCatalogQuery, nil)}
	cac := target{"ours cached", pageClient(cc.cached, cc.workers, cc.gzip), body(catalogQuery, nil)}
	for _, t := range []target{unc, ref, cac} {
		runPage(ctx, t, cc.warmup, cc.workers, nil, "")
	}
	fmt.Printf("catalog: %d rounds of %s each, %d connections, renames every %s during the cached runs\n",
		cc.rounds, cc.duration, cc.workers, cc.changeEvery)
	var uRatios, cRatios []float64
	for round := 1; round <= cc.rounds; round++ {
		u := runPage(ctx, unc, cc.duration, cc.workers, nil, cc.uncached)
		p := runPage(ctx, ref, cc.duration, cc.workers, nil, "")
		renames, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); ch.run(renames, cc.changeEvery) }()
		c := runPage(ctx, cac, cc.duration, cc.workers, ch, cc.cached)
		stop()
		wg.Wait()
		if u.hits > 0 {
			return fmt.Errorf("the -uncached instance answered %.0f requests from its response cache: run it with RESPONSE_CACHE=0", u.hits)
		}
		if c.hits == 0 {
			return errors.New("the -cached instance answered nothing from its response cache (RESPONSE_CACHE=0?)")
		}
		uRatios, cRatios = append(uRatios, u.rate/p.rate), append(cRatios, c.rate/p.rate)
		fmt.Printf("round %d:\n  %-14s %s\n  %-14s %s\n  %-14s %s\n  ours÷PostGraphile: uncached %.2f×, cached %.2f×\n",
			round, unc.name, u, ref.name, p, cac.name, c, uRatios[round-1], cRatios[round-1])
	}
	fmt.Printf("ours÷PostGraphile over %d rounds: uncached median %.2f× (min %.2f×), cached median %.2f× (min %.2f×)\n",
		cc.rounds, median(uRatios), slices.Min(uRatios), median(cRatios), slices.Min(cRatios))
	ch.report()
	if n := ch.staleSame.Load() + ch.missing.Load(); n > 0 {
		return fmt.Errorf("%d stale or wrong answers from the cached instance", n)
	}
	return nil
}

// runPage loads t for d; with ch, it checks every answer's rename, and with
// metricsOf, it reads that server's cache counters before and after.
func runPage(ctx context.Context, t target, d time.Duration, workers int, ch *changer, metricsOf string) pageRun {
	send := func(ctx context.Context, token string, b []byte) (string, error) {
		var e expected
		var started time.Time
		if ch != nil {
			e, started = ch.expect(), time.Now()
		}
		code, answer, err := postPage(ctx, t.c, b)
		if err != nil {
			return "", err
		}
		if ch != nil && code == "" {
			ch.check(answer, e, started)
		}
		return code, nil
	}
	h0, m0 := cacheCounts(metricsOf)
	m := measureFor(ctx, d, workers, func(int) (string, []byte, bool) { return "", t.body, true }, send)
	h1, m1 := cacheCounts(metricsOf)
	return pageRun{measured: m, hits: h1 - h0, misses: m1 - m0}
}

// cacheCounts reads a server's response cache counters (zeros without).
func cacheCounts(base string) (hits, misses float64) {
	if base == "" {
		return 0, 0
	}
	m, err := harness.Metrics(base)
	if err != nil {
		return 0, 0
	}
	return m["mall_response_cache_hits_total"], m["mall_response_cache_misses_total"]
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

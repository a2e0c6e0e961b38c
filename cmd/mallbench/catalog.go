package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"time"
)

const catalogQuery = `{ products(first: 20) { totalCount edges { node { id name salePrice category supplier { name county { name } } county { name } } } } }`

func catalog(args []string) error {
	fs := flag.NewFlagSet("catalog", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8080", "the server (without -compare)")
	workers := fs.Int("workers", 64, "concurrent clients (keep-alive connections)")
	duration := fs.Duration("duration", 10*time.Second, "how long each measurement runs")
	var cc compareConfig
	fs.BoolVar(&cc.gzip, "gzip", false, "ask for gzip (Accept-Encoding), as browsers do; by default answers come plain, as with wrk (PostGraphile compresses nothing)")
	fs.BoolVar(&cc.on, "compare", false, "measure our server uncached, PostGraphile v4 and our server cached, alternating, as ratios to PostGraphile")
	fs.StringVar(&cc.uncached, "uncached", "", "with -compare: an instance of ours run with RESPONSE_CACHE=0")
	fs.StringVar(&cc.cached, "cached", "", "with -compare: an instance of ours with the response cache, on the same database")
	fs.StringVar(&cc.dbURL, "db", "", "with -compare: the DATABASE_URL both instances run on (PostGraphile serves it; the ADMIN that renames is made in it)")
	fs.IntVar(&cc.rounds, "rounds", 3, "with -compare: how many times the three measurements alternate")
	fs.DurationVar(&cc.warmup, "warmup", 3*time.Second, "with -compare: unmeasured load on each server before the first round")
	fs.DurationVar(&cc.changeEvery, "change-every", time.Second, "with -compare: how often a product of the page is renamed during the cached measurement")
	fs.StringVar(&cc.pgDir, "postgraphile-dir", "", "with -compare: a directory with PostGraphile in node_modules (default: npm ci of cmd/mallbench/postgraphile's lock into the user's cache directory, once)")
	fs.IntVar(&cc.pgPort, "postgraphile-port", 0, "with -compare: PostGraphile's port on 127.0.0.1 (0: a free one)")
	fs.IntVar(&cc.pgWorkers, "postgraphile-workers", 1, "with -compare: PostGraphile's --cluster-workers (1: one process)")
	fs.IntVar(&cc.pgPool, "postgraphile-pool", 10, "with -compare: PostGraphile's --max-pool-size per worker (give our instances the same DATABASE_MAX_CONNS)")
	fs.StringVar(&cc.logDir, "logdir", "", "with -compare: where PostGraphile's log goes (default: a temporary directory)")
	_ = fs.Parse(args)
	cc.workers, cc.duration = *workers, *duration
	if cc.on {
		return catalogCompare(context.Background(), cc)
	}
	c := pageClient(*url, *workers, cc.gzip)
	b := body(catalogQuery, nil)
	m := measureFor(context.Background(), *duration, *workers, func(int) (string, []byte, bool) { return "", b, true },
		func(ctx context.Context, token string, b []byte) (string, error) {
			code, _, err := postPage(ctx, c, b)
			return code, err
		})
	fmt.Printf("catalog: %.0f requests/s, answers %v, p50 %s, p99 %s\n",
		m.rate, m.t.codes, ms(percentile(m.t.latencies, .5)), ms(percentile(m.t.latencies, .99)))
	return nil
}

// pageClient is newClient asking for gzip only if told (Go's transport asks
// for it unless DisableCompression, and then decodes it in the client's
// CPU time).
func pageClient(url string, conns int, gzip bool) *client {
	c := newClient(url, conns)
	c.http.Transport.(*http.Transport).DisableCompression = !gzip
	return c
}

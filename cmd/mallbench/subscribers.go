package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"
)

// subscribers buys at a steady rate without watchers (the reference), then
// opens many websocket subscribers to one sale's stock, spread over one or
// more servers and, beyond one process's open-file limit, over client
// processes; reads the servers' memory per connection; buys again at the
// same rate on the first server while they watch; and measures how long
// each purchase takes to reach every subscriber and how much slower the
// purchases were than the reference.
func subscribers(args []string) error {
	fs := flag.NewFlagSet("subscribers", flag.ExitOnError)
	urls := fs.String("url", "http://127.0.0.1:8080", "the servers, comma-separated: connections go round-robin to them, purchases to the first")
	dbURL := fs.String("db", "", "the servers' DATABASE_URL (setup: the sales and their buyers)")
	n := fs.Int("n", 2000, "websocket subscribers, one connection each")
	buys := fs.Int("buys", 50, "purchases made one after another, without watchers and then while the subscribers watch")
	rateFlag := fs.String("rate", "20/s", "purchases per second (N, N/s or N/m)")
	ref := fs.Bool("ref", true, "make the reference purchases without watchers first")
	protoName := fs.String("protocol", "graphql-transport-ws", "websocket subprotocol: graphql-transport-ws or graphql-ws (legacy)")
	dials := fs.Int("dials", 200, "connections being opened at once (each holds its slot until its initial state arrived)")
	sources := fs.Int("sources", 0, "spread connections over source addresses 127.0.0.1..127.0.0.K (loopback servers only); 0: one per 8000 connections")
	procs := fs.Int("procs", 0, "client processes holding the connections (re-executions of this binary); 0: as few as this process's open-file limit allows")
	settle := fs.Duration("settle", 2*time.Second, "wait after opening before reading the servers' memory")
	debug := fs.String("debug", "", "the servers' DEBUG_ADDRs as URLs, comma-separated in -url's order (e.g. http://127.0.0.1:6161): make each collect garbage (/debug/pprof/heap?gc=1) before each memory reading")
	cpuProfile := fs.String("cpuprofile", "", "write this tool's own CPU profile of the purchase phase to the file")
	timeout := fs.Duration("timeout", 60*time.Second, "how long to wait for all initial states, and for the final state after the last purchase")
	childMode := fs.Bool("child", false, "internal: hold subscribers for a parent run (config and commands on stdin)")
	_ = fs.Parse(args)
	if *childMode {
		return runChild()
	}
	if *dbURL == "" {
		return fmt.Errorf("-db is required: the servers' DATABASE_URL")
	}
	if _, ok := wsProtocols[*protoName]; !ok {
		return fmt.Errorf("-protocol must be graphql-transport-ws or graphql-ws")
	}
	rate, err := parseRate(*rateFlag)
	if err != nil {
		return err
	}
	if *n < 1 || *buys < 1 || *dials < 1 {
		return fmt.Errorf("-n, -buys and -dials must be positive")
	}
	bases := splitList(*urls)
	debugs := splitList(*debug)
	if len(debugs) != 0 && len(debugs) != len(bases) {
		return fmt.Errorf("-debug: give one per -url (%d), or none", len(bases))
	}
	for len(debugs) < len(bases) {
		debugs = append(debugs, "")
	}
	ctx := context.Background()

	// 1. Setup: one sale for the reference, one to watch, a buyer per purchase.
	d, err := openDB(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer d.Close()
	quantity := *buys + 10
	fmt.Printf("setup: %d verified members with tokens, three running sales of %d units (limit 1): one bought without watchers before and one after, one watched\n", 3**buys, quantity)
	tokens, err := makeBuyers(ctx, d, 3**buys)
	if err != nil {
		return err
	}
	refSale, err := makeSale(ctx, d, quantity, 1)
	if err != nil {
		return err
	}
	afterSale, err := makeSale(ctx, d, quantity, 1)
	if err != nil {
		return err
	}
	sale, err := makeSale(ctx, d, quantity, 1)
	if err != nil {
		return err
	}
	c := newClient(bases[0], 1)

	// 2. The reference: the same purchases, nobody watching.
	var refP purchases
	var refCPU float64
	if *ref {
		cpu0 := serverCPU(ctx, bases)
		refP = buyAt(ctx, c, tokens[:*buys], refSale.ID, rate, 0)
		refCPU = serverCPU(ctx, bases) - cpu0
		fmt.Printf("reference purchases without watchers (%s): %s; servers' CPU %.2f s\n", bases[0], refP, refCPU)
	}

	// 3. Open the subscribers.
	before := make([]memory, len(bases))
	for i, b := range bases {
		if before[i], err = serverMemory(ctx, b, debugs[i]); err != nil {
			return err
		}
		fmt.Printf("server %s before: %s\n", b, before[i])
	}
	cfg := holdConfig{URLs: bases, Total: *n, Sources: *sources, Sale: string(sale.ID), Protocol: *protoName, Dials: *dials, Timeout: *timeout}
	members, err := startMembers(cfg, *procs)
	if err != nil {
		return err
	}
	o, err := openAll(ctx, members)
	if err != nil {
		return err
	}
	fmt.Printf("opened: %d subscribers (%s) on %d server(s) from %d client process(es) (file limit %d each), %d dials at once, in %s = %.0f connections/s, each with its initial state (sold %d)\n",
		o.N, *protoName, len(bases), len(members), fileLimit(), *dials, o.Took.Round(time.Millisecond), float64(o.N)/o.Took.Seconds(), o.Sold0)

	// 4. Memory per connection, per server and over all.
	time.Sleep(*settle)
	var sumB, sumA memory
	for i, b := range bases {
		after, err := serverMemory(ctx, b, debugs[i])
		if err != nil {
			each(members, func(m member) closed { return m.close() })
			return err
		}
		k := *n / len(bases)
		if i < *n%len(bases) {
			k++
		}
		fmt.Printf("server %s with %d subscribers: %s\n  per connection: %s\n", b, k, after, perConnection(before[i], after, k))
		sumB, sumA = sumB.plus(before[i]), sumA.plus(after)
	}
	if len(bases) > 1 {
		fmt.Printf("all %d servers, per connection: %s\n", len(bases), perConnection(sumB, sumA, *n))
	}

	// 5. The same purchases while they watch.
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	cpu0 := serverCPU(ctx, bases)
	p := buyAt(ctx, c, tokens[*buys:2**buys], sale.ID, rate, o.Sold0)
	cpu := serverCPU(ctx, bases) - cpu0
	fmt.Printf("purchases while %d watch (%s): %s; servers' CPU %.2f s (%.2f s more than without watchers)\n", *n, bases[0], p, cpu, cpu-refCPU)
	if *ref {
		fmt.Printf("purchase p99 with watchers ÷ without: %s (p50 %s; %s vs %s)\n",
			ratio(percentile(p.lat, .99), percentile(refP.lat, .99)), ratio(percentile(p.lat, .5), percentile(refP.lat, .5)),
			ms(percentile(p.lat, .99)), ms(percentile(refP.lat, .99)))
	}
	p.created(ctx, d, sale.ID)
	final := o.Sold0 + int64(len(p.done))
	results := each(members, func(m member) holdResult {
		r, err := m.receipts(p.done, final)
		if err != nil {
			fmt.Printf("(receipts of a client process: %v)\n", err)
		}
		return r
	})
	pprof.StopCPUProfile() // a no-op without -cpuprofile
	var r holdResult
	for _, x := range results {
		r.add(x)
	}
	reportReceipts(r, len(p.done), *n, final)
	if r.MsgsSum > 0 {
		fmt.Printf("servers' CPU per message written (above the reference): %.1f µs\n", (cpu-refCPU)/float64(r.MsgsSum)*1e6)
	}

	// 6. Close: a close frame each, then wait for the servers to close back.
	var cl closed
	for _, x := range each(members, func(m member) closed { return m.close() }) {
		cl.add(x)
	}
	fmt.Printf("closing: close frames sent in %s, all %d connections closed by the servers in %s (%d forced after 10 s)\n",
		cl.Frames.Round(time.Millisecond), *n, cl.Took.Round(time.Millisecond), cl.Forced)
	time.Sleep(3 * time.Second)
	if *ref {
		// The machine's other load drifts: the same reference once more,
		// with nobody watching again, shows how much.
		after := buyAt(ctx, c, tokens[2**buys:], afterSale.ID, rate, 0)
		fmt.Printf("reference purchases again after closing: %s\n", after)
		fmt.Printf("purchase p99 with watchers ÷ without, against the reference after: %s (%s vs %s)\n",
			ratio(percentile(p.lat, .99), percentile(after.lat, .99)), ms(percentile(p.lat, .99)), ms(percentile(after.lat, .99)))
	}
	for i, b := range bases {
		if m, err := serverMemory(ctx, b, debugs[i]); err == nil {
			fmt.Printf("server %s 3 s after closing: goroutines %.0f (baseline %.0f, %+.0f); %s\n",
				b, m.goroutines, before[i].goroutines, m.goroutines-before[i].goroutines, m)
		}
	}

	switch {
	case cl.Err != "":
		return fmt.Errorf("closing: %s", cl.Err)
	case cl.ReadErrs > 0:
		return fmt.Errorf("%d subscribers lost their connection during the run; the first: %v", cl.ReadErrs, cl.FirstReadErr)
	case len(p.done) < *buys || len(refP.done) < *buys && *ref:
		return fmt.Errorf("purchases failed: %v without watchers, %v with", refP.codes, p.codes)
	case r.Got < *n || r.Broken > 0:
		return fmt.Errorf("FAILED: only %d of %d subscribers got the final state", r.Got, *n)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSuffix(strings.TrimSpace(f), "/"); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// perConnection describes the growth from a to b over k connections.
func perConnection(a, b memory, k int) string {
	per := func(x, y float64) float64 { return (y - x) / float64(max(k, 1)) / 1024 }
	s := fmt.Sprintf("heap+stack in use %.1f KB (heap %.1f, of it objects %.1f; stack %.1f), RSS %.1f KB (%.1f without idle heap), goroutines %.2f",
		per(a.heap+a.stack, b.heap+b.stack), per(a.heap, b.heap), per(a.alloc, b.alloc), per(a.stack, b.stack),
		per(a.rss, b.rss), per(a.rssNet(), b.rssNet()), per(a.goroutines, b.goroutines)*1024)
	if !b.gc {
		s += " (no forced GC: heap figures include garbage; give -debug for steadier ones)"
	}
	return s
}

func reportReceipts(r holdResult, purchases, n int, final int64) {
	fmt.Printf("commit-to-receipt over %d (subscriber, purchase) pairs, from the purchase's answer (a lower bound: the commit is before it): %s\n",
		len(r.Lat), quantiles(r.Lat))
	if len(r.LatMade) == len(r.Lat) {
		fmt.Printf("  from the order's created_at (an upper bound: the server's clock as its batch began, just before the commit): %s\n", quantiles(r.LatMade))
	}
	fmt.Printf("  from the request's start: %s\n", quantiles(r.LatSent))
	fmt.Printf("time until all %d subscribers had a purchase: p50 %s, max %s over %d purchases\n",
		n, ms(percentile(r.AllHad, .5)), ms(percentile(r.AllHad, 1)), purchases)
	fmt.Printf("messages per subscriber during the sale: min %d, mean %.1f, max %d (%.1f purchases per message)\n",
		r.MsgsMin, float64(r.MsgsSum)/float64(max(n, 1)), r.MsgsMax, float64(purchases)*float64(n)/float64(max(r.MsgsSum, 1)))
	fmt.Printf("final state (sold %d): %d of %d subscribers, the last %s after the last purchase was answered\n",
		final, r.Got, n, ms(r.LastFinal))
}

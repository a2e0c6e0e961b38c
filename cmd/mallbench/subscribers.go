package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// subscribers opens many websocket subscribers to one sale's stock, reads
// the server's memory per connection, then buys at a steady rate and
// measures how long each purchase takes to reach every subscriber.
func subscribers(args []string) error {
	fs := flag.NewFlagSet("subscribers", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "the server")
	dbURL := fs.String("db", "", "the server's DATABASE_URL (setup: the sale and its buyers)")
	n := fs.Int("n", 2000, "websocket subscribers, one connection each")
	buys := fs.Int("buys", 50, "purchases made one after another while the subscribers watch")
	rateFlag := fs.String("rate", "20/s", "purchases per second (N, N/s or N/m)")
	protoName := fs.String("protocol", "graphql-transport-ws", "websocket subprotocol: graphql-transport-ws or graphql-ws (legacy)")
	dials := fs.Int("dials", 200, "connections being opened at once (each holds its slot until its initial state arrived)")
	sources := fs.Int("sources", 0, "spread connections over source addresses 127.0.0.1..127.0.0.K (loopback servers only); 0: one per 8000 connections")
	settle := fs.Duration("settle", 2*time.Second, "wait after opening before reading the server's memory")
	debug := fs.String("debug", "", "the server's DEBUG_ADDR as a URL (e.g. http://127.0.0.1:6161): make the server collect garbage (/debug/pprof/heap?gc=1) before each memory reading")
	cpuProfile := fs.String("cpuprofile", "", "write this tool's own CPU profile of the purchase phase to the file")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for all initial states, and for the final state after the last purchase")
	_ = fs.Parse(args)
	if *dbURL == "" {
		return fmt.Errorf("-db is required: the server's DATABASE_URL")
	}
	proto, ok := wsProtocols[*protoName]
	if !ok {
		return fmt.Errorf("-protocol must be graphql-transport-ws or graphql-ws")
	}
	rate, err := parseRate(*rateFlag)
	if err != nil {
		return err
	}
	if *n < 1 || *buys < 1 || *dials < 1 {
		return fmt.Errorf("-n, -buys and -dials must be positive")
	}
	*base = strings.TrimSuffix(*base, "/")
	wsURL, dialers, err := wsDialers(*base, proto.name, *n, *sources)
	if err != nil {
		return err
	}
	ctx := context.Background()

	// 1. Setup.
	d, err := openDB(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer d.Close()
	quantity := 2**buys + 10
	fmt.Printf("setup: %d verified members with tokens, a running sale of %d units (limit 1)\n", *buys, quantity)
	tokens, err := makeBuyers(ctx, d, *buys)
	if err != nil {
		return err
	}
	sale, err := makeSale(ctx, d, quantity, 1)
	if err != nil {
		return err
	}

	// 2. Baseline, then open the subscribers.
	before, err := serverMemory(ctx, *base, *debug)
	if err != nil {
		return err
	}
	fmt.Printf("server before: %s\n", before)

	subs := make([]*subscriber, *n)
	for i := range subs {
		subs[i] = &subscriber{proto: proto, done: make(chan struct{})}
	}
	subscribe, _ := json.Marshal(map[string]any{"id": subID, "type": proto.subscribe,
		"payload": map[string]any{"query": stockSubscription, "variables": map[string]any{"id": sale.ID}}})
	var (
		readers  sync.WaitGroup
		slots    = make(chan struct{}, *dials)
		openErrs atomic.Int64
		firstErr atomic.Pointer[error]
		opened   sync.WaitGroup
	)
	openCtx, cancelOpen := context.WithTimeout(ctx, *timeout)
	start := time.Now()
	for i, s := range subs {
		readers.Add(1)
		opened.Add(1)
		go func() {
			defer readers.Done()
			defer close(s.done)
			slots <- struct{}{}
			err := s.open(openCtx, dialers[i%len(dialers)], wsURL, subscribe)
			<-slots
			opened.Done()
			if err != nil {
				s.err = err
				if openErrs.Add(1) == 1 {
					firstErr.Store(&err)
				}
				if s.conn != nil {
					_ = s.conn.Close()
				}
				return
			}
			s.read()
		}()
	}
	opened.Wait()
	openTook := time.Since(start)
	cancelOpen()
	closeAll := func() {
		for _, s := range subs {
			if s.conn != nil {
				_ = s.conn.Close()
			}
		}
		readers.Wait()
	}
	if k := openErrs.Load(); k > 0 {
		closeAll()
		return fmt.Errorf("%d of %d subscribers failed to open or get their initial state; the first: %v", k, *n, *firstErr.Load())
	}
	sold0 := subs[0].lastSold.Load()
	for _, s := range subs {
		if s.lastSold.Load() != sold0 {
			closeAll()
			return fmt.Errorf("initial states disagree: sold %d and %d", sold0, s.lastSold.Load())
		}
	}
	fmt.Printf("opened: %d subscribers (%s, %d source address(es), %d dials at once) in %s = %.0f connections/s, each with its initial state (sold %d)\n",
		*n, proto.name, len(dialers), *dials, openTook.Round(time.Millisecond), float64(*n)/openTook.Seconds(), sold0)

	// 3. Memory per connection.
	time.Sleep(*settle)
	after, err := serverMemory(ctx, *base, *debug)
	if err != nil {
		closeAll()
		return err
	}
	fmt.Printf("server with %d subscribers: %s\n", *n, after)
	perConn := func(a, b float64) float64 { return (a - b) / float64(*n) }
	fmt.Printf("per connection: heap+stack in use %.1f KB (heap %.1f, of it objects %.1f; stack %.1f), RSS %.1f KB (%.1f without idle heap), goroutines %.2f\n",
		perConn(after.heap+after.stack, before.heap+before.stack)/1024,
		perConn(after.heap, before.heap)/1024, perConn(after.alloc, before.alloc)/1024, perConn(after.stack, before.stack)/1024,
		perConn(after.rss, before.rss)/1024, perConn(after.rssNet(), before.rssNet())/1024,
		perConn(after.goroutines, before.goroutines))
	if !after.gc {
		fmt.Println("  (no forced GC: heap figures include garbage; give -debug for steadier ones)")
	}

	// 4. Purchases at a steady rate; every subscriber times each one.
	c := newClient(*base, 1)
	buy := body(buyQuery, map[string]any{"i": map[string]any{"flashSaleID": sale.ID}})
	interval := time.Duration(float64(time.Second) / rate)
	type purchase struct {
		sent     time.Time // the request left: the commit is after
		answered time.Time // the HTTP response arrived: the commit is before
		sold     int64     // the sale's sold count after it
		order    string    // the order's ID
		created  time.Time // the order's created_at: the server's clock when its batch began, just before the commit
	}
	var done []purchase
	codes := map[string]int{}
	sold := sold0
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			closeAll()
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			closeAll()
			return err
		}
	}
	saleStart := time.Now()
	for i := range *buys {
		if wait := time.Until(saleStart.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		t0 := time.Now()
		r, err := c.post(ctx, tokens[i], buy)
		now := time.Now()
		code := ""
		switch {
		case err != nil:
			code = "TRANSPORT: " + err.Error()
		default:
			code = r.Code()
		}
		codes[code]++
		if code == "" {
			sold++
			var o struct {
				Buy struct {
					ID string `json:"id"`
				} `json:"buyFlashSale"`
			}
			_ = json.Unmarshal(r.Data, &o)
			done = append(done, purchase{sent: t0, answered: now, sold: sold, order: o.Buy.ID})
		}
	}
	saleTook := time.Since(saleStart)
	var took []time.Duration
	for _, p := range done {
		took = append(took, p.answered.Sub(p.sent))
	}
	fmt.Printf("purchases: %d at %.4g/s in %s, answers %v, request p50 %s, p99 %s\n", *buys, rate,
		saleTook.Round(time.Millisecond), codes, ms(percentile(took, .5)), ms(percentile(took, .99)))

	created, err := orderTimes(ctx, d, sale.ID)
	if err != nil {
		fmt.Printf("(no created_at of the orders: %v)\n", err)
	}
	for k := range done {
		done[k].created = created[done[k].order]
	}

	// Wait for the final state everywhere.
	final := sold
	var lastAnswer time.Time
	if len(done) > 0 {
		lastAnswer = done[len(done)-1].answered
	}
	deadline := time.Now().Add(*timeout)
	got := 0
	for {
		got = 0
		for _, s := range subs {
			if s.lastSold.Load() >= final {
				got++
			}
		}
		if got == *n || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	pprof.StopCPUProfile() // a no-op without -cpuprofile

	var (
		lat       []time.Duration // every (subscriber, purchase) pair, from the answer
		latSent   []time.Duration // the same from the request's start
		latMade   []time.Duration // the same from the order's created_at
		allHad    = make([]time.Duration, len(done))
		msgs      []int
		lastFinal time.Duration // the last subscriber to get the final state, after the last answer
		broken    int
	)
	for _, s := range subs {
		s.mu.Lock()
		ev := append([]stockEvent(nil), s.events...)
		s.mu.Unlock()
		msgs = append(msgs, len(ev)-1) // the initial state is not counted
		j := 0
		for k, p := range done {
			for j < len(ev) && ev[j].sold < p.sold {
				j++
			}
			if j == len(ev) {
				broken++
				break
			}
			l := max(ev[j].at.Sub(p.answered), 0)
			lat = append(lat, l)
			latSent = append(latSent, ev[j].at.Sub(p.sent))
			if !p.created.IsZero() {
				latMade = append(latMade, ev[j].at.Sub(p.created))
			}
			allHad[k] = max(allHad[k], l)
			if k == len(done)-1 {
				lastFinal = max(lastFinal, ev[j].at.Sub(lastAnswer))
			}
		}
	}
	minM, maxM, sumM := msgs[0], msgs[0], 0
	for _, m := range msgs {
		minM, maxM, sumM = min(minM, m), max(maxM, m), sumM+m
	}
	fmt.Printf("receipt latency (first state including the purchase − its answer) over %d (subscriber, purchase) pairs: %s\n",
		len(lat), quantiles(lat))
	if len(latMade) == len(lat) {
		fmt.Printf("  the same from the order's created_at (an upper bound: the server's clock as its batch began, just before the commit): %s\n", quantiles(latMade))
	}
	fmt.Printf("  the same from the request's start: %s\n", quantiles(latSent))
	fmt.Printf("time until all %d subscribers had a purchase: p50 %s, max %s over %d purchases\n",
		*n, ms(percentile(allHad, .5)), ms(percentile(allHad, 1)), len(done))
	fmt.Printf("messages per subscriber during the sale: min %d, mean %.1f, max %d (%.1f purchases per message)\n",
		minM, float64(sumM)/float64(*n), maxM, float64(len(done))*float64(*n)/float64(max(sumM, 1)))
	fmt.Printf("final state (sold %d): %d of %d subscribers, the last %s after the last purchase was answered\n",
		final, got, *n, ms(lastFinal))

	// 5. Close: a close frame each, then wait for the server to close back.
	closeStart := time.Now()
	for _, s := range subs {
		s.closing.Store(true)
		_ = s.conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(5*time.Second))
	}
	framesTook := time.Since(closeStart)
	waitAll := make(chan struct{})
	go func() { readers.Wait(); close(waitAll) }()
	forced := 0
	select {
	case <-waitAll:
	case <-time.After(10 * time.Second):
		for _, s := range subs {
			select {
			case <-s.done:
			default:
				forced++
			}
		}
	}
	closeTook := time.Since(closeStart)
	closeAll()
	readErrs := 0
	var readErr error
	for _, s := range subs {
		if s.err != nil {
			if readErrs == 0 {
				readErr = s.err
			}
			readErrs++
		}
	}
	fmt.Printf("closing: close frames sent in %s, all %d connections closed by the server in %s (%d forced after 10 s)\n",
		framesTook.Round(time.Millisecond), *n, closeTook.Round(time.Millisecond), forced)
	time.Sleep(3 * time.Second)
	if m, err := serverMemory(ctx, *base, *debug); err == nil {
		fmt.Printf("server 3 s after closing: goroutines %.0f (baseline %.0f, %+.0f); %s\n",
			m.goroutines, before.goroutines, m.goroutines-before.goroutines, m)
	}

	switch {
	case readErrs > 0:
		return fmt.Errorf("%d subscribers lost their connection during the run; the first: %v", readErrs, readErr)
	case len(done) < *buys:
		return fmt.Errorf("%d of %d purchases failed: %v", *buys-len(done), *buys, codes)
	case got < *n || broken > 0:
		return fmt.Errorf("FAILED: only %d of %d subscribers got the final state", got, *n)
	}
	return nil
}

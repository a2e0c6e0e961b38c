package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"unionmall/internal/db"
	"unionmall/internal/gid"
)

// stockSubscription is what a flash-sale overlay asks for.
const stockSubscription = `subscription($id: ID!) { flashSaleStock(flashSaleID: $id) { sold remaining status updatedAt } }`

// subID is the one subscription each connection starts.
const subID = "1"

// wsProtocol is one of the two subprotocols' message types.
type wsProtocol struct {
	name      string
	subscribe string // start a subscription
	data      string // an event
	suffix    []byte // how gqlgen ends an event of subscription subID
}

var wsProtocols = map[string]wsProtocol{
	"graphql-transport-ws": {name: "graphql-transport-ws", subscribe: "subscribe", data: "next",
		suffix: []byte(`}}},"id":"` + subID + `","type":"next"}`)},
	"graphql-ws": {name: "graphql-ws", subscribe: "start", data: "data",
		suffix: []byte(`}}},"id":"` + subID + `","type":"data"}`)},
}

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

// orderTimes returns the created_at of the sale's orders by ID.
func orderTimes(ctx context.Context, d *db.DB, saleID gid.ID) (map[string]time.Time, error) {
	rows, err := d.Pool.QueryContext(ctx, rebind(d, `SELECT id, created_at FROM orders WHERE flash_sale_id = ?`), saleID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return nil, err
		}
		out[id] = at
	}
	return out, rows.Err()
}

// quantiles sorts ds and describes them.
func quantiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	slices.Sort(ds)
	at := func(p float64) string { return ms(ds[int(p*float64(len(ds)-1))]) }
	return fmt.Sprintf("p50 %s, p90 %s, p99 %s, max %s", at(.5), at(.9), at(.99), at(1))
}

// parseRate reads "20", "20/s" or "600/m" as events per second.
func parseRate(s string) (float64, error) {
	per := 1.0
	switch {
	case strings.HasSuffix(s, "/s"):
		s = strings.TrimSuffix(s, "/s")
	case strings.HasSuffix(s, "/m"):
		s, per = strings.TrimSuffix(s, "/m"), 60
	}
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || r <= 0 {
		return 0, fmt.Errorf("-rate: want a positive number per second, such as 20/s")
	}
	return r / per, nil
}

// wsDialers returns the websocket URL of the server's /graphql and one
// dialer per source address (a single default one unless the server is on
// an IPv4 loopback address and more than one source is wanted).
func wsDialers(base, protocol string, n, sources int) (string, []*websocket.Dialer, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", nil, fmt.Errorf("-url must be http:// or https://")
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/graphql"
	ip := net.ParseIP(u.Hostname())
	loopback := ip != nil && ip.To4() != nil && ip.IsLoopback()
	if sources == 0 {
		sources = 1
		if loopback {
			sources = (n + 7999) / 8000
		}
	}
	if sources > 1 && !loopback {
		return "", nil, fmt.Errorf("-sources > 1 needs a server on 127.x.x.x")
	}
	if sources > 254 {
		return "", nil, fmt.Errorf("-sources: at most 254")
	}
	var ds []*websocket.Dialer
	for k := 1; k <= sources; k++ {
		nd := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: -1}
		if sources > 1 {
			nd.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(k))}
		}
		ds = append(ds, &websocket.Dialer{
			NetDialContext:   nd.DialContext,
			HandshakeTimeout: 10 * time.Second,
			ReadBufferSize:   1024,
			WriteBufferSize:  1024,
			Subprotocols:     []string{protocol},
		})
	}
	return u.String(), ds, nil
}

// subscriber is one websocket connection with one flashSaleStock
// subscription; its own goroutine reads it.
type subscriber struct {
	proto    wsProtocol
	conn     *websocket.Conn
	lastSold atomic.Int64 // the latest sold received
	closing  atomic.Bool  // we sent a close frame: a read error is the end
	done     chan struct{}
	err      error        // why reading stopped, if not our close; read after done
	buf      bytes.Buffer // the message being read

	mu     sync.Mutex
	events []stockEvent // every state received, in arrival order
}

type stockEvent struct {
	at   time.Time
	sold int64
}

// wsMessage is one message of either subprotocol.
type wsMessage struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// open dials, says connection_init, subscribes and reads until the
// initial state arrived.
func (s *subscriber) open(ctx context.Context, d *websocket.Dialer, wsURL string, subscribe []byte) error {
	c, res, err := d.DialContext(ctx, wsURL, nil)
	if err != nil {
		if res != nil {
			err = fmt.Errorf("%w (HTTP %s)", err, res.Status)
		}
		return err
	}
	s.conn = c
	if c.Subprotocol() != s.proto.name {
		return fmt.Errorf("server chose subprotocol %q", c.Subprotocol())
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetReadDeadline(dl)
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"connection_init","payload":{}}`)); err != nil {
		return err
	}
	for acked := false; !acked; {
		typ, err := s.next()
		if err != nil {
			return err
		}
		acked = typ == "connection_ack"
	}
	if err := c.WriteMessage(websocket.TextMessage, subscribe); err != nil {
		return err
	}
	for !s.hasEvent() {
		if _, err := s.next(); err != nil {
			return err
		}
	}
	return c.SetReadDeadline(time.Time{})
}

func (s *subscriber) hasEvent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events) > 0
}

// read reads until the connection ends.
func (s *subscriber) read() {
	for {
		if _, err := s.next(); err != nil {
			if !s.closing.Load() {
				s.err = err
			}
			return
		}
	}
}

// next reads one message, answers a ping, records a state, and returns the
// message's type.
func (s *subscriber) next() (string, error) {
	_, r, err := s.conn.NextReader()
	if err != nil {
		return "", err
	}
	s.buf.Reset() // reused: the tool should cost the machine as little as it can
	_, err = s.buf.ReadFrom(r)
	at := time.Now()
	if err != nil {
		return "", err
	}
	b := s.buf.Bytes()
	if sold, ok := s.fastStock(b); ok {
		s.record(at, sold)
		return s.proto.data, nil
	}
	var m wsMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("bad message %q: %w", b, err)
	}
	switch m.Type {
	case "ping":
		// Only this goroutine writes data messages (closing uses WriteControl).
		return m.Type, s.conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"pong"}`))
	case s.proto.data:
		if m.ID != subID {
			return m.Type, nil
		}
		var p struct {
			Data *struct {
				Stock *struct {
					Sold int64 `json:"sold"`
				} `json:"flashSaleStock"`
			} `json:"data"`
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil || p.Data == nil || p.Data.Stock == nil {
			return "", fmt.Errorf("event without a stock: %s", m.Payload)
		}
		s.record(at, p.Data.Stock.Sold)
	case "error", "connection_error":
		return "", fmt.Errorf("%s: %s", m.Type, m.Payload)
	case "complete":
		if !s.closing.Load() {
			return "", errors.New("the server completed the subscription")
		}
	}
	return m.Type, nil
}

func (s *subscriber) record(at time.Time, sold int64) {
	s.mu.Lock()
	s.events = append(s.events, stockEvent{at: at, sold: sold})
	s.mu.Unlock()
	s.lastSold.Store(sold)
}

// stockPrefix starts an event exactly as gqlgen writes it (fields in the
// selection's order, sold first).
var stockPrefix = []byte(`{"payload":{"data":{"flashSaleStock":{"sold":`)

// fastStock reads sold from an event of our subscription without a JSON
// decoder when the message has exactly gqlgen's shape; anything else goes
// to the full decoder.
func (s *subscriber) fastStock(b []byte) (int64, bool) {
	if !bytes.HasPrefix(b, stockPrefix) || !bytes.HasSuffix(b, s.proto.suffix) {
		return 0, false
	}
	b = b[len(stockPrefix):]
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == 0 || i > 18 || i == len(b) || b[i] != ',' {
		return 0, false
	}
	sold, err := strconv.ParseInt(string(b[:i]), 10, 64)
	return sold, err == nil
}

// memory is the server's own figures from /metrics.
type memory struct {
	goroutines, heap, stack, rss float64
	alloc                        float64 // bytes of allocated heap objects
	idle, released               float64 // heap spans without objects; those returned to the OS
	gc                           bool    // read right after a forced GC
}

// rssNet is the resident memory without the idle heap the runtime still
// holds: what RSS would be if it returned every free page (a fresh server
// holds tens of MB of start-up garbage that connections then reuse
// without growing RSS).
func (m memory) rssNet() float64 { return m.rss - (m.idle - m.released) }

func (m memory) String() string {
	s := fmt.Sprintf("goroutines %.0f, heap in use %.1f MB (objects %.1f MB), stack in use %.1f MB, RSS %.1f MB (%.1f MB without idle heap)",
		m.goroutines, m.heap/1e6, m.alloc/1e6, m.stack/1e6, m.rss/1e6, m.rssNet()/1e6)
	if m.gc {
		s += " after a forced GC"
	}
	return s
}

// serverMemory reads the server's /metrics, after a forced garbage
// collection if debug (the server's pprof address) is set.
func serverMemory(ctx context.Context, base, debug string) (memory, error) {
	var m memory
	if debug != "" {
		// ?gc=1 makes the server run a full GC before writing the profile.
		// Three of them: each GC at most halves a goroutine's stack, so
		// the stacks grown while a connection was set up reach their
		// steady size (what the runtime's own periodic GCs lead to) only
		// after a few.
		for range 3 {
			if err := get(ctx, strings.TrimSuffix(debug, "/")+"/debug/pprof/heap?gc=1"); err != nil {
				return m, fmt.Errorf("forced GC: %w", err)
			}
		}
		m.gc = true
	}
	g, err := scrape(ctx, base+"/metrics")
	if err != nil {
		return m, err
	}
	for name, p := range map[string]*float64{
		"go_goroutines":                   &m.goroutines,
		"go_memstats_heap_inuse_bytes":    &m.heap,
		"go_memstats_stack_inuse_bytes":   &m.stack,
		"process_resident_memory_bytes":   &m.rss,
		"go_memstats_alloc_bytes":         &m.alloc,
		"go_memstats_heap_idle_bytes":     &m.idle,
		"go_memstats_heap_released_bytes": &m.released,
	} {
		v, ok := g[name]
		if !ok {
			return m, fmt.Errorf("/metrics has no %s", name)
		}
		*p = v
	}
	return m, nil
}

// get fetches a page and throws it away.
func get(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", u, res.Status)
	}
	return err
}

// scrape fetches a page and returns the unlabelled samples of the
// Prometheus text format in it ("name value" lines).
func scrape(ctx context.Context, u string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, res.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || strings.ContainsRune(f[0], '{') {
			continue
		}
		if v, err := strconv.ParseFloat(f[1], 64); err == nil {
			out[f[0]] = v
		}
	}
	return out, sc.Err()
}

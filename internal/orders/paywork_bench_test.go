package orders_test

// BenchmarkCheckPayments measures how fast a flash sale's unpaid orders
// with a started WeChat Pay payment come due and give their units back
// (issue 11): CheckPayments takes a lease on each due payment, queries the
// provider, closes the provider order, then expires the order and returns
// its flash-sale unit, up to checkParallel payments at once. Each round
// places, through the GraphQL endpoint, benchDue + benchSeq + benchDue
// flash-sale orders of one unit (one buyer each) and starts a WECHAT_APP
// payment for the first benchDue + benchSeq of them against the fake WeChat
// Pay (no latency while setting up); then all of them are put past payBy
// and, with the fake answering after the sub-benchmark's latency, timed in
// turn:
//
//   - reference: ExpireDue expiring the benchDue orders without a payment
//     (no provider call; ExpireDue leaves the started ones alone);
//   - sequential: CheckPayments(ctx, 1) called benchSeq times, one payment
//     at a time, as checkParallel = 1 would check them;
//   - parallel: one CheckPayments(ctx, benchDue) over the rest (ns/op is
//     this call alone).
//
// Every call must expire what it was given; afterwards every order of the
// round is EXPIRED, every payment CLOSED, the fake saw one query and one
// close per payment, and the sale has sold nothing. Reported:
//
//   - orders/s of the parallel call, ref-orders/s, seq-orders/s;
//   - x-ref = orders/s ÷ ref-orders/s, x-seq = orders/s ÷ seq-orders/s;
//   - dials/payment, seq-dials/payment: connections to the provider opened
//     per payment checked (Go's default transport keeps at most 2 idle
//     connections per host: a call while none is idle opens one, and a
//     connection freed while 2 are idle is closed);
//   - stmts/payment, seq-stmts/payment, ref-stmts/order, on SQLite only:
//     statements as testdb.Counter counts them (BEGIN included, COMMIT
//     not).
//
// Figures and the command are in BENCHMARKS.md:
//
//	TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test -p 1 -run '^$' -bench BenchmarkCheckPayments -benchtime 3x ./internal/orders/
//
// Without TEST_DATABASE_URL the PostgreSQL half skips. The fake WeChat Pay
// runs in the same process: its signing of each answer (RSA-2048) shares
// the two cores with the mall's own signing and verifying.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

const (
	// benchDue orders are expired by the parallel CheckPayments, and as
	// many without a payment by ExpireDue (the reference).
	benchDue = 200
	// benchSeq orders with a payment are checked one call each.
	benchSeq = 50
	// benchClients place orders and start payments at once while setting
	// up a round.
	benchClients = 8
)

func BenchmarkCheckPayments(b *testing.B) {
	// The server's JSON log lines (one per expired order) are formatted as
	// in production, and dropped.
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	defer slog.SetDefault(prev)
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			for _, lat := range []time.Duration{0, 30 * time.Millisecond} {
				b.Run("latency="+lat.String(), func(b *testing.B) { benchCheckPayments(b, kind, lat) })
			}
		})
	}
}

func benchCheckPayments(b *testing.B, kind string, latency time.Duration) {
	d := testdb.Open(b, kind) // skips the PostgreSQL half without TEST_DATABASE_URL
	wp := servertest.NewWeChatPay(b)
	// The fixture's client has Go's default transport (as production's
	// has); a clone of it that counts the connections it opens.
	var dials atomic.Int64
	tr := http.DefaultTransport.(*http.Transport).Clone()
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dial(ctx, network, addr)
	}
	wp.Pay.Client.HTTP.Transport = tr
	// Statements are counted on SQLite only: testdb.Counted's transactions
	// cannot send the raw queries that PostgreSQL's paths use (the clock,
	// the flash-sale batch).
	opts := servertest.Options{NoWorkers: true, WeChatPay: wp.Pay}
	stmts := &testdb.Counter{}
	if kind == "sqlite" {
		opts.DB, stmts = d.Counted()
	}
	m := servertest.Start(b, d, opts)
	ctx := context.Background()
	var (
		ref, seq, par                    time.Duration
		seqDials, parDials               int64
		refStmts, seqStmts, parStmts, at int64
	)
	since := func() int64 { n := stmts.Count() - at; at = stmts.Count(); return n }
	b.StopTimer()
	for range b.N {
		started, plain, sale := payBenchRound(b, m, d)

		since()
		t0 := time.Now()
		n, err := m.Server.Orders.ExpireDue(ctx, benchDue)
		ref += time.Since(t0)
		refStmts += since()
		if err != nil || n != benchDue {
			b.Fatalf("ExpireDue: %d expired, %v; want the %d orders without a payment", n, err, benchDue)
		}

		wp.Fake.SetLatency(latency)
		calls := len(wp.Fake.Calls())
		dialed := dials.Load()
		since()
		t0 = time.Now()
		for range benchSeq {
			if n, err := m.Server.Orders.CheckPayments(ctx, 1); err != nil || n != 1 {
				b.Fatalf("CheckPayments(1): %d, %v", n, err)
			}
		}
		seq += time.Since(t0)
		seqDials += dials.Load() - dialed
		seqStmts += since()

		dialed = dials.Load()
		t0 = time.Now()
		b.StartTimer()
		n, err = m.Server.Orders.CheckPayments(ctx, benchDue)
		b.StopTimer()
		par += time.Since(t0)
		parDials += dials.Load() - dialed
		parStmts += since()
		wp.Fake.SetLatency(0)
		if err != nil || n != benchDue {
			b.Fatalf("CheckPayments(%d): %d, %v", benchDue, n, err)
		}

		if got, want := len(wp.Fake.Calls())-calls, 2*len(started); got != want {
			b.Fatalf("%d provider calls, want a query and a close for each of %d payments", got, len(started))
		}
		if n := d.Int(b, `SELECT COUNT(*) FROM orders WHERE flash_sale_id = ? AND status = 'EXPIRED'`, sale); n != len(started)+len(plain) {
			b.Fatalf("%d of the round's %d orders EXPIRED", n, len(started)+len(plain))
		}
		if n := d.Int(b, `SELECT COUNT(*) FROM payments WHERE status = 'CLOSED' AND order_id IN (SELECT id FROM orders WHERE flash_sale_id = ?)`, sale); n != len(started) {
			b.Fatalf("%d of %d payments CLOSED", n, len(started))
		}
		if sold := d.Int(b, `SELECT sold FROM flash_sales WHERE id = ?`, sale); sold != 0 {
			b.Fatalf("the sale still has %d units sold, want all back", sold)
		}
	}
	rate := func(orders int, d time.Duration) float64 { return float64(orders*b.N) / d.Seconds() }
	b.ReportMetric(rate(benchDue, par), "orders/s")
	b.ReportMetric(rate(benchDue, ref), "ref-orders/s")
	b.ReportMetric(rate(benchSeq, seq), "seq-orders/s")
	b.ReportMetric(rate(benchDue, par)/rate(benchDue, ref), "x-ref")
	b.ReportMetric(rate(benchDue, par)/rate(benchSeq, seq), "x-seq")
	b.ReportMetric(float64(parDials)/float64(benchDue*b.N), "dials/payment")
	b.ReportMetric(float64(seqDials)/float64(benchSeq*b.N), "seq-dials/payment")
	if kind == "sqlite" {
		b.ReportMetric(float64(parStmts)/float64(benchDue*b.N), "stmts/payment")
		b.ReportMetric(float64(seqStmts)/float64(benchSeq*b.N), "seq-stmts/payment")
		b.ReportMetric(float64(refStmts)/float64(benchDue*b.N), "ref-stmts/order")
	}
}

// payBenchRound sells a new flash sale's units to new buyers, one each,
// starts a WECHAT_APP payment for benchDue + benchSeq of the orders (the
// started ones) and leaves benchDue without one (plain); then every order
// of the sale is put a minute past payBy.
func payBenchRound(b *testing.B, m *servertest.Mall, d *testdb.DB) (started, plain []string, sale string) {
	b.Helper()
	total := 2*benchDue + benchSeq
	sale = m.NewFlashSale(m.NewProduct("79.90", total), "9.90", total, 1)
	buyers := m.BulkVerified(total)
	orders := make([]string, total)
	each(b, total, func(i int) error {
		r, err := servertest.Post(m.HTTP.Client(), m.HTTP.URL, buyers[i].Token, servertest.BuyQ,
			map[string]any{"i": map[string]any{"flashSaleID": sale, "quantity": 1}})
		if err != nil {
			return err
		}
		var out struct{ BuyFlashSale struct{ ID, Status string } }
		if err := decode(r, &out); err != nil {
			return fmt.Errorf("buyFlashSale: %w", err)
		}
		if out.BuyFlashSale.Status != "PENDING_PAYMENT" {
			return fmt.Errorf("buyFlashSale: order %+v", out.BuyFlashSale)
		}
		orders[i] = out.BuyFlashSale.ID
		return nil
	})
	started, plain = orders[:benchDue+benchSeq], orders[benchDue+benchSeq:]
	each(b, len(started), func(i int) error {
		r, err := servertest.Post(m.HTTP.Client(), m.HTTP.URL, buyers[i].Token, servertest.PayOrderQ,
			map[string]any{"i": map[string]any{"orderID": started[i], "channel": "WECHAT_APP"}})
		if err != nil {
			return err
		}
		var out struct {
			PayOrder struct {
				App   *struct{ Prepayid string }
				Order struct{ Payment *struct{ Status string } }
			}
		}
		if err := decode(r, &out); err != nil {
			return fmt.Errorf("payOrder: %w", err)
		}
		if p := out.PayOrder; p.App == nil || p.App.Prepayid == "" || p.Order.Payment == nil || p.Order.Payment.Status != "PENDING" {
			return fmt.Errorf("payOrder of %s: %+v", started[i], p)
		}
		return nil
	})
	if _, err := d.Pool.Exec(d.Q(`UPDATE orders SET pay_by = ? WHERE flash_sale_id = ?`), time.Now().UTC().Add(-time.Minute), sale); err != nil {
		b.Fatal(err)
	}
	return started, plain, sale
}

// each runs fn(0) … fn(n-1) on benchClients goroutines and fails the
// benchmark on the first error.
func each(b *testing.B, n int, fn func(i int) error) {
	b.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = make(chan int)
	)
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		b.Fatalf("%d of %d failed, the first: %v", len(errs), n, errs[0])
	}
}

// decode reads a response's data into v, or its first error.
func decode(r *servertest.Response, v any) error {
	if len(r.Errors) > 0 || r.Status != http.StatusOK {
		return fmt.Errorf("status %d, errors %+v", r.Status, r.Errors)
	}
	return json.Unmarshal(r.Data, v)
}

package submux_test

// Figures with and without the multiplexer, reported, not asserted:
//
//	SUBMUX_MEASURE=1 go test -run TestMeasure -v -count=1 ./internal/submux/
//
// (SUBMUX_MEASURE_N connections, default 2000, one flashSaleStock
// subscription each). Clients run in the same process, so the memory
// figures include their side of each connection: compare the two runs,
// whose clients are the same. Per push: bytes allocated and the time until
// every subscriber has the new state.

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

func TestMeasure(t *testing.T) {
	if os.Getenv("SUBMUX_MEASURE") == "" {
		t.Skip("SUBMUX_MEASURE not set")
	}
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("SUBMUX_MEASURE_N")); err == nil && v > 0 {
		n = v
	}
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		_, sale := liveSale(t, m, 100)
		buyers := m.BulkVerified(6)
		next := 0
		for _, off := range order() {
			m.Server.Submux.SetOff(off)
			base := sample()
			conns := make([]*servertest.WS, n)
			for i := range conns {
				conns[i] = servertest.WatchStock(t, m.HTTP.URL, servertest.TransportWS, nil, sale)
			}
			for _, ws := range conns {
				servertest.WaitSold(t, ws, next, 20*time.Second)
			}
			held := sample()
			var allocs uint64
			var took time.Duration
			const pushes = 3
			for range pushes {
				var ms0, ms1 runtime.MemStats
				runtime.ReadMemStats(&ms0)
				start := time.Now()
				buy(t, m, buyers[next].Token, sale)
				next++
				for _, ws := range conns {
					servertest.WaitSold(t, ws, next, 20*time.Second)
				}
				took += time.Since(start)
				runtime.ReadMemStats(&ms1)
				allocs += ms1.TotalAlloc - ms0.TotalAlloc
			}
			t.Logf("grouping off=%v, %d connections: heap %.1f KB/conn, stacks %.1f KB/conn, %.2f goroutines/conn; per push: %.0f KB allocated (clients' reads included), all %d had it after %s",
				off, n, float64(held.heap-base.heap)/float64(n)/1024, float64(held.stack-base.stack)/float64(n)/1024,
				float64(held.goroutines-base.goroutines)/float64(n), float64(allocs)/pushes/1024, n, took/pushes)
			for _, ws := range conns {
				ws.Close()
			}
			for deadline := time.Now().Add(20 * time.Second); runtime.NumGoroutine() > base.goroutines+10 && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
			}
		}
	})
}

type memSample struct {
	heap, stack uint64
	goroutines  int
}

func sample() memSample {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSample{heap: ms.HeapInuse, stack: ms.StackInuse, goroutines: runtime.NumGoroutine()}
}

// order is off then on, or the reverse with SUBMUX_MEASURE_ON_FIRST=1 (to
// see what the first run's warm-up costs).
func order() []bool {
	if os.Getenv("SUBMUX_MEASURE_ON_FIRST") != "" {
		return []bool{false, true}
	}
	return []bool{true, false}
}

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"unionmall/internal/db"
	"unionmall/internal/gid"
)

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

// memory is the server's own figures from /metrics.
type memory struct {
	goroutines, heap, stack, rss float64
	alloc                        float64 // bytes of allocated heap objects
	idle, released               float64 // heap spans without objects; those returned to the OS
	cpu                          float64 // seconds of CPU the process has used
	gc                           bool    // read right after a forced GC
}

// rssNet is the resident memory without the idle heap the runtime still
// holds: what RSS would be if it returned every free page (a fresh server
// holds tens of MB of start-up garbage that connections then reuse
// without growing RSS).
func (m memory) rssNet() float64 { return m.rss - (m.idle - m.released) }

// plus is the sum of two servers' figures (gc if both are after one).
func (m memory) plus(o memory) memory {
	return memory{
		goroutines: m.goroutines + o.goroutines, heap: m.heap + o.heap, stack: m.stack + o.stack, rss: m.rss + o.rss,
		alloc: m.alloc + o.alloc, idle: m.idle + o.idle, released: m.released + o.released, cpu: m.cpu + o.cpu,
		gc: o.gc && (m.gc || m.goroutines == 0),
	}
}

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
		"process_cpu_seconds_total":       &m.cpu,
	} {
		v, ok := g[name]
		if !ok {
			return m, fmt.Errorf("/metrics has no %s", name)
		}
		*p = v
	}
	return m, nil
}

// serverCPU is the CPU seconds the servers have used so far (NaN if one
// did not say).
func serverCPU(ctx context.Context, bases []string) float64 {
	sum := 0.0
	for _, b := range bases {
		g, err := scrape(ctx, b+"/metrics")
		v, ok := g["process_cpu_seconds_total"]
		if err != nil || !ok {
			return math.NaN()
		}
		sum += v
	}
	return sum
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

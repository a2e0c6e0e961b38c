package wsgorilla_test

// Memory per idle subscribed connection, gorilla adapter vs gqlgen's default
// coder/websocket implementation.
//
//	WSGORILLA_MEM=1 go test -run TestMemoryPerConnection -v -count=1 ./internal/wsgorilla/
//
// (WSGORILLA_MEM_N=10000 for more connections; WSGORILLA_MEMPROFILE=DIR writes
// a heap profile per configuration, taken in a separate run with
// MemProfileRate=1 so the figures themselves are not disturbed.)
//
// Method: for each configuration the test binary is started twice more, as a
// server process and as a client process, so that nothing the clients hold is
// counted. The server runs gqlgen's handler with transport.Websocket and the
// configuration's Implementation (KeepAlivePingInterval and PingPongInterval
// 25 s, InitTimeout 5 s, an InitFunc that counts connections, a query cache). The client process opens 20 warm-up
// connections and closes them; the server then takes its baseline (after
// runtime.GC and debug.FreeOSMemory, once its subscription count is back to
// 0 and its goroutine count has settled). The clients then open N
// connections, each with connection_init and one `subscription { events }`,
// keep them open and answer pings; once the server counts N active
// subscriptions and its goroutine count is stable, it collects garbage again
// and reports (after - baseline) / N for HeapInuse, HeapAlloc, StackInuse and
// VmRSS, and the goroutines per connection. Set WSGORILLA_MEM_ONLY=substring
// of "name protocol" to run some configurations only.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"

	"unionmall/internal/wsgorilla"
)

type memConfig struct {
	Name     string
	Impl     string // "gorilla", "gorilla-nopool", "gorilla-keepbufs", "coder"
	ReadBuf  int
	WriteBuf int
	Protocol string
	NoPing   bool // no KeepAlivePingInterval / PingPongInterval
	NoSub    bool // connection_init only, no subscription
}

type memResult struct {
	N                  int
	HeapInuse          float64 // bytes per connection
	HeapAlloc          float64
	StackInuse         float64
	RSS                float64
	Goroutines         float64 // per connection
	BaseGoroutines     int
	HeapInuseTotalMiB  float64
	StackInuseTotalMiB float64
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func TestMemoryPerConnection(t *testing.T) {
	if os.Getenv("WSGORILLA_MEM") != "1" {
		t.Skip("set WSGORILLA_MEM=1 to measure memory per connection")
	}
	if raceEnabled {
		t.Skip("run without -race: the race detector multiplies memory")
	}
	n := envInt("WSGORILLA_MEM_N", 2000)
	tws, gws := graphqlTransportWS.name, graphqlWS.name
	configs := []memConfig{
		{"coder (gqlgen default)", "coder", 0, 0, tws, false, false},
		{"coder (gqlgen default)", "coder", 0, 0, gws, false, false},
		{"gorilla defaults (read 256, pooled write 4096)", "gorilla", 0, 0, tws, false, false},
		{"gorilla defaults (read 256, pooled write 4096)", "gorilla", 0, 0, gws, false, false},
		{"gorilla defaults, net/http buffers kept", "gorilla-keepbufs", 0, 0, tws, false, false},
		{"gorilla read 125 (gorilla's minimum)", "gorilla", 125, 0, tws, false, false},
		{"gorilla read 1024", "gorilla", 1024, 0, tws, false, false},
		{"gorilla read 4096", "gorilla", 4096, 0, tws, false, false},
		{"gorilla read 512, unpooled write 4096", "gorilla-nopool", 512, 4096, tws, false, false},
		{"gorilla read 4096, unpooled write 4096", "gorilla-nopool", 4096, 4096, tws, false, false},
		{"gorilla defaults, no keepalive/ping", "gorilla", 0, 0, tws, true, false},
		{"gorilla defaults, no ping, no subscription", "gorilla", 0, 0, tws, true, true},
		{"coder, no keepalive/ping", "coder", 0, 0, tws, true, false},
		{"coder, no ping, no subscription", "coder", 0, 0, tws, true, true},
	}
	if only := os.Getenv("WSGORILLA_MEM_ONLY"); only != "" {
		var keep []memConfig
		for _, c := range configs {
			if strings.Contains(c.Name+" "+c.Protocol, only) {
				keep = append(keep, c)
			}
		}
		configs = keep
	}

	var rows []string
	for _, cfg := range configs {
		res, err := runMemory(cfg, n, "")
		if err != nil {
			t.Fatalf("%s %s: %v", cfg.Name, cfg.Protocol, err)
		}
		row := fmt.Sprintf("%-48s %-20s  heapInuse %6.1f KB  heapAlloc %6.1f KB  stack %5.1f KB  inuse+stack %6.1f KB  rss %6.1f KB  goroutines/conn %.2f",
			cfg.Name, cfg.Protocol, res.HeapInuse/1024, res.HeapAlloc/1024, res.StackInuse/1024,
			(res.HeapInuse+res.StackInuse)/1024, res.RSS/1024, res.Goroutines)
		t.Log(row)
		rows = append(rows, row)
		if dir := os.Getenv("WSGORILLA_MEMPROFILE"); dir != "" {
			file := filepath.Join(dir, strings.NewReplacer(" ", "_", "(", "", ")", "", ",", "").Replace(cfg.Impl+"_"+cfg.Name+"_"+cfg.Protocol)+".heap")
			if _, err := runMemory(cfg, n, file); err != nil {
				t.Fatalf("profile %s: %v", cfg.Name, err)
			}
			t.Logf("  heap profile: %s", file)
		}
	}
	t.Logf("per idle subscribed connection, N=%d, server process only:\n%s", n, strings.Join(rows, "\n"))
}

// proc is a helper subprocess driven line by line over stdin/stdout.
type proc struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
}

func startHelper(role string, env ...string) (*proc, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMem"+role+"$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), "WSGORILLA_HELPER="+role), env...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, in: in, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "@@ "); ok {
				p.lines <- line
			}
		}
		close(p.lines)
	}()
	return p, nil
}

func (p *proc) send(s string) error {
	_, err := fmt.Fprintln(p.in, s)
	return err
}

func (p *proc) expect(prefix string, timeout time.Duration) (string, error) {
	select {
	case line, ok := <-p.lines:
		if !ok {
			return "", fmt.Errorf("helper exited while waiting for %s", prefix)
		}
		rest, found := strings.CutPrefix(line, prefix)
		if !found {
			return "", fmt.Errorf("got %q, want %s", line, prefix)
		}
		return strings.TrimSpace(rest), nil
	case <-time.After(timeout):
		return "", fmt.Errorf("timeout waiting for %s", prefix)
	}
}

func (p *proc) stop() {
	_ = p.in.Close()
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

func runMemory(cfg memConfig, n int, profile string) (*memResult, error) {
	cfgJSON, _ := json.Marshal(cfg)
	srv, err := startHelper("Server", "WSGORILLA_CFG="+string(cfgJSON), "WSGORILLA_PROFILE="+profile)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	addr, err := srv.expect("ADDR", 30*time.Second)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	cl, err := startHelper("Clients", "WSGORILLA_ADDR="+addr, "WSGORILLA_N="+strconv.Itoa(n),
		"WSGORILLA_PROTO="+cfg.Protocol, "WSGORILLA_NOSUB="+strconv.FormatBool(cfg.NoSub))
	if err != nil {
		return nil, err
	}
	defer cl.stop()

	if _, err := cl.expect("WARM", 60*time.Second); err != nil {
		return nil, fmt.Errorf("clients: %w", err)
	}
	if err := srv.send("BASELINE"); err != nil {
		return nil, err
	}
	if _, err := srv.expect("BASE", 60*time.Second); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if err := cl.send("GO"); err != nil {
		return nil, err
	}
	if _, err := cl.expect("READY", 5*time.Minute); err != nil {
		return nil, fmt.Errorf("clients: %w", err)
	}
	if err := srv.send(fmt.Sprint("MEASURE ", n)); err != nil {
		return nil, err
	}
	line, err := srv.expect("RESULT", 5*time.Minute)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	var res memResult
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

type memSample struct {
	ms         runtime.MemStats
	rss        uint64
	goroutines int
}

func sampleMemory() memSample {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	var s memSample
	runtime.ReadMemStats(&s.ms)
	s.goroutines = runtime.NumGoroutine()
	s.rss = readRSS()
	return s
}

func readRSS() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// settleGoroutines waits until the goroutine count stops changing.
func settleGoroutines() {
	last, stable := -1, 0
	for i := 0; i < 200 && stable < 5; i++ {
		time.Sleep(20 * time.Millisecond)
		if g := runtime.NumGoroutine(); g == last {
			stable++
		} else {
			last, stable = g, 0
		}
	}
}

// TestHelperMemServer is the server process of TestMemoryPerConnection.
func TestHelperMemServer(t *testing.T) {
	if os.Getenv("WSGORILLA_HELPER") != "Server" {
		t.Skip("helper process for TestMemoryPerConnection")
	}
	var cfg memConfig
	if err := json.Unmarshal([]byte(os.Getenv("WSGORILLA_CFG")), &cfg); err != nil {
		t.Fatal(err)
	}
	profile := os.Getenv("WSGORILLA_PROFILE")
	if profile != "" {
		runtime.MemProfileRate = 1
	}

	var impl transport.WebsocketImplementation
	opts := wsgorilla.Options{ReadBufferSize: cfg.ReadBuf, WriteBufferSize: cfg.WriteBuf, CheckOrigin: func(*http.Request) bool { return true }}
	switch cfg.Impl {
	case "gorilla":
		impl = wsgorilla.New(opts)
	case "gorilla-nopool":
		impl = wsgorilla.NewWithoutPool(opts)
	case "gorilla-keepbufs":
		impl = wsgorilla.NewKeepingHijackedBuffers(opts)
	case "coder":
		impl = nil // gqlgen's default: CoderWebsocketImplementation{}
	default:
		t.Fatalf("unknown impl %q", cfg.Impl)
	}
	var inits atomic.Int64
	ws := transport.Websocket{
		Implementation:        impl,
		KeepAlivePingInterval: 25 * time.Second,
		PingPongInterval:      25 * time.Second,
		InitTimeout:           5 * time.Second,
		InitFunc: func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			inits.Add(1)
			return ctx, nil, nil
		},
	}
	if cfg.NoPing {
		ws.KeepAlivePingInterval, ws.PingPongInterval = 0, 0
	}
	gql, es := newGQLServer(ws)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: gql, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	fmt.Println("@@ ADDR", ln.Addr().String())

	var base memSample
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		cmd := strings.Fields(sc.Text())
		if len(cmd) == 0 {
			continue
		}
		switch cmd[0] {
		case "BASELINE":
			if err := es.hub.waitActive(0, 30*time.Second); err != nil {
				t.Fatal(err)
			}
			settleGoroutines()
			inits.Store(0)
			base = sampleMemory()
			fmt.Println("@@ BASE", base.goroutines)
		case "MEASURE":
			n, _ := strconv.Atoi(cmd[1])
			if cfg.NoSub {
				for deadline := time.Now().Add(2 * time.Minute); inits.Load() < int64(n); time.Sleep(10 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatal("timed out waiting for connections")
					}
				}
			} else if err := es.hub.waitActive(n, 2*time.Minute); err != nil {
				t.Fatal(err)
			}
			settleGoroutines()
			s := sampleMemory()
			per := func(after, before uint64) float64 { return (float64(after) - float64(before)) / float64(n) }
			res := memResult{
				N:                  n,
				HeapInuse:          per(s.ms.HeapInuse, base.ms.HeapInuse),
				HeapAlloc:          per(s.ms.HeapAlloc, base.ms.HeapAlloc),
				StackInuse:         per(s.ms.StackInuse, base.ms.StackInuse),
				RSS:                per(s.rss, base.rss),
				Goroutines:         float64(s.goroutines-base.goroutines) / float64(n),
				BaseGoroutines:     base.goroutines,
				HeapInuseTotalMiB:  float64(s.ms.HeapInuse) / (1 << 20),
				StackInuseTotalMiB: float64(s.ms.StackInuse) / (1 << 20),
			}
			if profile != "" {
				f, err := os.Create(profile)
				if err != nil {
					t.Fatal(err)
				}
				if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
					t.Fatal(err)
				}
				_ = f.Close()
			}
			out, _ := json.Marshal(res)
			fmt.Println("@@ RESULT", string(out))
		}
	}
	_ = hs.Close()
}

// TestHelperMemClients is the client process of TestMemoryPerConnection.
func TestHelperMemClients(t *testing.T) {
	if os.Getenv("WSGORILLA_HELPER") != "Clients" {
		t.Skip("helper process for TestMemoryPerConnection")
	}
	addr, proto := os.Getenv("WSGORILLA_ADDR"), os.Getenv("WSGORILLA_PROTO")
	n := envInt("WSGORILLA_N", 2000)
	url := "ws://" + addr + "/query"
	p := graphqlWS
	if proto == graphqlTransportWS.name {
		p = graphqlTransportWS
	}

	open := func(count int) []*websocket.Conn {
		conns := make([]*websocket.Conn, count)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32)
		var mu sync.Mutex
		var firstErr error
		for i := range count {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				c, err := openSubscribed(url, p, os.Getenv("WSGORILLA_NOSUB") != "true")
				mu.Lock()
				defer mu.Unlock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				conns[i] = c
			}()
		}
		wg.Wait()
		if firstErr != nil {
			t.Fatal(firstErr)
		}
		return conns
	}

	for _, c := range open(20) {
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
		_ = c.Close()
	}
	fmt.Println("@@ WARM")

	sc := bufio.NewScanner(os.Stdin)
	var conns []*websocket.Conn
	for sc.Scan() {
		if sc.Text() == "GO" {
			conns = open(n)
			// Keep reading: answer protocol pings, drop everything else.
			for _, c := range conns {
				go func() {
					for {
						var m msg
						if err := c.ReadJSON(&m); err != nil {
							return
						}
						if m.Type == "ping" {
							_ = c.WriteJSON(msg{Type: "pong"})
						}
					}
				}()
			}
			fmt.Println("@@ READY")
		}
	}
	for _, c := range conns {
		_ = c.Close()
	}
}

func openSubscribed(url string, p protocol, subscribe bool) (*websocket.Conn, error) {
	d := websocket.Dialer{Subprotocols: []string{p.name}, HandshakeTimeout: 30 * time.Second}
	var c *websocket.Conn
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if c, _, err = d.Dial(url, nil); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return nil, err
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if err := c.WriteJSON(msg{Type: "connection_init"}); err != nil {
		return nil, err
	}
	var m msg
	if err := c.ReadJSON(&m); err != nil || m.Type != "connection_ack" {
		return nil, fmt.Errorf("ack: %v %v", m.Type, err)
	}
	if !subscribe {
		_ = c.SetReadDeadline(time.Time{})
		return c, nil
	}
	if err := c.WriteJSON(msg{Type: p.subscribe, ID: "1", Payload: json.RawMessage(`{"query":"subscription { events }"}`)}); err != nil {
		return nil, err
	}
	_ = c.SetReadDeadline(time.Time{})
	return c, nil
}

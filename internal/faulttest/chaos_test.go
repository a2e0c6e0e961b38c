package faulttest

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"unionmall/internal/chaos"
	"unionmall/internal/chaos/harness"
)

// chaosSeed is CHAOS_SEED (to replay a run) or a new seed, logged.
func chaosSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("CHAOS_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CHAOS_SEED=%q: %v", s, err)
		}
		return seed
	}
	seed := uint64(time.Now().UnixNano()) % 1_000_000
	t.Logf("chaos seed %d (replay: CHAOS_SEED=%d)", seed, seed)
	return seed
}

// logWriter writes progress lines into the test's log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// runChaos runs cfg and logs what ran and what the audit found; the run
// itself must be carried out (a broken invariant is the caller's to judge).
func runChaos(t *testing.T, cfg chaos.Config) *chaos.Result {
	t.Helper()
	cfg.WorkDir, cfg.Log = t.TempDir(), logWriter{t}
	res, err := chaos.Run(context.Background(), cfg)
	if res != nil {
		var b strings.Builder
		res.Print(&b)
		t.Log("\n" + b.String())
	}
	if res != nil && (err != nil || os.Getenv("FAULTTEST_LOGS") != "") {
		for name, log := range res.Logs {
			t.Logf("---- log of instance %s (the end) ----\n%s---- end of %s's log ----", name, log, name)
		}
	}
	if err != nil {
		t.Fatalf("the chaos run could not be carried out: %v", err)
	}
	return res
}

// Three instances on a PostgreSQL cluster of the test's own under the
// mixed workload for 40 s (payments through a fake WeChat Pay among it),
// one instance killed with SIGKILL and restarted, PostgreSQL restarted;
// then every invariant holds, from the rows, from WeChat Pay's bills and
// from the answers.
func TestChaos(t *testing.T) {
	needPostgres(t)
	cfg := chaos.CI(chaosSeed(t))
	cfg.Bin = serverBin
	res := runChaos(t, cfg)
	for _, c := range res.Failed() {
		t.Errorf("broken: %s (%d violations, seed %d)", c.Name, len(c.Violations), cfg.Seed)
	}
}

// The checker must find a broken invariant: the server built with
// chaos_stale_holdings overwrites flash-sale holdings with sums decided
// from rows read before the sale's lock. Members racing themselves with three buys at
// once, one per instance, then end above the limit or with holdings that
// are not their live units, and the audit says so.
func TestChaosFindsStaleHoldings(t *testing.T) {
	base := needPostgres(t)
	t0 := time.Now()
	bin, err := harness.Build(t.TempDir(), "chaos_stale_holdings")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built the server with -tags chaos_stale_holdings in %s", time.Since(t0).Round(time.Millisecond))
	res := runChaos(t, chaos.Config{
		Seed: chaosSeed(t), Duration: 8 * time.Second, Members: 400, Instances: 3,
		PaymentWindow: 10 * time.Minute, SelfRaceOnly: true, Tries: 3,
		Bin: bin, Postgres: base,
	})
	found := 0
	for _, c := range res.Failed() {
		if strings.HasPrefix(c.Name, "flash sales: each holding") || strings.HasPrefix(c.Name, "flash sales: nobody above") {
			found += len(c.Violations)
		}
	}
	if found == 0 {
		t.Fatalf("the audit found no member above the limit and no holding off its live units in a server built to break them")
	}
	t.Logf("the audit found the stale holdings: %d violations", found)
}

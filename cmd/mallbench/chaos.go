package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"unionmall/internal/chaos"
)

// chaosRun runs three instances of the server on one PostgreSQL under a
// seeded, mixed workload with an instance killed and PostgreSQL restarted,
// then audits every invariant (internal/chaos).
func chaosRun(args []string) error {
	fs := flag.NewFlagSet("chaos", flag.ExitOnError)
	def := chaos.CI(0)
	seed := fs.Uint64("seed", 0, "the workload's seed (0: a new one, printed; give it to replay a run)")
	duration := fs.Duration("duration", 2*time.Minute, "how long the workload runs")
	members := fs.Int("members", 3000, "verified members of the workload")
	instances := fs.Int("instances", 3, "server instances on the one database")
	window := fs.Duration("payment-window", def.PaymentWindow, "every instance's PAYMENT_WINDOW")
	selfRace := fs.Bool("self-race", false, "only members racing themselves on the hot sale (limit 2)")
	tries := fs.Int("tries", 0, "buys at once of a self-racing member, each to another instance (0: 2 or 3)")
	kill := fs.Bool("kill", true, "kill -9 one instance at 30% of the run and restart it")
	killFor := fs.Duration("kill-for", def.KillFor, "how long the killed instance stays down")
	restartPG := fs.Bool("restart-postgres", true, "restart PostgreSQL at 60% of the run (a cluster of our own, or -pg-data)")
	pgDown := fs.Duration("postgres-down", def.PostgresDown, "how long PostgreSQL stays down")
	grace := fs.Duration("fault-grace", def.FaultGrace, "how long after a fault its answers are still excused")
	bin := fs.String("bin", "", "the server binary (default: build it)")
	tags := fs.String("tags", "", "build tags for the server, comma-separated (e.g. chaos_stale_holdings)")
	postgres := fs.String("postgres", "", "an existing PostgreSQL server to create the run's database on (default: initdb a cluster of our own)")
	pgData := fs.String("pg-data", "", "with -postgres: its data directory, to restart it with pg_ctl")
	workDir := fs.String("workdir", "", "where the instances' logs go (default: a temporary directory)")
	_ = fs.Parse(args)
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano()) % 1_000_000
	}
	cfg := chaos.Config{
		Seed: *seed, Duration: *duration, Members: *members, Instances: *instances, PaymentWindow: *window,
		SelfRaceOnly: *selfRace, Tries: *tries, Kill: *kill, KillFor: *killFor,
		RestartPostgres: *restartPG, PostgresDown: *pgDown, FaultGrace: *grace,
		Bin: *bin, Postgres: *postgres, PGData: *pgData, WorkDir: *workDir, Log: os.Stderr,
	}
	if *tags != "" {
		cfg.BuildTags = strings.Split(*tags, ",")
	}
	if cfg.RestartPostgres && cfg.Postgres != "" && cfg.PGData == "" {
		fmt.Fprintln(os.Stderr, "chaos: no -pg-data for the existing PostgreSQL: it is not restarted")
		cfg.RestartPostgres = false
	}
	fmt.Printf("chaos: seed %d\n", cfg.Seed)
	// Ctrl-C ends the workload early; the run still settles, audits and
	// stops what it started.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := chaos.Run(ctx, cfg)
	if res != nil && len(res.Checks) > 0 {
		res.Print(os.Stdout)
	}
	if err != nil {
		return err
	}
	if broken := res.Failed(); len(broken) > 0 {
		return fmt.Errorf("%d invariants broken (seed %d)", len(broken), cfg.Seed)
	}
	return nil
}

// Package chaos runs the mall under fire and then audits every invariant.
//
// A run (Run) starts several instances of the real server binary on one
// PostgreSQL database and drives a mixed, randomized, seeded workload at
// them for a fixed time (workload*.go, actors_*.go): flash buys with
// retries and idempotency keys across instances, members racing
// themselves on two or three instances at once, cancels, payments,
// expiries, refunds, coupon claims against small budgets and quotas,
// orders with coupons on contended stock, restocks, logins, logouts and
// password changes. Members pay a share of their orders through WeChat
// Pay: a fake of it runs in this process (provider.go), reached by the
// instances' notifications through a round-robin proxy, their PUBLIC_URL;
// the payer pays at random moments and each notification meets a fault
// (actors_pay.go, backoffice.go). Meanwhile it kills one instance with
// SIGKILL and restarts it, and restarts PostgreSQL (faults.go). Then it
// lets the instances settle and audits the database alone, in SQL over the
// rows (Audit, audit_*.go), the rows against what WeChat Pay collected and
// refunded (AuditProvider), and the answers the clients and WeChat Pay
// got (checks_*.go).
// Every violation names its rows or requests; the seed replays the run's
// choices.
package chaos

import (
	"fmt"
	"io"
	"time"
)

// Config is one chaos run.
type Config struct {
	Seed     uint64
	Duration time.Duration // of the workload
	// Members are the verified members of the workload, split among its
	// parts (self-racing buyers, buyers, coupon claimers, accounts).
	Members   int
	Instances int
	// PaymentWindow is every instance's PAYMENT_WINDOW: unpaid orders
	// expire within the run.
	PaymentWindow time.Duration
	// SelfRaceOnly runs only the members racing themselves on the hot sale
	// (and a few accounts), for finding a per-member limit bug fast.
	SelfRaceOnly bool
	// Tries is how many buys at once a self-racing member sends, each to
	// another instance (2 or 3 at random when 0).
	Tries int

	Kill            bool          // kill -9 one instance mid-run and restart it
	KillFor         time.Duration // how long it stays down
	RestartPostgres bool          // restart PostgreSQL mid-run (needs a cluster of our own, or PGData)
	PostgresDown    time.Duration // how long PostgreSQL stays down
	// FaultGrace is added to every fault window: answers from the fault
	// may still arrive just after the servers are ready again.
	FaultGrace time.Duration

	// Bin is the server binary; built (with BuildTags) when empty.
	Bin       string
	BuildTags []string
	// Postgres is a server to create the run's database on
	// (postgres://...); empty: a cluster of the run's own (initdb).
	Postgres string
	// PGData, with Postgres, is that cluster's data directory (started
	// with pg_ctl), so that RestartPostgres can restart it.
	PGData string
	// WorkDir holds the instances' logs; a temporary directory when empty.
	WorkDir string
	// Log receives progress lines; nil: none.
	Log io.Writer
}

// CI is the configuration of the test: a few minutes in all on two cores.
func CI(seed uint64) Config {
	return Config{
		Seed: seed, Duration: 40 * time.Second, Members: 900, Instances: 3,
		PaymentWindow: 4 * time.Second, Kill: true, KillFor: 3 * time.Second,
		RestartPostgres: true, PostgresDown: 2 * time.Second, FaultGrace: 2 * time.Second,
	}
}

func (c *Config) check() error {
	switch {
	case c.Duration < 5*time.Second:
		return fmt.Errorf("chaos: a run lasts at least 5 s (-duration)")
	case c.Members < 40:
		return fmt.Errorf("chaos: a run needs at least 40 members (-members)")
	case c.Instances < 2 || c.Instances > len(instanceNames):
		return fmt.Errorf("chaos: a run needs 2 to %d instances", len(instanceNames))
	case c.PaymentWindow < time.Second:
		return fmt.Errorf("chaos: the payment window is at least 1 s")
	case c.Tries < 0 || c.Tries > c.Instances:
		return fmt.Errorf("chaos: a member sends at most one buy at once per instance (-tries ≤ %d)", c.Instances)
	case c.RestartPostgres && c.Postgres != "" && c.PGData == "":
		return fmt.Errorf("chaos: restarting an existing PostgreSQL needs its data directory (-pg-data)")
	}
	return nil
}

func (c *Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

package chaos

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"unionmall/internal/chaos/harness"
)

// faults breaks things under the workload: at 30% of the run one instance
// (chosen by the seed) is killed with SIGKILL and started again after
// KillFor; at 60% PostgreSQL is stopped (fast) and started again after
// PostgresDown (an existing cluster: pg_ctl restart). Each fault's window lasts until the servers are ready
// again, plus FaultGrace.
type faults struct {
	w         *workload
	instances []*harness.Instance
	cluster   *harness.Cluster // nil: no PostgreSQL restart

	mu      sync.Mutex
	windows []Window
	err     error
}

func (f *faults) add(win Window, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !win.From.IsZero() {
		f.windows = append(f.windows, win)
	}
	if err != nil && f.err == nil {
		f.err = err
	}
}

func (f *faults) run(ctx context.Context) {
	cfg, rng := f.w.cfg, f.w.rng(streamFaults)
	victim := rng.IntN(len(f.instances))
	if cfg.Kill && sleep(ctx, time.Until(f.w.start.Add(cfg.Duration*3/10))) {
		f.add(f.kill(victim))
	}
	if cfg.RestartPostgres && f.cluster != nil && sleep(ctx, time.Until(f.w.start.Add(cfg.Duration*6/10))) {
		f.add(f.restartPostgres())
	}
}

func (f *faults) kill(victim int) (Window, error) {
	in, grace := f.instances[victim], f.w.cfg.FaultGrace
	win := Window{What: "kill -9 instance " + in.Name + ", restarted after " + f.w.cfg.KillFor.String(), Instance: victim, From: time.Now()}
	if err := in.Kill(); err != nil {
		return win, err
	}
	time.Sleep(f.w.cfg.KillFor)
	err := in.Restart(30 * time.Second)
	win.To = time.Now().Add(grace)
	return win, err
}

func (f *faults) restartPostgres() (Window, error) {
	what := "PostgreSQL restart (pg_ctl stop -m fast, down " + f.w.cfg.PostgresDown.String() + ")"
	if f.w.cfg.Postgres != "" {
		what = "PostgreSQL restart (pg_ctl restart -m fast)"
	}
	win := Window{What: what, Instance: -1, From: time.Now()}
	if _, _, err := f.cluster.Restart(f.w.cfg.PostgresDown); err != nil {
		win.To = time.Now().Add(time.Minute)
		return win, err
	}
	err := awaitReady(f.instances, 30*time.Second)
	win.To = time.Now().Add(f.w.cfg.FaultGrace)
	return win, err
}

// awaitReady waits until every instance's /readyz answers 200.
func awaitReady(instances []*harness.Instance, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, in := range instances {
		for {
			code, err := harness.Readyz(in.URL)
			if code == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("instance %s not ready %s after the fault: %d %v", in.Name, timeout, code, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// Windows returns the faults' windows so far.
func (f *faults) Windows() []Window {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Window(nil), f.windows...)
}

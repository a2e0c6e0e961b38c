package chaos

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"
)

// Result is what a run did and what the audit found.
type Result struct {
	Config  Config
	Start   time.Time // of the workload proper
	Setup   time.Duration
	Ran     time.Duration
	Settled time.Duration // after the workload, until nothing was due any more
	Windows []Window
	Entries []Entry
	Checks  []Check
	Logs    map[string]string // each instance's log, the end of it
	Journal string            // the file of every request and its answer (JSON lines)
}

// Failed lists the checks that found violations.
func (r *Result) Failed() []Check { return Failed(r.Checks) }

// Run runs the mall under fire as cfg says and audits it (see the package
// comment). err is for a run that could not be carried out; broken
// invariants are in the result's checks. Cancelling ctx ends the workload
// early; the run still settles, audits and stops what it started.
func Run(ctx context.Context, cfg Config) (res *Result, err error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	work, ctx := ctx, context.WithoutCancel(ctx)
	t0 := time.Now()
	st, err := setStage(ctx, &cfg)
	res = &Result{Config: cfg, Logs: map[string]string{}}
	defer func() { err = errors.Join(err, st.close(res)) }()
	if err != nil {
		return res, err
	}
	w := newWorkload(cfg, st.urls(), st.pay.fake)
	if err := w.setUp(ctx, st.db); err != nil {
		return res, err
	}
	res.Setup = time.Since(t0)
	cfg.logf("chaos: seed %d; %d members on %d instances; set up in %s", cfg.Seed, cfg.Members, cfg.Instances, res.Setup.Round(time.Millisecond))

	f := &faults{w: w, instances: st.instances}
	if cfg.RestartPostgres {
		f.cluster = st.cluster
	}
	w.start = time.Now()
	res.Start = w.start
	office := w.startBackOffice()
	defer office.close() // (idempotent: a run that fails on its way out)
	w.run(work, f)
	res.Ran = time.Since(w.start)
	res.Windows = f.Windows()
	if f.err != nil {
		return res, fmt.Errorf("chaos: fault: %w", f.err)
	}
	cfg.logf("chaos: workload over after %s; letting the instances settle", res.Ran.Round(time.Millisecond))

	tSettle := time.Now()
	settled, seen, err := w.settle(ctx, st.db.Pool, st.instances)
	res.Settled = time.Since(tSettle)
	office.close()
	if err != nil {
		return res, err
	}
	res.Entries = w.j.Entries()
	res.Journal = filepath.Join(cfg.WorkDir, "journal.jsonl")
	if err := WriteJournal(res.Journal, res.Entries); err != nil {
		return res, err
	}
	res.Checks = Audit(ctx, st.db.Pool, seen...)
	res.Checks = append(res.Checks, AuditProvider(ctx, st.db.Pool, Bills(st.pay.fake, t0))...)
	notified := CheckNotifications(st.pay.fake.Deliveries(), res.Start)
	notified.Figures += "; " + st.pay.lb.figures()
	res.Checks = append(res.Checks, settled...)
	res.Checks = append(res.Checks, notified, checkPayAnswers(w.book),
		CheckAnswers(res.Entries, res.Windows, res.Start),
		CheckExpected(res.Entries, res.Start),
		CheckIdempotency(res.Entries, res.Start),
		CheckRevocations(res.Entries, w.j.Tokens(), res.Start),
	)
	return res, nil
}

// run runs every part of the workload and the faults until the run's
// duration is over, then waits for what is still under way.
func (w *workload) run(ctx context.Context, f *faults) {
	ctx, cancel := context.WithDeadline(ctx, w.start.Add(w.cfg.Duration))
	defer cancel()
	lc := w.newLifecycle(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { f.run(ctx) })
	if w.cfg.SelfRaceOnly {
		w.racers(ctx, nil)
		wg.Wait()
		return
	}
	wg.Go(func() { w.racers(ctx, lc) })
	for i := range 4 {
		wg.Go(func() { w.buyers(ctx, lc, i) })
	}
	for i := range 3 {
		wg.Go(func() { w.claimers(ctx, lc, i) })
	}
	for i := range 2 {
		wg.Go(func() { w.accounts(ctx, i) })
	}
	wg.Go(func() { w.restocks(ctx) })
	wg.Go(func() { w.endEarly(ctx) })
	wg.Wait()
	lc.wait()
}

package main

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
)

// Subscribers are held by this process, or, when one process's open-file
// limit would cap them, by child processes: this same binary re-executed
// as `mallbench subscribers -child`, each holding a share. A child reads
// its holdConfig, then the purchases, then the word to close, from stdin
// (gob) and writes what it opened, its receipts and how closing went to
// stdout (gob). The machine's clock is shared, so children's arrival times
// compare with the parent's purchase times.

// member is one holder, here or in a child.
type member interface {
	open(ctx context.Context) opened
	receipts(done []purchaseTimes, final int64) (holdResult, error)
	close() closed
}

type local struct{ h *holder }

func (l local) open(ctx context.Context) opened { return l.h.open(ctx) }
func (l local) receipts(done []purchaseTimes, final int64) (holdResult, error) {
	return l.h.receipts(done, final), nil
}
func (l local) close() closed { return l.h.close() }

// receiptsRequest is what a child gets once the purchases are over.
type receiptsRequest struct {
	Done  []purchaseTimes
	Final int64
}

type child struct {
	cmd *exec.Cmd
	enc *gob.Encoder
	dec *gob.Decoder
	in  io.Closer
}

func startChild(cfg holdConfig) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "subscribers", "-child")
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
	c := &child{cmd: cmd, enc: gob.NewEncoder(in), dec: gob.NewDecoder(out), in: in}
	if err := c.enc.Encode(cfg); err != nil {
		c.kill()
		return nil, err
	}
	return c, nil
}

func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
}

func (c *child) open(context.Context) opened {
	var o opened
	if err := c.dec.Decode(&o); err != nil {
		return opened{Err: "client process: " + err.Error()}
	}
	return o
}

func (c *child) receipts(done []purchaseTimes, final int64) (holdResult, error) {
	var r holdResult
	if err := c.enc.Encode(receiptsRequest{Done: done, Final: final}); err != nil {
		return r, err
	}
	return r, c.dec.Decode(&r)
}

func (c *child) close() closed {
	var out closed
	if err := c.enc.Encode(true); err != nil {
		out.Err = err.Error()
	} else if err := c.dec.Decode(&out); err != nil {
		out.Err = err.Error()
	}
	_ = c.in.Close()
	if err := c.cmd.Wait(); err != nil && out.Err == "" {
		out.Err = "client process: " + err.Error()
	}
	return out
}

// runChild is `mallbench subscribers -child`.
func runChild() error {
	dec, enc := gob.NewDecoder(os.Stdin), gob.NewEncoder(os.Stdout)
	var cfg holdConfig
	if err := dec.Decode(&cfg); err != nil {
		return err
	}
	h := newHolder(cfg)
	o := h.open(context.Background())
	if err := enc.Encode(o); err != nil || o.Err != "" {
		return err
	}
	var req receiptsRequest
	if err := dec.Decode(&req); err != nil {
		h.closeAll()
		return err
	}
	if err := enc.Encode(h.receipts(req.Done, req.Final)); err != nil {
		return err
	}
	var bye bool
	if err := dec.Decode(&bye); err != nil {
		h.closeAll()
		return err
	}
	return enc.Encode(h.close())
}

// fileLimit is this process's open-file limit (Go raises the soft limit
// to the hard one at start).
func fileLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 {
		return 1 << 30
	}
	return int(r.Cur)
}

// perProcess is how many connections one client process holds at most:
// its file limit less room for the database pool, the HTTP client and the
// runtime.
func perProcess() int { return max(fileLimit()-500, 1) }

// startMembers splits cfg.Total connections over procs holders (0: as few
// as the file limit allows; 1: this process).
func startMembers(cfg holdConfig, procs int) ([]member, error) {
	if procs <= 0 {
		procs = (cfg.Total + perProcess() - 1) / perProcess()
	}
	if share := (cfg.Total + procs - 1) / procs; share > perProcess() {
		return nil, fmt.Errorf("%d connections in %d client process(es) is %d each, above this process's open-file limit (%d) less 500; give more -procs", cfg.Total, procs, share, fileLimit())
	}
	if procs == 1 {
		cfg.N, cfg.Offset = cfg.Total, 0
		return []member{local{newHolder(cfg)}}, nil
	}
	var ms []member
	cfg.Dials = max(cfg.Dials/procs, 1)
	for k := range procs {
		c := cfg
		c.Offset = k * cfg.Total / procs
		c.N = (k+1)*cfg.Total/procs - c.Offset
		ch, err := startChild(c)
		if err != nil {
			for _, m := range ms {
				m.(*child).kill()
			}
			return nil, err
		}
		ms = append(ms, ch)
	}
	return ms, nil
}

// each runs f for every member at once and returns the results in order.
func each[T any](ms []member, f func(member) T) []T {
	out := make([]T, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = f(m)
		}()
	}
	wg.Wait()
	return out
}

// openAll opens every member's subscribers; on an error the others are
// closed.
func openAll(ctx context.Context, ms []member) (opened, error) {
	all := each(ms, func(m member) opened { return m.open(ctx) })
	var sum opened
	var errs []error
	for i, o := range all {
		switch {
		case o.Err != "":
			errs = append(errs, fmt.Errorf("client %d: %s", i, o.Err))
		case sum.N > 0 && o.Sold0 != sum.Sold0:
			errs = append(errs, fmt.Errorf("initial states disagree: sold %d and %d", sum.Sold0, o.Sold0))
		}
		sum.N, sum.Sold0, sum.Took = sum.N+o.N, o.Sold0, max(sum.Took, o.Took)
	}
	if len(errs) > 0 {
		each(ms, func(m member) closed { return m.close() })
		return sum, errors.Join(errs...)
	}
	return sum, nil
}

// Package fanout carries "these topics changed" between server instances
// that share one PostgreSQL database, with LISTEN/NOTIFY. NOTIFY is sent
// from the pool after the change committed, never inside a purchase
// transaction (it takes a cluster-wide lock at commit), and at most once
// per flush interval with every topic touched meanwhile. LISTEN runs on a
// connection of its own (lib/pq's Listener), which reconnects after the
// database restarts; subscribers are then sent the current state again.
package fanout

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"
)

// Channel is the PostgreSQL notification channel.
const Channel = "unionmall_changes"

// flushEvery bounds how often an instance notifies: a sale that changes
// thousands of times a second costs a handful of NOTIFYs.
const flushEvery = 50 * time.Millisecond

// maxPayload keeps each NOTIFY under PostgreSQL's 8000-byte limit.
const maxPayload = 7000

// Fanout publishes this instance's changes and delivers other instances'.
type Fanout struct {
	pool     *sql.DB
	listener *pq.Listener
	self     string // this instance's ID, so it ignores its own notices

	mu      sync.Mutex
	pending map[string]bool
	wake    chan struct{}
}

// Handlers receive what other instances changed, and a signal after the
// listening connection came back (anything may have changed meanwhile).
type Handlers struct {
	Changed     func(topics []string)
	Reconnected func()
}

// Start listens on dsn and returns the fanout; it stops when ctx ends.
func Start(ctx context.Context, dsn string, pool *sql.DB, h Handlers) (*Fanout, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	f := &Fanout{pool: pool, self: hex.EncodeToString(b), pending: map[string]bool{}, wake: make(chan struct{}, 1)}
	f.listener = pq.NewListener(dsn, 100*time.Millisecond, 2*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventDisconnected:
			slog.Warn("change listener lost the database", "err", err)
		case pq.ListenerEventReconnected:
			slog.Info("change listener reconnected")
		}
	})
	if err := f.listener.Listen(Channel); err != nil {
		f.listener.Close()
		return nil, err
	}
	go f.listen(ctx, h)
	go f.flushLoop(ctx)
	return f, nil
}

// Publish queues topics for the other instances.
func (f *Fanout) Publish(topics ...string) {
	f.mu.Lock()
	for _, t := range topics {
		f.pending[t] = true
	}
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *Fanout) flushLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.wake:
		}
		f.flush(ctx)
		select { // at most one flush per interval
		case <-ctx.Done():
			return
		case <-time.After(flushEvery):
		}
	}
}

func (f *Fanout) flush(ctx context.Context) {
	f.mu.Lock()
	topics := make([]string, 0, len(f.pending))
	for t := range f.pending {
		topics = append(topics, t)
	}
	f.pending = map[string]bool{}
	f.mu.Unlock()
	sort.Strings(topics)
	for _, payload := range payloads(f.self, topics) {
		if _, err := f.pool.ExecContext(ctx, "SELECT pg_notify($1, $2)", Channel, payload); err != nil && ctx.Err() == nil {
			slog.Warn("notifying other instances failed", "err", err)
		}
	}
}

// payloads packs topics into "sender|t1,t2,..." messages under the limit.
func payloads(self string, topics []string) []string {
	var out []string
	var b strings.Builder
	for _, t := range topics {
		if b.Len() > 0 && b.Len()+len(t)+1 > maxPayload {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() == 0 {
			b.WriteString(self + "|" + t)
		} else {
			b.WriteString("," + t)
		}
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

func (f *Fanout) listen(ctx context.Context, h Handlers) {
	defer f.listener.Close()
	ping := time.NewTicker(30 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-f.listener.Notify:
			if n == nil { // the connection was re-established: resync everyone
				h.Reconnected()
				continue
			}
			sender, list, ok := strings.Cut(n.Extra, "|")
			if !ok || sender == f.self || list == "" {
				continue
			}
			h.Changed(strings.Split(list, ","))
		case <-ping.C:
			go func() { _ = f.listener.Ping() }()
		}
	}
}

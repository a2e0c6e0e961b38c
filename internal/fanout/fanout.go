// Package fanout carries "these topics changed" between server instances
// that share one PostgreSQL database, with LISTEN/NOTIFY. NOTIFY is sent
// from the pool after the change committed, never inside a purchase
// transaction (it takes a cluster-wide lock at commit), and at most once
// per flush interval with every topic touched meanwhile. LISTEN runs on a
// connection of its own (lib/pq's Listener), which reconnects after the
// database restarts; subscribers are then sent the current state again.
//
// Sync is the one synchronous path, for revocations: it notifies at once
// and returns when every other instance listening on the database has
// acknowledged that it handled the topics (or after syncTimeout, for a
// peer that hangs). The peers are the listening connections themselves,
// found in pg_stat_activity by their application_name, so an instance that
// dies (kill -9) stops being waited for when its connection closes.
package fanout

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
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

// syncTimeout bounds how long Sync waits for a peer's acknowledgement.
const syncTimeout = 2 * time.Second

// Control topics of Sync: "sync:NONCE" asks every receiver to answer
// "ack:NONCE" once it has handled the topics sent with it.
const (
	syncTopic = "sync:"
	ackTopic  = "ack:"
)

// Fanout publishes this instance's changes and delivers other instances'.
type Fanout struct {
	pool     *sql.DB
	listener *pq.Listener
	self     string // this instance's ID, so it ignores its own notices
	// appPrefix names the listening connections of this database schema's
	// instances (application_name = appPrefix + self).
	appPrefix string
	connected atomic.Bool

	// send notifies the channel of one payload (pgNotify; tests swap it).
	send func(ctx context.Context, payload string) error

	mu      sync.Mutex
	pending map[string]bool
	wake    chan struct{}
	waiters map[string]chan string // Sync's nonce → acknowledging senders
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
	f := &Fanout{pool: pool, self: hex.EncodeToString(b), pending: map[string]bool{},
		wake: make(chan struct{}, 1), waiters: map[string]chan string{}}
	f.send = f.pgNotify
	var schema string
	if err := pool.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return nil, fmt.Errorf("current schema: %w", err)
	}
	sum := sha256.Sum256([]byte(schema))
	f.appPrefix = "unionmall-listen-" + hex.EncodeToString(sum[:4]) + "-"
	listenDSN, err := withApplicationName(dsn, f.appPrefix+f.self)
	if err != nil {
		return nil, err
	}
	f.listener = pq.NewListener(listenDSN, 100*time.Millisecond, 2*time.Second, func(ev pq.ListenerEventType, err error) {
		// Connected again only once the listen loop has resynced (below).
		switch ev {
		case pq.ListenerEventDisconnected, pq.ListenerEventConnectionAttemptFailed:
			if f.connected.Swap(false) {
				slog.Warn("change listener lost the database", "err", err)
			}
		case pq.ListenerEventReconnected:
			slog.Info("change listener reconnected")
		}
	})
	if err := f.listener.Listen(Channel); err != nil {
		f.listener.Close()
		return nil, err
	}
	f.connected.Store(true)
	go f.listen(ctx, h)
	go f.flushLoop(ctx)
	return f, nil
}

// withApplicationName sets the application_name of a postgres:// URL.
func withApplicationName(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("parse the database URL: %w", err)
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Connected reports whether the listening connection is up. While it is
// down, notices from other instances may be missed (the Reconnected
// handler then resyncs), so what they would have invalidated must not be
// trusted.
func (f *Fanout) Connected() bool { return f.connected.Load() }

// Sync tells the other instances of the topics now, and returns once each
// instance that is listening on the database has handled them, or after
// syncTimeout (it then logs which peers did not answer, and returns nil:
// an instance that hangs that long is not serving either).
func (f *Fanout) Sync(ctx context.Context, topics ...string) error {
	peers, err := f.peers(ctx)
	if err != nil {
		return err
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	nonce := hex.EncodeToString(b)
	acks := make(chan string, len(peers)+8)
	f.mu.Lock()
	f.waiters[nonce] = acks
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.waiters, nonce)
		f.mu.Unlock()
	}()
	for _, m := range syncPayloads(f.self, nonce, topics) {
		if err := f.send(ctx, m); err != nil {
			return fmt.Errorf("notify other instances: %w", err)
		}
	}
	timeout := time.NewTimer(syncTimeout)
	defer timeout.Stop()
	for len(peers) > 0 {
		select {
		case who := <-acks:
			delete(peers, who)
		case <-timeout.C:
			slog.Warn("instances did not acknowledge a revocation in time", "peers", len(peers), "waited", syncTimeout)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// peers are the other instances listening for this schema's changes.
func (f *Fanout) peers(ctx context.Context) (map[string]bool, error) {
	rows, err := f.pool.QueryContext(ctx,
		`SELECT application_name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE $1`,
		f.appPrefix+"%")
	if err != nil {
		return nil, fmt.Errorf("list listening instances: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		if id := strings.TrimPrefix(name, f.appPrefix); id != f.self {
			out[id] = true
		}
	}
	return out, rows.Err()
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
		if err := f.send(ctx, payload); err != nil && ctx.Err() == nil {
			slog.Warn("notifying other instances failed", "err", err)
		}
	}
}

// pgNotify sends one payload on the channel, from the pool.
func (f *Fanout) pgNotify(ctx context.Context, payload string) error {
	_, err := f.pool.ExecContext(ctx, "SELECT pg_notify($1, $2)", Channel, payload)
	return err
}

// A notice is one NOTIFY payload, "sender|t1,t2,...": the sending
// instance's ID and the topics it changed, among them the control topics
// of Sync. Topics are joined with commas, so a topic holds no comma (the
// topics package's names are a kind and an ID). The functions below are
// the whole encoding: payloads and syncPayloads pack topics, ackPayload
// answers a Sync, decode reads any of them back.

// payloads packs topics, in order, into notices of at most maxPayload
// bytes each. A topic too long to fit goes alone in a notice of its own
// (which PostgreSQL refuses above its 8000-byte limit) and holds up no
// other topic.
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

// syncPayloads are the notices of a Sync: the topics, then the request
// to acknowledge them, last, so that a receiver (which handles notices in
// the order they were sent) acknowledges only once it has handled every
// topic.
func syncPayloads(self, nonce string, topics []string) []string {
	return payloads(self, append(slices.Clone(topics), syncTopic+nonce))
}

// ackPayload is the notice acknowledging the Sync of nonce.
func ackPayload(self, nonce string) string { return self + "|" + ackTopic + nonce }

// notice is a decoded payload.
type notice struct {
	sender  string
	changed []string // topics for the Changed handler, in order
	syncs   []string // nonces of Syncs the sender asks to acknowledge
	acks    []string // nonces of Syncs the sender acknowledged
}

// decode reads a payload. It is not ok when the payload is malformed or
// empty, or when it is the instance's own (self): NOTIFY reaches the
// sender's own listener too.
func decode(self, payload string) (notice, bool) {
	sender, list, ok := strings.Cut(payload, "|")
	if !ok || sender == "" || sender == self || list == "" {
		return notice{}, false
	}
	n := notice{sender: sender}
	for _, t := range strings.Split(list, ",") {
		switch {
		case t == "":
		case strings.HasPrefix(t, syncTopic):
			n.syncs = append(n.syncs, strings.TrimPrefix(t, syncTopic))
		case strings.HasPrefix(t, ackTopic):
			n.acks = append(n.acks, strings.TrimPrefix(t, ackTopic))
		default:
			n.changed = append(n.changed, t)
		}
	}
	return n, true
}

// receive handles another instance's notice: acknowledgements go to the
// Sync waiting for them; its topics are handled, and then, for a Sync,
// acknowledged (so that the acknowledgement means "handled").
func (f *Fanout) receive(ctx context.Context, n notice, h Handlers) {
	for _, nonce := range n.acks {
		f.mu.Lock()
		w := f.waiters[nonce]
		f.mu.Unlock()
		if w != nil {
			select {
			case w <- n.sender:
			default:
			}
		}
	}
	if len(n.changed) > 0 {
		h.Changed(n.changed)
	}
	for _, nonce := range n.syncs {
		go func() {
			if err := f.send(ctx, ackPayload(f.self, nonce)); err != nil && ctx.Err() == nil {
				slog.Warn("acknowledging a revocation failed", "err", err)
			}
		}()
	}
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
				f.connected.Store(true)
				continue
			}
			if msg, ok := decode(f.self, n.Extra); ok {
				f.receive(ctx, msg, h)
			}
		case <-ping.C:
			go func() { _ = f.listener.Ping() }()
		}
	}
}

package testdb

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"
)

// Holder is a transaction of the test's own that holds row locks on
// PostgreSQL, so that a test can queue the server's transactions behind
// it in a chosen order, and release them.
type Holder struct {
	t    testing.TB
	d    *DB
	conn *sql.Conn
	tx   *sql.Tx
	pid  int
	once sync.Once
}

// Hold begins a transaction on a connection of its own and runs query
// (say, SELECT ... FOR UPDATE) in it. It is released when the test ends at
// the latest.
func (d *DB) Hold(t testing.TB, query string, args ...any) *Holder {
	t.Helper()
	if !d.Postgres() {
		t.Fatal("Hold needs PostgreSQL's row locks")
	}
	ctx := context.Background()
	conn, err := d.Pool.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := &Holder{t: t, d: d, conn: conn}
	if h.tx, err = conn.BeginTx(ctx, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Release)
	if err := h.tx.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&h.pid); err != nil {
		t.Fatal(err)
	}
	if _, err := h.tx.ExecContext(ctx, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return h
}

// Queued counts the backends waiting for the holder's locks, directly or
// behind another waiter (PostgreSQL queues a second waiter for a row on
// the first one's tuple lock, so pg_blocking_pids names that one).
func (h *Holder) Queued() int {
	h.t.Helper()
	var n int
	err := h.d.Pool.QueryRow(`WITH RECURSIVE w(pid) AS (
	SELECT pid FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))
	UNION
	SELECT a.pid FROM pg_stat_activity a JOIN w ON w.pid = ANY(pg_blocking_pids(a.pid)))
SELECT count(*) FROM w`, h.pid).Scan(&n)
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// AwaitQueued waits until n backends are queued behind the holder (10 s
// at most; what names what is expected to queue).
func (h *Holder) AwaitQueued(n int, what string) {
	h.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); h.Queued() < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			h.t.Fatalf("%s never queued behind the test's lock (%d queued, want %d)", what, h.Queued(), n)
		}
	}
}

// Release commits the holder's transaction.
func (h *Holder) Release() {
	h.once.Do(func() {
		_ = h.tx.Commit()
		h.conn.Close()
	})
}

package db

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
)

// Prepared runs statements as prepared statements on PostgreSQL: lib/pq sends an unprepared statement with parameters in two
// round trips (Parse and Describe, then Bind and Execute) and the server
// parses and plans it each time; a prepared one is one round trip and is
// planned from its cached plan. database/sql prepares a statement on each
// pool connection it runs on, once. On a busy machine every round trip
// also waits for the process to be scheduled.
//
// Statements without parameters are prepared too (lib/pq's simple query
// is one round trip, but parsed and planned each time); a text that
// cannot be prepared (several commands) runs as it is.
//
// The cache holds at most PreparedLimit statements, the least recently
// used leaving first: ent builds a new text for every length of an IN
// list, and each statement costs memory in every server process it was
// prepared on. The zero value is not usable: NewPrepared.
type Prepared struct {
	pool *sql.DB

	// What ran (see PreparedStats).
	prepared, unprepared, preparations, evictions atomic.Uint64

	mu    sync.Mutex
	limit int
	byQ   map[string]*list.Element // of *prepEntry
	lru   list.List                // front: most recently used
	// closing counts the statements being closed (closeLater); closed is
	// signalled, on mu, when it falls to 0. Not a WaitGroup: requests
	// still running may evict while Close waits.
	closing int
	closed  *sync.Cond
}

// PreparedLimit is how many statements one Prepared keeps.
const PreparedLimit = 256

type prepEntry struct {
	query string
	st    *sql.Stmt
	// users counts the calls that took st and have not yet returned
	// from it; an evicted statement is closed by the last of them (close
	// waits for their rows itself: database/sql keeps a statement until
	// its rows are closed).
	users   int
	evicted bool
}

// NewPrepared returns an empty cache of prepared statements on pool.
func NewPrepared(pool *sql.DB) *Prepared {
	p := &Prepared{pool: pool, limit: PreparedLimit, byQ: map[string]*list.Element{}}
	p.closed = sync.NewCond(&p.mu)
	return p
}

// QueryContext runs query, prepared on first use, with args.
func (p *Prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return run(p, ctx, query, func(st *sql.Stmt) (*sql.Rows, error) { return st.QueryContext(ctx, args...) },
		func() (*sql.Rows, error) { return p.pool.QueryContext(ctx, query, args...) })
}

// ExecContext runs query, prepared on first use, with args.
func (p *Prepared) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return run(p, ctx, query, func(st *sql.Stmt) (sql.Result, error) { return st.ExecContext(ctx, args...) },
		func() (sql.Result, error) { return p.pool.ExecContext(ctx, query, args...) })
}

// In runs the statements inside tx, on tx's connection.
func (p *Prepared) In(tx *sql.Tx) TxPrepared { return TxPrepared{p: p, tx: tx} }

// TxPrepared is Prepared inside one transaction. The transaction holds a
// pool connection, and preparing through the pool needs another: with
// every connection in a transaction that would wait forever. A statement
// not yet prepared therefore runs unprepared on the transaction's
// connection while the pool prepares it in the background (lookup). A
// failed statement has aborted the transaction, so nothing is retried; a
// stale one (stalePlan) is dropped all the same, or every later
// transaction on a connection holding it would fail too.
type TxPrepared struct {
	p  *Prepared
	tx *sql.Tx
}

// QueryContext runs query in the transaction, prepared, with args.
func (t TxPrepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return inTx(t, query, func(st *sql.Stmt) (*sql.Rows, error) { return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...) },
		func() (*sql.Rows, error) { return t.tx.QueryContext(ctx, query, args...) })
}

// ExecContext runs query in the transaction, prepared, with args.
func (t TxPrepared) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return inTx(t, query, func(st *sql.Stmt) (sql.Result, error) { return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...) },
		func() (sql.Result, error) { return t.tx.ExecContext(ctx, query, args...) })
}

// inTx runs fn on query's prepared statement in t's transaction, or plain
// while it is not prepared yet.
func inTx[T any](t TxPrepared, query string, fn func(*sql.Stmt) (T, error), plain func() (T, error)) (T, error) {
	e := t.p.lookup(query)
	if e == nil {
		t.p.unprepared.Add(1)
		return plain()
	}
	t.p.prepared.Add(1)
	v, err := fn(e.st)
	t.p.give(e, stalePlan(err))
	return v, err
}

// PreparedStats are a cache's counts since it was made.
type PreparedStats struct {
	Prepared     uint64 // statements run prepared
	Unprepared   uint64 // run as they were: not yet prepared in a transaction, or not preparable
	Preparations uint64 // statements prepared through the pool
	Evictions    uint64 // statements dropped: least recently used, or a stale plan
	Held         int    // statements in the cache now
}

// Stats returns the cache's counts.
func (p *Prepared) Stats() PreparedStats {
	return PreparedStats{
		Prepared: p.prepared.Load(), Unprepared: p.unprepared.Load(),
		Preparations: p.preparations.Load(), Evictions: p.evictions.Load(), Held: p.Len(),
	}
}

// Len is how many statements the cache holds.
func (p *Prepared) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lru.Len()
}

// Close closes every statement; later calls prepare again.
func (p *Prepared) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.lru.Len() > 0 {
		p.evictLocked(p.lru.Back())
	}
	p.waitClosedLocked()
}

// waitClosedLocked waits until no statement is being closed.
func (p *Prepared) waitClosedLocked() {
	for p.closing > 0 {
		p.closed.Wait()
	}
}

// closeLater closes st on a goroutine of its own: database/sql closes a
// statement on each connection it was prepared on, a round trip each,
// holding the pool's lock, and neither our lock nor the request that
// evicted it should wait for that. Call it with mu held.
func (p *Prepared) closeLater(st *sql.Stmt) {
	p.closing++
	go func() {
		_ = st.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.closing--; p.closing == 0 {
			p.closed.Broadcast()
		}
	}()
}

// run runs fn on query's statement. A statement whose cached plan no
// longer fits the table (another instance's migration changed a column's
// type) is dropped, and the call runs once unprepared when retry is given.
func run[T any](p *Prepared, ctx context.Context, query string, fn func(*sql.Stmt) (T, error), retry func() (T, error)) (T, error) {
	e, err := p.take(ctx, query)
	if err != nil {
		if retry != nil && !errors.Is(err, ctx.Err()) {
			// What cannot be prepared may still run: several commands
			// in one text, say. A statement that is wrong fails again,
			// with the error it always had.
			p.unprepared.Add(1)
			return retry()
		}
		var zero T
		return zero, err
	}
	p.prepared.Add(1)
	v, err := fn(e.st)
	p.give(e, stalePlan(err))
	if stalePlan(err) && retry != nil {
		p.unprepared.Add(1)
		return retry()
	}
	return v, err
}

// stalePlan reports PostgreSQL's "cached plan must not change result
// type" (feature_not_supported, raised on executing a statement prepared
// before a table's columns changed).
func stalePlan(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "0A000" && strings.Contains(pqErr.Message, "cached plan")
}

// hitLocked returns query's prepared entry with a user counted, or nil.
func (p *Prepared) hitLocked(query string) *prepEntry {
	el, ok := p.byQ[query]
	if !ok {
		return nil
	}
	p.lru.MoveToFront(el)
	e := el.Value.(*prepEntry)
	if e.st == nil { // still being prepared
		return nil
	}
	e.users++
	return e
}

// lookup returns query's entry with a user counted, or nil after starting
// its preparation in the background.
func (p *Prepared) lookup(query string) *prepEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.hitLocked(query); e != nil {
		return e
	}
	if _, ok := p.byQ[query]; ok {
		return nil // being prepared
	}
	e := &prepEntry{query: query}
	p.byQ[query] = p.lru.PushFront(e)
	p.trimLocked()
	go p.prepareLater(e)
	return nil
}

// prepareLater prepares e's statement on a free pool connection.
func (p *Prepared) prepareLater(e *prepEntry) {
	ctx, cancel := context.WithTimeout(context.Background(), prepareWait)
	defer cancel()
	st, err := p.pool.PrepareContext(ctx, e.query)
	if err == nil {
		p.preparations.Add(1)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err != nil && !e.evicted:
		p.lru.Remove(p.byQ[e.query])
		delete(p.byQ, e.query)
	case err != nil:
	case e.evicted:
		p.closeLater(st)
	default:
		e.st = st
	}
}

// prepareWait bounds a background preparation's wait for a connection.
const prepareWait = 30 * time.Second

// take returns query's entry, preparing it if the cache has none, with a
// user counted; give it back.
func (p *Prepared) take(ctx context.Context, query string) (*prepEntry, error) {
	p.mu.Lock()
	if e := p.hitLocked(query); e != nil {
		p.mu.Unlock()
		return e, nil
	}
	p.mu.Unlock()
	// Prepared outside the lock: a first preparation is a round trip.
	st, err := p.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.preparations.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.hitLocked(query); e != nil { // another call prepared it meanwhile
		p.closeLater(st)
		return e, nil
	}
	if el, ok := p.byQ[query]; ok { // being prepared in the background
		p.lru.Remove(el).(*prepEntry).evicted = true
	}
	e := &prepEntry{query: query, st: st, users: 1}
	p.byQ[query] = p.lru.PushFront(e)
	p.trimLocked()
	return e, nil
}

// trimLocked evicts the least recently used entries beyond the limit.
func (p *Prepared) trimLocked() {
	for p.lru.Len() > p.limit {
		p.evictLocked(p.lru.Back())
	}
}

// give ends a use of e; drop evicts it.
func (p *Prepared) give(e *prepEntry, drop bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.users--
	if drop && !e.evicted {
		p.evictLocked(p.byQ[e.query])
		return
	}
	if e.evicted && e.users == 0 {
		p.closeLater(e.st)
	}
}

// evictLocked takes el out of the cache, closing its statement unless a
// call is using it (give closes it then).
func (p *Prepared) evictLocked(el *list.Element) {
	e := p.lru.Remove(el).(*prepEntry)
	delete(p.byQ, e.query)
	p.evictions.Add(1)
	e.evicted = true
	if e.users == 0 && e.st != nil {
		p.closeLater(e.st)
	}
}

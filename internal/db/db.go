// Package db opens the mall's database: the embedded SQLite file by default,
// PostgreSQL when the URL says so. Most code is the same on both (ent
// queries on one client type, statements of our own rebound by Rebind), but
// not all of it. What differs by dialect, and where:
//
//   - the clock to decide by: Now reads PostgreSQL's clock_timestamp()
//     under the transaction's locks, and the process's clock on SQLite;
//   - row locks: SELECT … FOR UPDATE (FOR SHARE in account's sign-in) is
//     taken on PostgreSQL only, behind DB.Postgres (catalog, orders,
//     coupons, flashsales, account); on SQLite, Tx's BEGIN IMMEDIATE takes
//     the database's one write lock instead, so transactions serialize;
//   - statements written per dialect: the flash-sale batch (raw SQL with
//     arrays on PostgreSQL, ent on SQLite: flashsales/batch_postgres.go,
//     batch_sqlite.go) and the throttle buckets' upsert (GREATEST or max);
//   - PostgreSQL only: ent's statements run prepared (driver.go,
//     prepared.go; lib/pq would send one with parameters in two round
//     trips, and PostgreSQL would parse and plan each again);
//   - PostgreSQL only: LISTEN/NOTIFY between instances (fanout, started by
//     the server when the database is PostgreSQL), advisory locks around
//     migrations and the demo load, the pool's size (DefaultMaxConns; SQLite
//     gets 8 connections);
//   - migrations: one directory per dialect (migrations/postgres, sqlite);
//   - constraint errors: IsConstraint knows both drivers' error types.
//
// Tests run on SQLite always and on PostgreSQL too when TEST_DATABASE_URL
// is set (testdb), which is how both sides of each branch are exercised.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"  // PostgreSQL, registered as "postgres"
	"modernc.org/sqlite" // pure-Go SQLite, registered as "sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"unionmall/ent"
)

// DefaultFile is the embedded database used when no URL is configured.
const DefaultFile = "mall.db"

// Target is a parsed DATABASE_URL.
type Target struct {
	Dialect string // dialect.SQLite or dialect.Postgres
	Driver  string // the database/sql driver name
	DSN     string
	// File is the SQLite file path; empty for PostgreSQL and in-memory SQLite.
	File string
	// MaxConns bounds a PostgreSQL pool (DefaultMaxConns when zero).
	MaxConns int
}

// DefaultMaxConns is a PostgreSQL pool's size unless the target says.
const DefaultMaxConns = 32

// Parse reads a DATABASE_URL: "" means the embedded file mall.db,
// "file:..." another SQLite file, "postgres://..." PostgreSQL.
func Parse(raw string) (Target, error) {
	switch {
	case raw == "":
		return sqliteTarget("file:" + DefaultFile)
	case strings.HasPrefix(raw, "file:"):
		return sqliteTarget(raw)
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return Target{Dialect: dialect.Postgres, Driver: "postgres", DSN: raw}, nil
	default:
		return Target{}, errors.New("DATABASE_URL must start with postgres://, postgresql:// or file: (a SQLite file)")
	}
}

// sqliteTarget adds the settings the server relies on: foreign keys
// (SQLite enforces the schema's REFERENCES only with them on), WAL so that
// reads outside a transaction do not wait for the writer, a busy timeout so
// concurrent writers queue instead of failing with SQLITE_BUSY, and
// IMMEDIATE transactions so a transaction that reads and then writes takes
// the write lock up front instead of failing to upgrade. Every transaction
// Tx begins is such a write transaction, even one that only reads (the
// driver begins IMMEDIATE unless a transaction is declared read-only, and
// Tx does not declare it).
func sqliteTarget(raw string) (Target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, fmt.Errorf("parse SQLite URL: %w", err)
	}
	path := u.Opaque
	if path == "" {
		path = u.Path
	}
	q := u.Query()
	memory := q.Get("mode") == "memory"
	have := strings.Join(q["_pragma"], ",")
	add := func(name, pragma string) {
		if !strings.Contains(have, name) {
			q.Add("_pragma", pragma)
		}
	}
	add("foreign_keys", "foreign_keys(1)")
	add("busy_timeout", "busy_timeout(10000)")
	if !memory {
		add("journal_mode", "journal_mode(WAL)")
		add("synchronous", "synchronous(NORMAL)")
	}
	if q.Get("_txlock") == "" {
		q.Set("_txlock", "immediate")
	}
	// Times are written as sortable UTC text, so that SQL comparisons of
	// timestamps (and the schema's CHECKs on them) are correct.
	if q.Get("_time_format") == "" {
		q.Set("_time_format", "sqlite")
	}
	if q.Get("_timezone") == "" {
		q.Set("_timezone", "UTC")
	}
	t := Target{Dialect: dialect.SQLite, Driver: "sqlite", DSN: "file:" + path + "?" + q.Encode()}
	if !memory {
		t.File = path
	}
	return t, nil
}

// DB is an open database: the pool, an ent client on it and its dialect.
type DB struct {
	Pool    *sql.DB
	Client  *ent.Client
	Dialect string
	// Statements are the pool's prepared statements on PostgreSQL, shared
	// by ent's driver and the hot paths' own SQL (nil on SQLite, and in a
	// DB put together by hand: Prepared then gives a cache of its own).
	Statements *Prepared
}

// Prepared returns the statements to run prepared on d's pool: the
// shared cache, or a new one for a DB without it.
func (d *DB) Prepared() *Prepared {
	if d.Statements != nil {
		return d.Statements
	}
	return NewPrepared(d.Pool)
}

// Postgres reports whether the database is PostgreSQL.
func (d *DB) Postgres() bool { return d.Dialect == dialect.Postgres }

// Close closes the client and its pool.
func (d *DB) Close() error { return d.Client.Close() }

// Tx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise (also when fn panics). Entities loaded through tx and kept
// after it must be Unwrap()ped, or their edges cannot be loaded later. On
// SQLite the transaction takes the write lock up front (_txlock=immediate),
// so transactions serialize; on PostgreSQL it runs at the server's default
// isolation (READ COMMITTED unless configured otherwise: Tx does not set
// it) and holds only the locks its statements take.
func (d *DB) Tx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	tx, err := d.Client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Now is the time to decide by inside tx, read once the transaction holds
// the row locks its decision depends on (call it after taking them): a
// clock read before BEGIN is stale by the lock and pool waits, and
// instances' clocks differ. On PostgreSQL it is the database's
// clock_timestamp() (now() is the transaction's start, which may precede
// the lock wait); on SQLite, whose transactions hold the one write lock
// from BEGIN IMMEDIATE and whose writers share one machine, the process's
// clock.
func (d *DB) Now(ctx context.Context, tx *ent.Tx) (time.Time, error) {
	if !d.Postgres() {
		return time.Now().UTC(), nil
	}
	rows, err := tx.QueryContext(ctx, "SELECT clock_timestamp()")
	if err != nil {
		return time.Time{}, fmt.Errorf("read the database clock: %w", err)
	}
	defer rows.Close()
	var now time.Time
	if !rows.Next() {
		return time.Time{}, fmt.Errorf("read the database clock: %w", rows.Err())
	}
	if err := rows.Scan(&now); err != nil {
		return time.Time{}, fmt.Errorf("read the database clock: %w", err)
	}
	return now.UTC(), rows.Close()
}

// Rebind rewrites a statement written with ? placeholders for the
// database's dialect ($1, $2, ... on PostgreSQL).
func (d *DB) Rebind(query string) string {
	if !d.Postgres() {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// IsConstraint reports whether err is a constraint violation (unique,
// check, foreign key), whether it came through ent (which wraps it) or
// from a statement of our own (PostgreSQL's SQLSTATE class 23, SQLite's
// SQLITE_CONSTRAINT).
func IsConstraint(err error) bool {
	if err == nil {
		return false
	}
	if ent.IsConstraintError(err) {
		return true
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code.Class() == "23"
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
	}
	return false
}

// Open connects to the target. The caller closes it.
func Open(ctx context.Context, t Target, opts ...ent.Option) (*DB, error) {
	if t.File != "" {
		if err := createPrivate(t.File); err != nil {
			return nil, err
		}
	}
	pool, err := sql.Open(t.Driver, t.DSN)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", t.Dialect, err)
	}
	if t.Dialect == dialect.Postgres {
		n := t.MaxConns
		if n <= 0 {
			n = DefaultMaxConns
		}
		pool.SetMaxOpenConns(n)
		pool.SetMaxIdleConns(n)
		pool.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		// One SQLite file has one writer; a few connections let readers
		// proceed (WAL) while writers queue on the busy timeout.
		pool.SetMaxOpenConns(8)
		pool.SetMaxIdleConns(8)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.PingContext(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s: %w", t.Dialect, err)
	}
	d := &DB{Pool: pool, Dialect: t.Dialect}
	var drv dialect.Driver = entsql.OpenDB(t.Dialect, pool)
	if t.Dialect == dialect.Postgres {
		d.Statements = NewPrepared(pool)
		drv = newPreparedDriver(d.Statements)
	}
	d.Client = ent.NewClient(append([]ent.Option{ent.Driver(drv)}, opts...)...)
	return d, nil
}

// createPrivate creates the SQLite file readable by its owner alone (0600)
// unless it exists: it holds phones, names and password hashes. SQLite
// creates the -wal and -shm files with the database file's mode, so they
// are private too; left to the driver, all three would follow the umask
// (0644 as a rule).
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return f.Close()
}

// NewClient wraps an open pool in an ent client.
func NewClient(pool *sql.DB, dialectName string, opts ...ent.Option) *ent.Client {
	var drv dialect.Driver = entsql.OpenDB(dialectName, pool)
	if dialectName == dialect.Postgres {
		drv = newPreparedDriver(NewPrepared(pool))
	}
	return ent.NewClient(append([]ent.Option{ent.Driver(drv)}, opts...)...)
}

// SumOrZero is SUM(field) that reads 0, not NULL, over no rows. Use it with
// ent.As to name the result.
func SumOrZero(field string) ent.AggregateFunc {
	return func(s *entsql.Selector) string {
		return "COALESCE(SUM(" + s.C(field) + "), 0)"
	}
}

package db_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"

	"unionmall/internal/db"
	"unionmall/internal/testdb"
)

// preparedPool opens a pool of n connections on a fresh PostgreSQL schema
// holding table t (id, v), rows 1..10 with v = id*10.
func preparedPool(t *testing.T, n int) *sql.DB {
	t.Helper()
	d := testdb.OpenEmpty(t, "postgres")
	pool, err := sql.Open("postgres", d.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	pool.SetMaxOpenConns(n)
	for _, q := range []string{
		"CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)",
		"INSERT INTO t SELECT i, i * 10 FROM generate_series(1, 10) i",
	} {
		if _, err := pool.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return pool
}

// serverStatements counts the prepared statements of the pool's one
// connection, as PostgreSQL holds them.
func serverStatements(t *testing.T, pool *sql.DB) int {
	t.Helper()
	var n int
	if err := pool.QueryRow("SELECT count(*) FROM pg_prepared_statements").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func readV(t *testing.T, p *db.Prepared, query string, id int) int {
	t.Helper()
	rows, err := p.QueryContext(context.Background(), query, id)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var v int
	if !rows.Next() {
		t.Fatalf("%s: no row (%v)", query, rows.Err())
	}
	if err := rows.Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// The cache keeps the most recently used statements, and PostgreSQL holds
// no more than the cache does: evicted statements are closed on the server.
func TestPreparedKeepsTheRecentlyUsed(t *testing.T) {
	pool := preparedPool(t, 1)
	p := db.NewPrepared(pool)
	db.SetPreparedLimit(p, 3)
	for i := range 8 {
		q := fmt.Sprintf("SELECT v + %d FROM t WHERE id = $1", i)
		if got := readV(t, p, q, 2); got != 20+i {
			t.Fatalf("%s = %d, want %d", q, got, 20+i)
		}
	}
	if got := p.Len(); got != 3 {
		t.Fatalf("cache holds %d statements, want 3", got)
	}
	db.WaitClosed(p)
	if got := serverStatements(t, pool); got != 3 {
		t.Fatalf("PostgreSQL holds %d prepared statements, want 3", got)
	}
	p.Close()
	if got := serverStatements(t, pool); got != 0 {
		t.Fatalf("after Close PostgreSQL holds %d prepared statements, want 0", got)
	}
}

// A statement evicted while its rows are being read keeps serving them,
// and is closed once they are.
func TestPreparedEvictedWhileRowsAreOpen(t *testing.T) {
	pool := preparedPool(t, 2)
	p := db.NewPrepared(pool)
	db.SetPreparedLimit(p, 1)
	ctx := context.Background()
	rows, err := p.QueryContext(ctx, "SELECT v FROM t WHERE id >= $1 ORDER BY id", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := readV(t, p, "SELECT v FROM t WHERE id = $1", 3); got != 30 { // evicts the first
		t.Fatalf("got %d, want 30", got)
	}
	sum := 0
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if sum != 550 {
		t.Fatalf("the evicted statement's rows sum to %d, want 550", sum)
	}
	if got := p.Len(); got != 1 {
		t.Fatalf("cache holds %d statements, want 1", got)
	}
}

// A statement prepared before a column changed type fails with "cached
// plan must not change result type"; it is dropped and the call answers
// from a fresh statement.
func TestPreparedSurvivesAColumnTypeChange(t *testing.T) {
	pool := preparedPool(t, 1)
	p := db.NewPrepared(pool)
	const q = "SELECT * FROM t WHERE id = $1"
	if got := readV2(t, p, q, 4); got != 40 {
		t.Fatalf("got %d, want 40", got)
	}
	if _, err := pool.Exec("ALTER TABLE t ALTER COLUMN v TYPE bigint"); err != nil {
		t.Fatal(err)
	}
	if got := readV2(t, p, q, 4); got != 40 {
		t.Fatalf("after the change got %d, want 40", got)
	}
	if got := readV2(t, p, q, 5); got != 50 {
		t.Fatalf("then got %d, want 50", got)
	}
}

func readV2(t *testing.T, p *db.Prepared, query string, id int) int {
	t.Helper()
	var gotID, v int
	if err := scanOne(p, query, id, &gotID, &v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}

func scanOne(p *db.Prepared, query string, id int, dest ...any) error {
	rows, err := p.QueryContext(context.Background(), query, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		return fmt.Errorf("no row (%v)", rows.Err())
	}
	return rows.Scan(dest...)
}

// Many callers with more distinct statements than the cache holds, in
// and out of transactions, all get their own rows. There are more callers
// than connections, so at times every connection is in a transaction that
// meets a statement not yet prepared: none may wait for the pool.
func TestPreparedConcurrentCallers(t *testing.T) {
	pool := preparedPool(t, 4)
	p := db.NewPrepared(pool)
	db.SetPreparedLimit(p, 4)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 16 {
		wg.Go(func() {
			for i := range 40 {
				k := (g + i) % 9
				q := fmt.Sprintf("SELECT v + %d FROM t WHERE id = $1", k)
				id := 1 + i%10
				var v int
				var err error
				if i%3 == 0 {
					err = inTxScan(ctx, pool, p, q, id, &v)
				} else {
					err = scanOne(p, q, id, &v)
				}
				if err == nil && v != id*10+k {
					err = fmt.Errorf("%s with %d = %d, want %d", q, id, v, id*10+k)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := p.Len(); got > 4 {
		t.Fatalf("cache holds %d statements, want at most 4", got)
	}
}

// Statements without parameters run prepared too; a text PostgreSQL cannot
// prepare (several commands) still runs as it is, and a wrong one fails
// with its own error, without entering the cache.
func TestPreparedStatementsWithoutParameters(t *testing.T) {
	pool := preparedPool(t, 2)
	p := db.NewPrepared(pool)
	ctx := context.Background()
	rows, err := p.QueryContext(ctx, "SELECT count(*) FROM t")
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if got := p.Stats(); got.Prepared != 1 || got.Held != 1 {
		t.Fatalf("after one statement without parameters: %+v, want it prepared and held", got)
	}
	if _, err := p.ExecContext(ctx, "UPDATE t SET v = v + 1 WHERE id = 1; UPDATE t SET v = v + 1 WHERE id = 2"); err != nil {
		t.Fatalf("two commands: %v", err)
	}
	var v1, v2 int
	if err := pool.QueryRow("SELECT (SELECT v FROM t WHERE id = 1), (SELECT v FROM t WHERE id = 2)").Scan(&v1, &v2); err != nil {
		t.Fatal(err)
	}
	if v1 != 11 || v2 != 21 {
		t.Fatalf("after the two commands v = %d, %d, want 11, 21", v1, v2)
	}
	if _, err := p.ExecContext(ctx, "UPDATE no_such_table SET v = 1"); err == nil || !strings.Contains(err.Error(), "no_such_table") {
		t.Fatalf("a wrong statement: %v, want its own error", err)
	}
	if got := p.Stats(); got.Held != 1 || got.Unprepared != 2 {
		t.Fatalf("%+v, want 1 statement held and 2 run unprepared", got)
	}
}

// Inside a transaction a stale statement fails the transaction (it cannot
// be retried there), and is dropped: the next transaction answers.
func TestPreparedStaleInTransactionIsDropped(t *testing.T) {
	pool := preparedPool(t, 1)
	p := db.NewPrepared(pool)
	ctx := context.Background()
	const q = "SELECT * FROM t WHERE id = $1"
	if got := readV2(t, p, q, 4); got != 40 {
		t.Fatalf("got %d, want 40", got)
	}
	if _, err := pool.Exec("ALTER TABLE t ALTER COLUMN v TYPE bigint"); err != nil {
		t.Fatal(err)
	}
	var id, v int
	_ = inTxScan(ctx, pool, p, q, 4, &id, &v) // may fail: the statement is stale
	if err := inTxScan(ctx, pool, p, q, 5, &id, &v); err != nil {
		t.Fatalf("the transaction after the stale one: %v", err)
	}
	if v != 50 {
		t.Fatalf("got %d, want 50", v)
	}
}

func inTxScan(ctx context.Context, pool *sql.DB, p *db.Prepared, q string, id int, dest ...any) error {
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rows, err := p.In(tx).QueryContext(ctx, q, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		return fmt.Errorf("no row (%v)", rows.Err())
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	rows.Close()
	return tx.Commit()
}

// Close may meet requests that are still evicting statements (a server
// shutting down): it waits for the closes they start. A WaitGroup there
// once panicked in CI ("reused before previous Wait has returned"); that
// interleaving is too narrow for this test to hit on demand, so it shows
// only that Close and evictions meet without a race, a hang or a panic.
func TestPreparedCloseWhileInUse(t *testing.T) {
	pool := preparedPool(t, 4)
	p := db.NewPrepared(pool)
	db.SetPreparedLimit(p, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var v int
				_ = scanOne(p, fmt.Sprintf("SELECT v + %d FROM t WHERE id = $1", (g+i)%5), 1, &v)
			}
		})
	}
	for range 20 {
		p.Close()
	}
	close(stop)
	wg.Wait()
	p.Close()
	db.WaitClosed(p)
}

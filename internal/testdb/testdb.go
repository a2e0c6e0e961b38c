// Package testdb gives tests real, migrated databases: a temporary SQLite
// file, and (when TEST_DATABASE_URL is set) a PostgreSQL schema of the test's
// own, dropped afterwards.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"unionmall/internal/db"
	"unionmall/migrations"
)

// DB is one test database.
type DB struct {
	*db.DB
	Name string // "sqlite" or "postgres"
	URL  string // a DATABASE_URL that reaches this very database
}

// PoolSize bounds each test pool on PostgreSQL: the packages' tests run at
// once, several servers each, on one PostgreSQL whose max_connections is
// 100 by default.
const PoolSize = 12

// Each runs fn once against SQLite and once against PostgreSQL, as subtests.
// The PostgreSQL run skips, saying why, when TEST_DATABASE_URL is unset.
func Each(t *testing.T, fn func(t *testing.T, d *DB)) {
	t.Helper()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			fn(t, Open(t, name))
		})
	}
}

// Open returns a fresh migrated database of the kind named ("sqlite" or
// "postgres"); it is closed and removed when the test ends.
func Open(t testing.TB, name string) *DB {
	t.Helper()
	d := OpenEmpty(t, name)
	if _, err := migrations.Up(context.Background(), d.Pool, d.Dialect); err != nil {
		t.Fatalf("migrate %s: %v", name, err)
	}
	return d
}

// OpenEmpty is Open without the migrations.
func OpenEmpty(t testing.TB, name string) *DB {
	t.Helper()
	var raw string
	switch name {
	case "sqlite":
		raw = "file:" + filepath.Join(t.TempDir(), "mall.db")
	case "postgres":
		raw = postgresSchema(t)
	default:
		t.Fatalf("unknown database kind %q", name)
	}
	target, err := db.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	target.MaxConns = PoolSize
	d, err := db.Open(context.Background(), target)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() { d.Close() })
	return &DB{DB: d, Name: name, URL: raw}
}

// PostgresURL returns TEST_DATABASE_URL or skips the test.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		t.Skip("TEST_DATABASE_URL is not set: skipping the PostgreSQL run " +
			"(e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return u
}

// postgresSchema creates a schema of the test's own and returns a URL whose
// connections use it.
func postgresSchema(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Q rewrites a query written with ? placeholders for the database's dialect.
func (d *DB) Q(query string) string { return d.Rebind(query) }

// Int runs a query returning one integer.
func (d *DB) Int(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Pool.QueryRow(d.Q(query), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// Reopen opens a second handle (a pool of its own, as another instance
// would have) on the same database; it is closed when the test ends.
func Reopen(t testing.TB, d *DB) *db.DB {
	t.Helper()
	target, err := db.Parse(d.URL)
	if err != nil {
		t.Fatal(err)
	}
	target.MaxConns = PoolSize
	other, err := db.Open(context.Background(), target)
	if err != nil {
		t.Fatalf("reopen %s: %v", d.Name, err)
	}
	t.Cleanup(func() { other.Close() })
	return other
}

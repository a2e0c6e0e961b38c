//go:build ignore

// diff writes a new versioned migration for each dialect: the difference
// between ent/schema and what the existing migrations build (replayed on a
// dev database: an in-memory SQLite, and a throwaway PostgreSQL database).
//
//	go run ./migrations/diff.go add_something
//
// A generated migration may be edited by hand where the diff cannot know
// the data (a backfill before a NOT NULL or a CHECK, say); then rewrite the
// checksum files, which the next diff verifies:
//
//	go run ./migrations/diff.go -rehash
//
// PostgreSQL is reached at DEV_DATABASE_URL, or at the local server.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"

	atlas "ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqltool"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"

	"unionmall/internal/db"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: go run ./migrations/diff.go NAME")
	}
	name := os.Args[1]
	ctx := context.Background()
	if name == "-rehash" {
		for _, path := range []string{"migrations/sqlite", "migrations/postgres"} {
			if err := rehash(path); err != nil {
				log.Fatalf("%s: %v", path, err)
			}
		}
		return
	}

	if err := diff(ctx, "migrations/sqlite", dialect.SQLite, "sqlite",
		"file:migrations-dev?mode=memory&cache=shared&_pragma=foreign_keys(1)", name); err != nil {
		log.Fatalf("sqlite: %v", err)
	}

	admin := os.Getenv("DEV_DATABASE_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	devURL, drop, err := throwawayDatabase(ctx, admin)
	if err != nil {
		log.Fatalf("postgres dev database: %v", err)
	}
	defer drop()
	if err := diff(ctx, "migrations/postgres", dialect.Postgres, "postgres", devURL, name); err != nil {
		drop()
		log.Fatalf("postgres: %v", err)
	}
}

func diff(ctx context.Context, path, dialectName, driver, dsn, name string) error {
	pool, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	dir, err := sqltool.NewGooseDir(path)
	if err != nil {
		return err
	}
	client := db.NewClient(pool, dialectName)
	err = client.Schema.NamedDiff(ctx, name,
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dialectName),
		schema.WithFormatter(sqltool.GooseFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
		schema.WithErrNoPlan(true),
	)
	if errors.Is(err, atlas.ErrNoPlan) {
		fmt.Printf("%s: no changes\n", path)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Printf("%s: new migration written\n", filepath.Clean(path))
	return nil
}

// rehash rewrites a directory's atlas.sum after a migration was edited.
func rehash(path string) error {
	dir, err := sqltool.NewGooseDir(path)
	if err != nil {
		return err
	}
	sum, err := dir.Checksum()
	if err != nil {
		return err
	}
	if err := atlas.WriteSumFile(dir, sum); err != nil {
		return err
	}
	fmt.Printf("%s: atlas.sum rewritten\n", filepath.Clean(path))
	return nil
}

func throwawayDatabase(ctx context.Context, adminURL string) (string, func(), error) {
	admin, err := sql.Open("postgres", adminURL)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "mall_dev_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, err
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	}
	return u.String(), drop, nil
}

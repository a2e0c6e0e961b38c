// Package migrations holds the versioned schema migrations of each dialect
// (generated from ent/schema by diff.go, some then edited by hand to
// backfill existing rows) and applies them with goose from the files
// embedded in the binary, on PostgreSQL under an advisory lock (lockID).
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"hash/crc64"
	"io/fs"

	"entgo.io/ent/dialect"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// lockID is the PostgreSQL advisory lock that instances starting together
// take in turn (goose's session locker, around Up), so that each migration
// is applied by one of them and the others find it applied. It is per schema: databases
// holding several schemas (the tests do) migrate them independently.
func lockID(ctx context.Context, pool *sql.DB) (int64, error) {
	var schema string
	if err := pool.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return 0, fmt.Errorf("current schema: %w", err)
	}
	sum := crc64.Checksum([]byte("unionmall migrations "+schema), crc64.MakeTable(crc64.ECMA))
	return int64(sum >> 1), nil
}

func provider(ctx context.Context, pool *sql.DB, dialectName string) (*goose.Provider, error) {
	var (
		gd   database.Dialect
		dir  string
		opts = []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	)
	switch dialectName {
	case dialect.SQLite:
		gd, dir = database.DialectSQLite3, "sqlite"
	case dialect.Postgres:
		gd, dir = database.DialectPostgres, "postgres"
		id, err := lockID(ctx, pool)
		if err != nil {
			return nil, err
		}
		// Poll the lock every second for up to five minutes.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(id), lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	default:
		return nil, fmt.Errorf("no migrations for dialect %q", dialectName)
	}
	sub, err := fs.Sub(files, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(gd, pool, sub, opts...)
}

// Up applies every pending migration and returns how many it applied.
func Up(ctx context.Context, pool *sql.DB, dialectName string) (int, error) {
	p, err := provider(ctx, pool, dialectName)
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate %s: %w", dialectName, err)
	}
	return len(res), nil
}

// Pending reports whether migrations remain to be applied: readiness fails
// until the schema is current.
func Pending(ctx context.Context, pool *sql.DB, dialectName string) (bool, error) {
	p, err := provider(ctx, pool, dialectName)
	if err != nil {
		return false, err
	}
	return p.HasPending(ctx)
}

// Status lists each migration with whether it is applied, for `migrate status`.
func Status(ctx context.Context, pool *sql.DB, dialectName string) ([]string, error) {
	p, err := provider(ctx, pool, dialectName)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(st))
	for _, s := range st {
		out = append(out, fmt.Sprintf("%-8s %s", s.State, s.Source.Path))
	}
	return out, nil
}

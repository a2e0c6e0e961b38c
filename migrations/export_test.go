package migrations

import (
	"context"
	"database/sql"
)

// UpTo applies the migrations up to and including version (tests of a
// migration's backfill start from the schema before it).
func UpTo(ctx context.Context, pool *sql.DB, dialectName string, version int64) error {
	p, err := provider(ctx, pool, dialectName)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

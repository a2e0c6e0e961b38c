package migrations_test

import (
	"context"
	"errors"
	"testing"

	atlas "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect/sql/schema"

	"unionmall/internal/testdb"
	"unionmall/migrations"
)

// The migrations must build exactly the ent schema: after applying them to
// a fresh database, ent's Atlas diff against that database plans nothing.
func TestMigrationsMatchEntSchema(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		pending, err := migrations.Pending(ctx, d.Pool, d.Dialect)
		if err != nil || pending {
			t.Fatalf("after Up: pending=%v err=%v", pending, err)
		}
		err = d.Client.Schema.Diff(ctx,
			schema.WithDir(&atlas.MemDir{}),
			schema.WithDialect(d.Dialect),
			schema.WithDropColumn(true),
			schema.WithDropIndex(true),
			schema.WithErrNoPlan(true),
		)
		if !errors.Is(err, atlas.ErrNoPlan) {
			t.Fatalf("the migrations differ from ent/schema (regenerate with go run ./migrations/diff.go NAME): %v", err)
		}
		// Applying again is a no-op.
		if n, err := migrations.Up(ctx, d.Pool, d.Dialect); err != nil || n != 0 {
			t.Fatalf("second Up applied %d, err %v", n, err)
		}
	})
}

// The comparison above is not vacuous: a database that lacks one index of
// the ent schema shows a difference.
func TestDiffSeesADifference(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		if _, err := d.Pool.ExecContext(ctx, "DROP INDEX order_status_pay_by"); err != nil {
			t.Fatal(err)
		}
		err := d.Client.Schema.Diff(ctx,
			schema.WithDir(&atlas.MemDir{}),
			schema.WithDialect(d.Dialect),
			schema.WithErrNoPlan(true),
		)
		if err != nil {
			t.Fatalf("a missing index must give a plan, got %v", err)
		}
	})
}

// A database without migrations is reported as pending.
func TestPendingOnEmptyDatabase(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			d := testdb.OpenEmpty(t, name)
			pending, err := migrations.Pending(context.Background(), d.Pool, d.Dialect)
			if err != nil || !pending {
				t.Fatalf("pending=%v err=%v, want pending", pending, err)
			}
		})
	}
}

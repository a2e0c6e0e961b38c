package testdb

import (
	"context"
	"sync/atomic"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"unionmall/ent"
	"unionmall/internal/db"
)

// Counter counts the SQL statements that ent sends to the database.
type Counter struct{ n atomic.Int64 }

// Reset sets the count to zero.
func (c *Counter) Reset() { c.n.Store(0) }

// Count is the number of statements since the last Reset.
func (c *Counter) Count() int64 { return c.n.Load() }

type countingDriver struct {
	dialect.Driver
	c *Counter
}

func (d countingDriver) Exec(ctx context.Context, q string, args, v any) error {
	d.c.n.Add(1)
	return d.Driver.Exec(ctx, q, args, v)
}

func (d countingDriver) Query(ctx context.Context, q string, args, v any) error {
	d.c.n.Add(1)
	return d.Driver.Query(ctx, q, args, v)
}

func (d countingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	d.c.n.Add(1) // BEGIN
	return countingTx{Tx: tx, c: d.c}, nil
}

type countingTx struct {
	dialect.Tx
	c *Counter
}

func (t countingTx) Exec(ctx context.Context, q string, args, v any) error {
	t.c.n.Add(1)
	return t.Tx.Exec(ctx, q, args, v)
}

func (t countingTx) Query(ctx context.Context, q string, args, v any) error {
	t.c.n.Add(1)
	return t.Tx.Query(ctx, q, args, v)
}

// Counted returns the same database with an ent client whose every
// statement is counted.
func (d *DB) Counted() (*db.DB, *Counter) {
	c := &Counter{}
	drv := countingDriver{Driver: entsql.OpenDB(d.Dialect, d.Pool), c: c}
	return &db.DB{Pool: d.Pool, Client: ent.NewClient(ent.Driver(drv)), Dialect: d.Dialect}, c
}

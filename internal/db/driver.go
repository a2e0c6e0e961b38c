package db

import (
	"context"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// preparedDriver is ent's driver on PostgreSQL, running its statements
// prepared (Prepared), in transactions too.
type preparedDriver struct {
	entsql.Conn // its ExecQuerier is stmts
	stmts       *Prepared
}

func newPreparedDriver(p *Prepared) *preparedDriver {
	return &preparedDriver{Conn: entsql.Conn{ExecQuerier: p}, stmts: p}
}

func (d *preparedDriver) Dialect() string { return dialect.Postgres }

func (d *preparedDriver) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

// BeginTx is what ent's Client.BeginTx calls.
func (d *preparedDriver) BeginTx(ctx context.Context, opts *entsql.TxOptions) (dialect.Tx, error) {
	tx, err := d.stmts.pool.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &entsql.Tx{Conn: entsql.Conn{ExecQuerier: d.stmts.In(tx)}, Tx: tx}, nil
}

func (d *preparedDriver) Close() error {
	d.stmts.Close()
	return d.stmts.pool.Close()
}

package db

import (
	"context"
	"database/sql"
	"sync"
)

// Prepared runs the statements of a hot path as prepared statements
// (database/sql prepares each on every pool connection it runs on, once).
// lib/pq sends an unprepared statement with parameters in two round
// trips (Parse and Describe, then Bind and Execute) and the server plans
// it each time; a prepared one is one round trip and no planning. On a
// busy machine every round trip also waits for the process to be
// scheduled, so the flash-sale batch, which runs thousands of times a
// sale, uses these. The zero value is not usable: NewPrepared.
type Prepared struct {
	pool  *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// NewPrepared returns an empty cache of prepared statements on pool.
func NewPrepared(pool *sql.DB) *Prepared {
	return &Prepared{pool: pool, stmts: map[string]*sql.Stmt{}}
}

// QueryContext runs query, prepared on first use, with args.
func (p *Prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (p *Prepared) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.stmts[query]; ok {
		return st, nil
	}
	st, err := p.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.stmts[query] = st
	return st, nil
}

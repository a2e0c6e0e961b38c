package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"
	"github.com/vikstrous/dataloadgen"

	"unionmall/ent/authtoken"
	"unionmall/ent/member"
	"unionmall/internal/db"
	"unionmall/internal/gid"
)

// lookups reads tokens that are not in memory, many at once: when a
// livestream's buyers press 抢购 together, each instance sees thousands of
// tokens for the first time within a second, and one query per token
// would queue them all on the connection pool. Look-ups that arrive
// within lookupWait of each other share one query (dataloadgen), so the
// same token asked for twice costs one row.
type lookups struct {
	db       *db.DB
	prepared *db.Prepared // PostgreSQL's statement
	loader   *dataloadgen.Loader[string, found]
	queries  atomic.Int64 // queries sent, for tests
}

// found is a token's row and its member's.
type found struct {
	v        Viewer
	lastUsed time.Time
}

const (
	lookupWait  = time.Millisecond
	lookupBatch = 256
	// lookupTimeout bounds a shared query: it runs for every request of
	// its batch, so it does not stop when the first one gives up.
	lookupTimeout = 10 * time.Second
)

func newLookups(d *db.DB) *lookups {
	l := &lookups{db: d, prepared: d.Prepared()}
	l.loader = dataloadgen.NewMappedLoader(l.fetch,
		dataloadgen.WithWait(lookupWait), dataloadgen.WithBatchCapacity(lookupBatch), dataloadgen.WithoutCache())
	return l
}

// lookup is a token's viewer and last use, or sql.ErrNoRows.
func (l *lookups) lookup(ctx context.Context, hash []byte) (*Viewer, time.Time, error) {
	f, err := l.loader.Load(ctx, string(hash))
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, time.Time{}, sql.ErrNoRows
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	v := f.v
	return &v, f.lastUsed, nil
}

// fetch reads the tokens and their members in one query.
func (l *lookups) fetch(ctx context.Context, hashes []string) (map[string]found, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTimeout)
	defer cancel()
	l.queries.Add(1)
	rows, err := l.query(ctx, hashes)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]found, len(hashes))
	for rows.Next() {
		var (
			hash  []byte
			f     found
			roles []byte
			unit  sql.NullString
		)
		if err := rows.Scan(&hash, &f.v.TokenID, &f.lastUsed, &f.v.MemberID, &roles, &f.v.Status, &unit); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(roles, &f.v.Roles); err != nil {
			return nil, fmt.Errorf("member roles: %w", err)
		}
		if unit.Valid {
			id := gid.ID(unit.String)
			f.v.PurchasingUnitID = &id
		}
		f.v.tokenHash = string(hash)
		out[string(hash)] = f
	}
	return out, rows.Err()
}

// pgLookup is the query on PostgreSQL: one text for any number of tokens,
// so that it is prepared once (db.Prepared) rather than planned per batch.
const pgLookup = `SELECT t.token_hash, t.id, t.last_used_at, m.id, m.roles, m.verification_status, m.purchasing_unit_id
FROM auth_tokens t JOIN members m ON t.member_id = m.id
WHERE t.token_hash = ANY($1::bytea[])`

// query reads the rows of the tokens whose hashes are given.
func (l *lookups) query(ctx context.Context, hashes []string) (*sql.Rows, error) {
	if l.db.Postgres() {
		bs := make([][]byte, len(hashes))
		for i, h := range hashes {
			bs[i] = []byte(h)
		}
		return l.prepared.QueryContext(ctx, pgLookup, pq.ByteaArray(bs))
	}
	args := make([]any, len(hashes))
	for i, h := range hashes {
		args[i] = []byte(h)
	}
	t, m := entsql.Table(authtoken.Table).As("t"), entsql.Table(member.Table).As("m")
	q, qargs := entsql.Dialect(l.db.Dialect).
		Select(t.C(authtoken.FieldTokenHash), t.C(authtoken.FieldID), t.C(authtoken.FieldLastUsedAt), m.C(member.FieldID),
			m.C(member.FieldRoles), m.C(member.FieldVerificationStatus), m.C(member.FieldPurchasingUnitID)).
		From(t).Join(m).On(t.C(authtoken.FieldMemberID), m.C(member.FieldID)).
		Where(entsql.In(t.C(authtoken.FieldTokenHash), args...)).
		Query()
	return l.db.Pool.QueryContext(ctx, q, qargs...)
}

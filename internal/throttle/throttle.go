// Package throttle limits attempts per key (a phone, a client address, a
// member) across every instance on one database: the count lives in a row
// of the throttles table, not in memory, and each attempt is taken by one
// conditional upsert before the work it guards (a password hash) begins,
// so a burst of parallel attempts, on any number of instances, is limited
// exactly like the same attempts made one after the other.
//
// A bucket is the generic cell rate algorithm (GCRA; ITU-T I.371, the
// "virtual scheduling" form): one number per key, its theoretical arrival
// time (TAT). An attempt at time t is allowed when TAT - (burst-1)·every ≤
// t, and moves TAT to max(TAT, t) + every; a bucket is full again once t
// passes TAT. No library served here keeps such buckets in a SQL database,
// so this is written by hand; the rate algorithm is the standard one.
package throttle

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"unionmall/internal/db"
	"unionmall/internal/ratelimit"
)

// Rule is a rate: Burst attempts at once, then one every Every (the same
// rule as the in-memory limits of package ratelimit). The zero Rule never
// limits.
type Rule = ratelimit.Rule

// Limiter limits attempts of one kind (its name keys the rows apart).
type Limiter struct {
	db   *db.DB
	name string
	rule Rule
	now  func() time.Time
}

// New returns a limiter of the named kind with the rule. The rule is part
// of the kind: limits set anew start with full buckets.
func New(d *db.DB, name string, r Rule) *Limiter {
	name = fmt.Sprintf("%s/%s/%d", name, r.Every, r.Burst)
	return &Limiter{db: d, name: name, rule: r, now: time.Now}
}

// The upsert of one attempt. The key's row is created full-minus-one, or
// moved on only if it has room: a row that has none is left as it is and
// no row comes back. $1 key, $2 now, $3 every, $4 (burst-1)·every; times
// in microseconds since the epoch.
const (
	takePostgres = `INSERT INTO throttles (id, tat) VALUES ($1, $2::bigint + $3::bigint)
ON CONFLICT (id) DO UPDATE SET tat = GREATEST(throttles.tat, $2::bigint) + $3::bigint
WHERE throttles.tat <= $2::bigint + $4::bigint
RETURNING tat`
	takeSQLite = `INSERT INTO throttles (id, tat) VALUES (?1, ?2 + ?3)
ON CONFLICT (id) DO UPDATE SET tat = max(throttles.tat, ?2) + ?3
WHERE throttles.tat <= ?2 + ?4
RETURNING tat`
)

// Take takes one attempt for key and reports whether it was allowed. A
// refused attempt changes nothing.
func (l *Limiter) Take(ctx context.Context, key string) (bool, error) {
	if l == nil || l.rule.Burst <= 0 {
		return true, nil
	}
	q := takeSQLite
	if l.db.Postgres() {
		q = takePostgres
	}
	every := l.rule.Every.Microseconds()
	var tat int64
	err := l.db.Pool.QueryRowContext(ctx, q, l.id(key), l.now().UnixMicro(), every, int64(l.rule.Burst-1)*every).Scan(&tat)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("throttle %s: %w", l.name, err)
	}
	return true, nil
}

// Wait is how long until key's bucket allows an attempt again (zero when
// it does now): for the caller refused by Take, when to retry.
func (l *Limiter) Wait(ctx context.Context, key string) (time.Duration, error) {
	if l == nil || l.rule.Burst <= 0 {
		return 0, nil
	}
	var tat int64
	err := l.db.Pool.QueryRowContext(ctx, l.db.Rebind("SELECT tat FROM throttles WHERE id = ?"), l.id(key)).Scan(&tat)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("throttle %s: %w", l.name, err)
	}
	// Allowed again at TAT - (burst-1)·every.
	at := tat - int64(l.rule.Burst-1)*l.rule.Every.Microseconds()
	return max(time.Duration(at-l.now().UnixMicro())*time.Microsecond, 0), nil
}

// Refund gives back one attempt taken for key (it turned out not to count:
// a sign-in that succeeded, from an address others share).
func (l *Limiter) Refund(ctx context.Context, key string) error {
	if l == nil || l.rule.Burst <= 0 {
		return nil
	}
	_, err := l.db.Pool.ExecContext(ctx, l.db.Rebind("UPDATE throttles SET tat = tat - ? WHERE id = ?"),
		l.rule.Every.Microseconds(), l.id(key))
	if err != nil {
		return fmt.Errorf("throttle %s: %w", l.name, err)
	}
	return nil
}

// Reset empties key's bucket (the phone's owner signed in: earlier
// failures were theirs).
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if l == nil || l.rule.Burst <= 0 {
		return nil
	}
	if _, err := l.db.Pool.ExecContext(ctx, l.db.Rebind("DELETE FROM throttles WHERE id = ?"), l.id(key)); err != nil {
		return fmt.Errorf("throttle %s: %w", l.name, err)
	}
	return nil
}

// Purge deletes the buckets of every kind that are full again, and returns
// how many; any instance may run it.
func Purge(ctx context.Context, d *db.DB, now time.Time) (int64, error) {
	res, err := d.Pool.ExecContext(ctx, d.Rebind("DELETE FROM throttles WHERE tat < ?"), now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("purge throttles: %w", err)
	}
	return res.RowsAffected()
}

// id is the row of key: a digest, so that no phone or address is stored.
func (l *Limiter) id(key string) string {
	sum := sha256.Sum256([]byte(l.name + "\x00" + key))
	return hex.EncodeToString(sum[:])
}

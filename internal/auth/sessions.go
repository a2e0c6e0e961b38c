package auth

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"unionmall/ent"
	"unionmall/ent/authtoken"
	"unionmall/internal/apperr"
	"unionmall/internal/changes"
	"unionmall/internal/db"
	"unionmall/internal/gid"
)

// ErrInvalidToken is the answer for a token that is unknown, revoked or
// expired. Over HTTP such a request is served as anonymous; a websocket
// connection presenting one is closed.
var ErrInvalidToken = apperr.New(apperr.Unauthenticated, "the token is invalid or has expired; sign in again")

// Sessions issues, checks and revokes bearer tokens.
//
// Verified tokens are kept in memory for cacheFor, so that a storm of
// requests (a flash sale, and the retries after it sold out) costs no
// database query per request. A revocation (logout, password change)
// answers only once every instance has forgotten the tokens it revoked
// (changes.Registry.AnnounceSync), so no request that starts after it, on
// any instance, is served with them; a new role or a review reaches other
// instances a moment later (Announce). While an instance may be missing
// other instances' changes (the registry is not Fresh), its memory is not
// trusted.
type Sessions struct {
	db         *db.DB
	ttl        time.Duration
	touchEvery time.Duration
	now        func() time.Time
	cache      *tokenCache
	changes    *changes.Registry
	lookups    *lookups
}

// cached is a verified token and when the database last saw it used.
type cached struct {
	v        *Viewer
	lastUsed time.Time
}

// cacheFor is how long a verified token is trusted without asking the
// database again. Revocations reach every instance at once (see Changed),
// so this only bounds how stale a cached member's roles can get should a
// notice be lost, and how often a busy token costs a query.
const cacheFor = 5 * time.Minute

// NewSessions returns the token service; a token unused for ttl dies. Its
// memory forgets what reg announces of tokens and members, from any
// instance (nil: a registry of its own, for this instance alone).
func NewSessions(d *db.DB, ttl time.Duration, reg *changes.Registry) *Sessions {
	if reg == nil {
		reg = changes.New()
	}
	// A token's last use is written at most every ten minutes (a token in
	// steady use costs one write then, not one per request), and often
	// enough that a short TTL cannot expire a token in use.
	touch := min(10*time.Minute, ttl/4)
	s := &Sessions{db: d, ttl: ttl, touchEvery: touch, now: time.Now, changes: reg}
	s.cache = &tokenCache{ttl: cacheFor, now: func() time.Time { return s.now() }}
	s.lookups = newLookups(d)
	reg.On(changes.TokenKind, changes.Handler{Changed: s.forgetToken, Resync: s.forgetAll})
	reg.On(changes.MemberKind, changes.Handler{Changed: func(c changes.Change) { s.forget(gid.ID(c.ID)) }})
	return s
}

// Issue creates a token for the member through client (which may be a
// transaction's) and returns its value, the only time it is ever seen, and
// the viewer it stands for.
func (s *Sessions) Issue(ctx context.Context, client *ent.Client, m *ent.Member) (string, *Viewer, error) {
	token, hash := newToken()
	now := s.now().UTC()
	t, err := client.AuthToken.Create().
		SetTokenHash(hash).
		SetMemberID(m.ID).
		SetCreatedAt(now).
		SetLastUsedAt(now).
		Save(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("issue token: %w", err)
	}
	return token, ViewerOf(m, t.ID), nil
}

// Authenticate returns the viewer that the token stands for, or
// ErrInvalidToken.
func (s *Sessions) Authenticate(ctx context.Context, token string) (*Viewer, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 128 {
		return nil, ErrInvalidToken
	}
	return s.authenticate(ctx, hashToken(token))
}

// Recheck is Authenticate again for the token v was authenticated from
// (v nil: ErrInvalidToken): for what outlives one request, such as a
// private subscription, that must stop once the token is revoked.
func (s *Sessions) Recheck(ctx context.Context, v *Viewer) (*Viewer, error) {
	if v == nil || v.tokenHash == "" {
		return nil, ErrInvalidToken
	}
	return s.authenticate(ctx, []byte(v.tokenHash))
}

func (s *Sessions) authenticate(ctx context.Context, hash []byte) (*Viewer, error) {
	fresh := s.fresh()
	gen := s.cache.generation()
	if c, ok := s.cache.get(string(hash)); ok && fresh {
		now := s.now().UTC()
		switch since := now.Sub(c.lastUsed); {
		case since <= s.touchEvery:
			return c.v, nil
		case since <= s.ttl:
			// In use: record it, which also proves it was not revoked
			// (should a revocation notice have been lost).
			alive, err := s.touch(ctx, c.v.TokenID, now)
			switch {
			case err != nil:
				slog.WarnContext(ctx, "token last-use not recorded", "err", err)
			case !alive:
				s.cache.remove(c.v.tokenHash)
				return nil, ErrInvalidToken
			}
			s.cache.fill(c.v.tokenHash, cached{v: c.v, lastUsed: now}, gen)
			return c.v, nil
		}
		// Unused for longer than the TTL: ask the database.
	}
	v, lastUsed, err := s.lookups.lookup(ctx, hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("look up token: %w", err)
	}
	now := s.now().UTC()
	if now.Sub(lastUsed) > s.ttl {
		_ = s.db.Client.AuthToken.DeleteOneID(v.TokenID).Exec(ctx)
		return nil, ErrInvalidToken
	}
	if now.Sub(lastUsed) > s.touchEvery {
		lastUsed = now
		if _, err := s.touch(ctx, v.TokenID, now); err != nil {
			slog.WarnContext(ctx, "token last-use not recorded", "err", err)
		}
	}
	if fresh {
		s.cache.fill(v.tokenHash, cached{v: v, lastUsed: lastUsed}, gen)
	}
	return v, nil
}

// fresh reports whether the memory of tokens can be trusted: no other
// instance's revocation can have been missed.
func (s *Sessions) fresh() bool { return s.changes.Fresh() }

// touch records a token's use and reports whether the token still exists.
func (s *Sessions) touch(ctx context.Context, id gid.ID, now time.Time) (bool, error) {
	n, err := s.db.Client.AuthToken.Update().Where(authtoken.ID(id)).SetLastUsedAt(now).Save(ctx)
	return n > 0, err
}

// Sweep forgets tokens cached for too long (the server calls it now and then).
func (s *Sessions) Sweep() { s.cache.sweep() }

// announceNow tells every instance and waits until they have handled it. A
// failure is logged, not returned: the revocation committed, and an
// instance that cannot be told is cut off from the database too (its
// memory is then not trusted, see fresh).
func (s *Sessions) announceNow(ctx context.Context, c changes.Change) {
	if err := s.changes.AnnounceSync(ctx, c); err != nil {
		slog.WarnContext(ctx, "telling other instances of a revocation failed", "err", err)
	}
}

// forgetToken drops one token (by its hash, hex) from this instance's memory.
func (s *Sessions) forgetToken(c changes.Change) {
	if h, err := hex.DecodeString(c.ID); err == nil {
		s.cache.remove(string(h))
	}
}

// forgetAll empties this instance's memory of tokens (after it may have
// missed other instances' changes).
func (s *Sessions) forgetAll() { s.cache.removeIf(func(cached) bool { return true }) }

// Changed says, after commit, that the member's roles, verification or
// tokens changed: every instance forgets the member's cached tokens.
func (s *Sessions) Changed(memberID gid.ID) {
	s.changes.Announce(changes.Member(memberID))
}

// forget drops the member's verified tokens from this instance's memory.
func (s *Sessions) forget(memberID gid.ID) {
	s.cache.removeIf(func(c cached) bool { return c.v.MemberID == memberID })
}

// Revoke deletes the viewer's token (logout) and returns once no instance
// accepts it any more.
func (s *Sessions) Revoke(ctx context.Context, v *Viewer) error {
	_, err := s.db.Client.AuthToken.Delete().Where(authtoken.ID(v.TokenID)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	s.announceNow(ctx, changes.Token(hex.EncodeToString([]byte(v.tokenHash))))
	return nil
}

// RevokeOthers deletes every token of the member but keep, through client
// (a transaction's): the caller calls Revoked once it has committed.
func (s *Sessions) RevokeOthers(ctx context.Context, client *ent.Client, memberID, keep gid.ID) error {
	_, err := client.AuthToken.Delete().
		Where(authtoken.MemberID(memberID), authtoken.IDNEQ(keep)).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke other tokens: %w", err)
	}
	return nil
}

// Revoked forgets the member's tokens on every instance, after a
// revocation of them committed (never before: a request in between would
// read the tokens back from the database and keep them), and returns once
// every instance has.
func (s *Sessions) Revoked(ctx context.Context, memberID gid.ID) {
	s.announceNow(ctx, changes.Member(memberID))
}

// PurgeExpired deletes tokens unused for longer than the TTL.
func (s *Sessions) PurgeExpired(ctx context.Context) (int, error) {
	return s.db.Client.AuthToken.Delete().
		Where(authtoken.LastUsedAtLT(s.now().UTC().Add(-s.ttl))).
		Exec(ctx)
}

// Middleware puts the viewer of the request's bearer token into its context.
// A request without a valid token goes on as anonymous: `me` is then null and
// operations that need a member answer UNAUTHENTICATED.
func (s *Sessions) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := BearerToken(r.Header.Get("Authorization"))
		if token == "" {
			serveAs(next, w, r, nil)
			return
		}
		v, err := s.Authenticate(r.Context(), token)
		switch {
		case err == nil:
		case errors.Is(err, ErrInvalidToken):
			v = nil
		default:
			slog.WarnContext(r.Context(), "authentication failed: database unavailable?", "err", err)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"errors":[{"message":"the service is unavailable","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`))
			return
		}
		serveAs(next, w, r, v)
	})
}

// serveAs serves r as v (nil: anonymous), in the request's slot when it
// has one (see WithClientAddr), else in a new one.
func serveAs(next http.Handler, w http.ResponseWriter, r *http.Request, v *Viewer) {
	if s := slotOf(r.Context()); s != nil {
		s.v.Store(v)
		next.ServeHTTP(w, r)
		return
	}
	next.ServeHTTP(w, r.WithContext(WithViewer(r.Context(), v)))
}

// IssueMany creates one token for each member in one statement, for load
// tools and tests that sign in thousands of members.
func (s *Sessions) IssueMany(ctx context.Context, client *ent.Client, members []*ent.Member) ([]string, error) {
	now := s.now().UTC()
	tokens := make([]string, len(members))
	creates := make([]*ent.AuthTokenCreate, len(members))
	for i, m := range members {
		var hash []byte
		tokens[i], hash = newToken()
		creates[i] = client.AuthToken.Create().SetTokenHash(hash).SetMemberID(m.ID).SetCreatedAt(now).SetLastUsedAt(now)
	}
	if err := client.AuthToken.CreateBulk(creates...).Exec(ctx); err != nil {
		return nil, fmt.Errorf("issue tokens: %w", err)
	}
	return tokens, nil
}

// Package auth answers "who is calling and what may they do": bearer tokens,
// password hashing, the viewer in the request context, and the role checks
// that the GraphQL directives and the domain packages share. The role
// checks live here; code that decides who may see or act on a particular
// row (orders' buyerOnly, graph's maySee and visibility) does so with these
// helpers.
package auth

import (
	"context"
	"sync/atomic"

	"unionmall/ent"

	"unionmall/ent/member"
	"unionmall/internal/apperr"
	"unionmall/internal/gid"
	"unionmall/internal/role"
)

// Viewer is the signed-in member behind a request.
type Viewer struct {
	MemberID         gid.ID
	TokenID          gid.ID
	Roles            role.Set
	Status           member.VerificationStatus
	PurchasingUnitID *gid.ID
	// tokenHash is the cache key of the token (see Sessions).
	tokenHash string
}

// IsAdmin reports whether the viewer holds ADMIN.
func (v *Viewer) IsAdmin() bool { return v != nil && v.Roles.Has(role.Admin) }

// PurchasesFor reports whether the viewer is a PURCHASER of the unit.
func (v *Viewer) PurchasesFor(unit gid.ID) bool {
	return v != nil && v.Roles.Has(role.Purchaser) && v.PurchasingUnitID != nil && *v.PurchasingUnitID == unit
}

type viewerKey struct{}

// slot holds a request's viewer and client address. It is a slot rather
// than plain values so that signing in (or out) takes effect for the rest
// of the same request (the member returned by registerMember or login sees
// their own data), and so that the address and the viewer, known at
// different steps, cost one context value and one request copy together.
type slot struct {
	v    atomic.Pointer[Viewer]
	addr string
	// hashes counts the password hashes the request ran (see Hasher).
	hashes atomic.Int32
}

// WithViewer returns ctx carrying v (nil for anonymous) in a slot of its
// own, which keeps the client address of ctx's.
func WithViewer(ctx context.Context, v *Viewer) context.Context {
	s := &slot{}
	if parent := slotOf(ctx); parent != nil {
		s.addr = parent.addr
	}
	s.v.Store(v)
	return context.WithValue(ctx, viewerKey{}, s)
}

// WithClientAddr returns ctx carrying the client's network address (for
// rate limits) in a new slot with no viewer yet.
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, viewerKey{}, &slot{addr: addr})
}

// ClientAddr is the client's address, "" when unknown.
func ClientAddr(ctx context.Context) string {
	if s := slotOf(ctx); s != nil {
		return s.addr
	}
	return ""
}

// slotOf is ctx's slot, nil when it has none.
func slotOf(ctx context.Context) *slot {
	s, _ := ctx.Value(viewerKey{}).(*slot)
	return s
}

// SetViewer changes the viewer for the rest of the request whose context
// ctx is (or derives from), when that request has a slot.
func SetViewer(ctx context.Context, v *Viewer) {
	if s := slotOf(ctx); s != nil {
		s.v.Store(v)
	}
}

// FromContext returns the viewer, or nil for an anonymous caller.
func FromContext(ctx context.Context) *Viewer {
	if s := slotOf(ctx); s != nil {
		return s.v.Load()
	}
	return nil
}

// ViewerOf is the viewer of a member signed in with the token of that ID.
func ViewerOf(m *ent.Member, tokenID gid.ID) *Viewer {
	return &Viewer{
		MemberID:         m.ID,
		TokenID:          tokenID,
		Roles:            m.Roles,
		Status:           m.VerificationStatus,
		PurchasingUnitID: m.PurchasingUnitID,
	}
}

var (
	errUnauthenticated = apperr.New(apperr.Unauthenticated, "sign in first")
	errNotVerified     = apperr.New(apperr.NotVerified, "real-name verification is needed first (实名认证后方可进入商城)")
)

// SignedIn returns the viewer or UNAUTHENTICATED.
func SignedIn(ctx context.Context) (*Viewer, error) {
	v := FromContext(ctx)
	if v == nil {
		return nil, errUnauthenticated
	}
	return v, nil
}

// HasRole returns the viewer if they hold r: UNAUTHENTICATED, then FORBIDDEN.
func HasRole(ctx context.Context, r role.Role) (*Viewer, error) {
	v, err := SignedIn(ctx)
	if err != nil {
		return nil, err
	}
	if !v.Roles.Has(r) {
		return nil, apperr.New(apperr.Forbidden, "this needs the %s role", r)
	}
	return v, nil
}

// Verified returns the viewer if they passed real-name review:
// UNAUTHENTICATED, then NOT_VERIFIED.
func Verified(ctx context.Context) (*Viewer, error) {
	v, err := SignedIn(ctx)
	if err != nil {
		return nil, err
	}
	if v.Status != member.VerificationStatusVERIFIED {
		return nil, errNotVerified
	}
	return v, nil
}

// SeesPrivate reports whether the caller may see the private data (orders,
// coupons, phone, real name) of the member with that ID: the member and
// admins may.
func SeesPrivate(ctx context.Context, owner gid.ID) bool {
	v := FromContext(ctx)
	return v != nil && (v.MemberID == owner || v.IsAdmin())
}

// IsAdmin reports whether the caller is an ADMIN.
func IsAdmin(ctx context.Context) bool { return FromContext(ctx).IsAdmin() }

// ForUnit allows what only an ADMIN or a PURCHASER of the unit may do
// (buying for it, recording its procurement): UNAUTHENTICATED, then
// FORBIDDEN.
func ForUnit(ctx context.Context, unit gid.ID) (*Viewer, error) {
	v, err := SignedIn(ctx)
	if err != nil {
		return nil, err
	}
	if !v.IsAdmin() && !v.PurchasesFor(unit) {
		return nil, apperr.New(apperr.Forbidden, "only a PURCHASER of that purchasing unit may do this")
	}
	return v, nil
}

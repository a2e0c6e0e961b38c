// Package account holds the rules of members' accounts: registration and
// sign-in, passwords, real-name verification (实名认证) and roles.
// Authorization (who may call what) is checked before these functions run,
// by the auth package; here are the rules of the data.
package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"unionmall/ent"
	"unionmall/ent/member"
	"unionmall/ent/unionorganization"
	"unionmall/internal/apperr"
	"unionmall/internal/auth"
	"unionmall/internal/changes"
	"unionmall/internal/db"
	"unionmall/internal/gid"
	"unionmall/internal/idcard"
	"unionmall/internal/mask"
	"unionmall/internal/role"
	"unionmall/internal/text"
	"unionmall/internal/throttle"
)

// Service carries out account operations.
type Service struct {
	db       *db.DB
	hasher   *auth.Hasher
	sessions *auth.Sessions
	ids      *idcard.Keyer
	now      func() time.Time
	// changes is told after a change that moves the platform's totals
	// (members, verified members, purchasing units).
	changes *changes.Registry
	// attempts limits sign-ins per phone and per client address, and
	// changePassword's old-password guesses per member, in buckets every
	// instance shares (package throttle).
	attempts struct{ phone, addr, oldPassword *throttle.Limiter }
}

// LoginLimits are how many failed sign-ins a phone and a client address,
// and how many wrong old passwords a member, may have before further
// attempts are refused with RATE_LIMITED for a while.
type LoginLimits struct {
	PerPhone, PerAddress, OldPassword throttle.Rule
}

// DefaultLoginLimits: five failures per phone (then one a minute), fifty
// per address (then one every six seconds), five wrong old passwords per
// member (then one a minute).
var DefaultLoginLimits = LoginLimits{
	PerPhone:    throttle.Rule{Every: time.Minute, Burst: 5},
	PerAddress:  throttle.Rule{Every: 6 * time.Second, Burst: 50},
	OldPassword: throttle.Rule{Every: time.Minute, Burst: 5},
}

// LimitLogins sets the sign-in limits (DefaultLoginLimits until then); a
// zero rule is no limit.
func (s *Service) LimitLogins(l LoginLimits) {
	s.attempts.phone = throttle.New(s.db, "login-phone", l.PerPhone)
	s.attempts.addr = throttle.New(s.db, "login-address", l.PerAddress)
	s.attempts.oldPassword = throttle.New(s.db, "old-password", l.OldPassword)
}

// New returns the account service; reg may be nil.
func New(d *db.DB, h *auth.Hasher, s *auth.Sessions, ids *idcard.Keyer, reg *changes.Registry) *Service {
	svc := &Service{db: d, hasher: h, sessions: s, ids: ids, now: time.Now, changes: reg}
	svc.LimitLogins(DefaultLoginLimits)
	return svc
}

var (
	errThrottled   = apperr.New(apperr.RateLimited, "too many failed sign-ins; wait a minute and try again")
	errCredentials = apperr.New(apperr.InvalidCredentials, "the phone number or the password is wrong")
	errPhoneTaken  = apperr.New(apperr.PhoneTaken, "an account with this phone number exists already")
)

// Session is a member just signed in: the token (seen this once) and the
// viewer it stands for.
type Session struct {
	Token  string
	Viewer *auth.Viewer
	Member *ent.Member
}

// Registration is what registerMember takes.
type Registration struct {
	Phone          string
	Password       string
	DisplayName    string
	OrganizationID *gid.ID
}

// Register creates an UNVERIFIED member and signs them in.
func (s *Service) Register(ctx context.Context, r Registration) (*Session, error) {
	var p apperr.Problems
	phone := strings.TrimSpace(r.Phone)
	if !mask.ValidPhone(phone) {
		p.Add(apperr.BadInput("phone", "the phone must be an 11-digit mainland mobile number starting with 1"))
	}
	p.Add(checkPassword("password", r.Password))
	name, err := text.Clean("displayName", r.DisplayName, 32)
	p.Add(err)
	if err := p.Err(); err != nil {
		return nil, err
	}
	if r.OrganizationID != nil {
		ok, err := s.db.Client.UnionOrganization.Query().Where(unionorganization.ID(*r.OrganizationID)).Exist(ctx)
		if err != nil {
			return nil, fmt.Errorf("register: %w", err)
		}
		if !ok {
			return nil, apperr.New(apperr.NotFound, "no union organization has that ID")
		}
	}
	// Refuse a taken phone before paying for a hash; the unique index still
	// decides a race between two registrations of one phone.
	taken, err := s.db.Client.Member.Query().Where(member.Phone(phone)).Exist(ctx)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	if taken {
		return nil, errPhoneTaken
	}
	hash, err := s.hasher.Hash(ctx, r.Password)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	out := &Session{}
	err = s.db.Tx(ctx, func(tx *ent.Tx) error {
		m, err := tx.Member.Create().
			SetPhone(phone).
			SetPasswordHash(hash).
			SetDisplayName(name).
			SetRoles(role.Set{role.Member}).
			SetNillableOrganizationID(r.OrganizationID).
			SetCreatedAt(s.now().UTC()).
			Save(ctx)
		if ent.IsConstraintError(err) {
			return errPhoneTaken
		}
		if err != nil {
			return err
		}
		out.Member = m.Unwrap() // it outlives the transaction
		out.Token, out.Viewer, err = s.sessions.Issue(ctx, tx.Client(), m)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	s.changes.Announce(changes.Stats)
	slog.InfoContext(ctx, "member registered", "member", out.Member.ID, "phone", mask.Phone(phone))
	return out, nil
}

// Login checks a phone and password and issues a token. An unknown phone
// and a wrong password get the same answer, after the same work.
//
// Every attempt is counted, per phone and per client address, before the
// password is hashed (a parallel burst is limited like a sequential one,
// on any number of instances); a success gives its attempts back, so what
// stays counted are failures: a whole office signing in from one address
// is fine, guessing is slowed.
func (s *Service) Login(ctx context.Context, phone, password string) (*Session, error) {
	phone = strings.TrimSpace(phone)
	addr := auth.ClientAddr(ctx)
	if err := s.takeAttempts(ctx, phone, addr); err != nil {
		return nil, err
	}
	var m *ent.Member
	if mask.ValidPhone(phone) && len(password) <= 4*maxPassword {
		var err error
		m, err = s.db.Client.Member.Query().Where(member.Phone(phone)).Only(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return nil, fmt.Errorf("login: %w", err)
		}
	}
	encoded := ""
	if m != nil {
		encoded = m.PasswordHash
	}
	ok, err := s.hasher.Check(ctx, password, encoded)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	if !ok || m == nil {
		slog.InfoContext(ctx, "login refused", "phone", mask.Phone(phone), "addr", addr)
		return nil, errCredentials
	}
	out, err := s.issueFor(ctx, m)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(s.attempts.phone.Reset(ctx, phone), s.attempts.addr.Refund(ctx, addr)); err != nil {
		slog.WarnContext(ctx, "sign-in attempts not given back", "err", err)
	}
	return out, nil
}

// takeAttempts counts a sign-in attempt for the phone and the address, or
// refuses it with RATE_LIMITED (giving back what it took).
func (s *Service) takeAttempts(ctx context.Context, phone, addr string) error {
	okPhone, err := s.attempts.phone.Take(ctx, phone)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	okAddr := false
	if okPhone {
		if okAddr, err = s.attempts.addr.Take(ctx, addr); err != nil {
			return fmt.Errorf("login: %w", err)
		}
		if !okAddr {
			if err := s.attempts.phone.Refund(ctx, phone); err != nil {
				slog.WarnContext(ctx, "sign-in attempt not given back", "err", err)
			}
		}
	}
	if !okPhone || !okAddr {
		slog.WarnContext(ctx, "login throttled", "phone", mask.Phone(phone), "addr", addr)
		var wait time.Duration
		if !okPhone {
			wait, err = s.attempts.phone.Wait(ctx, phone)
		} else {
			wait, err = s.attempts.addr.Wait(ctx, addr)
		}
		if err != nil {
			return fmt.Errorf("login: %w", err)
		}
		return errThrottled.After(wait)
	}
	return nil
}

// issueFor issues a token for m only if the password hash that was just
// checked is still the member's: the member row is read FOR SHARE, which
// waits for a password change in flight and then sees its new hash. A
// change that comes after finds the token and revokes it. So no token
// outlives the password it was issued for.
func (s *Service) issueFor(ctx context.Context, m *ent.Member) (*Session, error) {
	out := &Session{Member: m}
	err := s.db.Tx(ctx, func(tx *ent.Tx) error {
		q := tx.Member.Query().Where(member.ID(m.ID), member.PasswordHash(m.PasswordHash))
		if s.db.Postgres() {
			q = q.ForShare()
		}
		current, err := q.Only(ctx)
		if ent.IsNotFound(err) {
			return errCredentials // the password changed as we checked it
		}
		if err != nil {
			return err
		}
		out.Member = current.Unwrap()
		out.Token, out.Viewer, err = s.sessions.Issue(ctx, tx.Client(), current)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return out, nil
}

// Logout revokes the token the viewer signed in with.
func (s *Service) Logout(ctx context.Context, v *auth.Viewer) error {
	return s.sessions.Revoke(ctx, v)
}

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
	"unicode/utf8"

	"unionmall/ent"
	"unionmall/ent/member"
	"unionmall/ent/purchasingunit"
	"unionmall/ent/unionorganization"
	"unionmall/internal/apperr"
	"unionmall/internal/auth"
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
	// changed runs after a change that moves the platform's totals
	// (members, verified members, purchasing units).
	changed func()
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

// New returns the account service; changed may be nil.
func New(d *db.DB, h *auth.Hasher, s *auth.Sessions, ids *idcard.Keyer, changed func()) *Service {
	if changed == nil {
		changed = func() {}
	}
	svc := &Service{db: d, hasher: h, sessions: s, ids: ids, now: time.Now, changed: changed}
	svc.LimitLogins(DefaultLoginLimits)
	return svc
}

// Password rules: long enough to resist guessing, short enough that hashing
// one cannot be made expensive.
const (
	minPassword = 8
	maxPassword = 128
)

var (
	errThrottled   = apperr.New(apperr.RateLimited, "too many failed sign-ins; wait a minute and try again")
	errCredentials = apperr.New(apperr.InvalidCredentials, "the phone number or the password is wrong")
	errPhoneTaken  = apperr.New(apperr.PhoneTaken, "an account with this phone number exists already")
)

func checkPassword(field, p string) error {
	n := utf8.RuneCountInString(p)
	if n < minPassword {
		return apperr.BadInput(field, "the password needs at least %d characters", minPassword)
	}
	if n > maxPassword || len(p) > 4*maxPassword {
		return apperr.BadInput(field, "the password may have at most %d characters", maxPassword)
	}
	return nil
}

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
	phone := strings.TrimSpace(r.Phone)
	if !mask.ValidPhone(phone) {
		return nil, apperr.BadInput("phone", "the phone must be an 11-digit mainland mobile number starting with 1")
	}
	if err := checkPassword("password", r.Password); err != nil {
		return nil, err
	}
	name, err := text.Clean("displayName", r.DisplayName, 32)
	if err != nil {
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
	s.changed()
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
		return errThrottled
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

// ChangePassword replaces the viewer's password and revokes their other
// tokens: whoever learnt the old password is signed out everywhere, on
// every instance, before this returns. Old-password guesses are counted
// per member before hashing, like sign-ins. The new hash replaces exactly
// the one that was checked (a conditional UPDATE), so of two changes at
// once only one applies.
func (s *Service) ChangePassword(ctx context.Context, v *auth.Viewer, oldPassword, newPassword string) error {
	if err := checkPassword("newPassword", newPassword); err != nil {
		return err
	}
	ok, err := s.attempts.oldPassword.Take(ctx, string(v.MemberID))
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if !ok {
		return apperr.New(apperr.RateLimited, "too many wrong passwords; wait a minute and try again")
	}
	m, err := s.db.Client.Member.Get(ctx, v.MemberID)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if ok, err = s.hasher.Check(ctx, oldPassword, m.PasswordHash); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if !ok {
		return errOldPassword
	}
	hash, err := s.hasher.Hash(ctx, newPassword)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	err = s.db.Tx(ctx, func(tx *ent.Tx) error {
		n, err := tx.Member.Update().
			Where(member.ID(m.ID), member.PasswordHash(m.PasswordHash)).
			SetPasswordHash(hash).
			Save(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return errOldPassword // changed by another request meanwhile
		}
		return s.sessions.RevokeOthers(ctx, tx.Client(), m.ID, v.TokenID)
	})
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	s.sessions.Revoked(ctx, m.ID)
	if err := s.attempts.oldPassword.Reset(ctx, string(v.MemberID)); err != nil {
		slog.WarnContext(ctx, "password attempts not reset", "err", err)
	}
	return nil
}

var errOldPassword = apperr.New(apperr.InvalidCredentials, "the old password is wrong")

// EnsureAdmin creates an ADMIN with the phone and password unless a member
// has that phone already. It reports whether it created one.
func (s *Service) EnsureAdmin(ctx context.Context, phone, password string) (bool, error) {
	exists, err := s.db.Client.Member.Query().Where(member.Phone(phone)).Exist(ctx)
	if err != nil || exists {
		return false, err
	}
	if !mask.ValidPhone(phone) {
		return false, fmt.Errorf("ADMIN_PHONE must be an 11-digit mainland mobile number")
	}
	if err := checkPassword("ADMIN_PASSWORD", password); err != nil {
		return false, fmt.Errorf("ADMIN_PASSWORD: %w", err)
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return false, err
	}
	err = s.db.Client.Member.Create().
		SetPhone(phone).
		SetPasswordHash(hash).
		SetDisplayName("平台管理员").
		SetRoles(role.Set{role.Member, role.Admin}).
		Exec(ctx)
	if ent.IsConstraintError(err) {
		return false, nil // another instance created it first
	}
	if err != nil {
		return false, fmt.Errorf("create admin: %w", err)
	}
	return true, nil
}

// GrantRole gives a member a role. PURCHASER needs the unit they buy for;
// granting it again moves them to another unit.
func (s *Service) GrantRole(ctx context.Context, memberID gid.ID, r role.Role, unitID *gid.ID) (*ent.Member, error) {
	if r == role.Purchaser && unitID == nil {
		return nil, apperr.BadInput("purchasingUnitID", "a PURCHASER needs the purchasing unit they buy for")
	}
	if r != role.Purchaser && unitID != nil {
		return nil, apperr.BadInput("purchasingUnitID", "only a PURCHASER belongs to a purchasing unit")
	}
	var out *ent.Member
	err := s.db.Tx(ctx, func(tx *ent.Tx) error {
		q := tx.Member.Query().Where(member.ID(memberID))
		if s.db.Postgres() {
			q = q.ForUpdate() // roles are read, changed and written back
		}
		m, err := q.Only(ctx)
		if ent.IsNotFound(err) {
			return apperr.New(apperr.NotFound, "no member has that ID")
		}
		if err != nil {
			return err
		}
		upd := tx.Member.UpdateOne(m).SetRoles(m.Roles.With(r))
		if unitID != nil {
			ok, err := tx.PurchasingUnit.Query().Where(purchasingunit.ID(*unitID)).Exist(ctx)
			if err != nil {
				return err
			}
			if !ok {
				return apperr.New(apperr.NotFound, "no purchasing unit has that ID")
			}
			upd.SetPurchasingUnitID(*unitID)
		}
		out, err = upd.Save(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("grant role: %w", err)
	}
	s.sessions.Changed(memberID)
	return out.Unwrap(), nil
}

// RegisterPurchasingUnit records a purchasing unit (采购单位).
func (s *Service) RegisterPurchasingUnit(ctx context.Context, name string, orgID *gid.ID) (*ent.PurchasingUnit, error) {
	name, err := text.Clean("name", name, 100)
	if err != nil {
		return nil, err
	}
	if orgID != nil {
		ok, err := s.db.Client.UnionOrganization.Query().Where(unionorganization.ID(*orgID)).Exist(ctx)
		if err != nil {
			return nil, fmt.Errorf("register purchasing unit: %w", err)
		}
		if !ok {
			return nil, apperr.New(apperr.NotFound, "no union organization has that ID")
		}
	}
	u, err := s.db.Client.PurchasingUnit.Create().
		SetName(name).
		SetNillableOrganizationID(orgID).
		Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, apperr.BadInput("name", "a purchasing unit of that name is registered already")
	}
	if err != nil {
		return nil, fmt.Errorf("register purchasing unit: %w", err)
	}
	s.changed()
	return u, nil
}

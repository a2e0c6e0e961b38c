// Package account holds the rules of members' accounts: registration and
// sign-in, passwords, real-name verification (实名认证) and roles.
// Authorization (who may call what) is checked before these functions run,
// by the auth package; here are the rules of the data.
package account

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
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
	"unionmall/internal/ratelimit"
	"unionmall/internal/role"
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
	// failures counts failed sign-ins per phone and per client address.
	failures struct{ phone, addr *ratelimit.Limiter }
}

// LoginLimits are how many failed sign-ins a phone and a client address
// may have before sign-ins are refused with RATE_LIMITED for a while.
type LoginLimits struct {
	PerPhone, PerAddress ratelimit.Rule
}

// DefaultLoginLimits: five failures per phone (then one a minute), fifty
// per address (then one every six seconds).
var DefaultLoginLimits = LoginLimits{
	PerPhone:   ratelimit.Rule{Every: time.Minute, Burst: 5},
	PerAddress: ratelimit.Rule{Every: 6 * time.Second, Burst: 50},
}

// LimitLogins sets the sign-in limits (DefaultLoginLimits until then).
func (s *Service) LimitLogins(l LoginLimits) {
	s.failures.phone, s.failures.addr = ratelimit.New(l.PerPhone), ratelimit.New(l.PerAddress)
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

// cleanName trims a display or real name and checks its length and that it
// holds no control characters.
func cleanName(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if n == 0 || n > max {
		return "", apperr.BadInput(field, "%s must have 1 to %d characters", field, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", apperr.BadInput(field, "%s may not contain control characters", field)
		}
	}
	return s, nil
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
	name, err := cleanName("displayName", r.DisplayName, 32)
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
func (s *Service) Login(ctx context.Context, phone, password string) (*Session, error) {
	phone = strings.TrimSpace(phone)
	addr := auth.ClientAddr(ctx)
	if s.failures.phone.Exhausted(phone) || s.failures.addr.Exhausted(addr) {
		slog.WarnContext(ctx, "login throttled", "phone", mask.Phone(phone), "addr", addr)
		return nil, errThrottled
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
		// Failures, not attempts, are counted: a whole office signing in
		// from one address is fine; guessing is slowed.
		s.failures.phone.Allow(phone)
		s.failures.addr.Allow(addr)
		slog.InfoContext(ctx, "login refused", "phone", mask.Phone(phone), "addr", addr)
		return nil, errCredentials
	}
	token, v, err := s.sessions.Issue(ctx, s.db.Client, m)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return &Session{Token: token, Viewer: v, Member: m}, nil
}

// Logout revokes the token the viewer signed in with.
func (s *Service) Logout(ctx context.Context, v *auth.Viewer) error {
	return s.sessions.Revoke(ctx, v)
}

// ChangePassword replaces the viewer's password and revokes their other
// tokens: whoever learnt the old password is signed out everywhere.
func (s *Service) ChangePassword(ctx context.Context, v *auth.Viewer, oldPassword, newPassword string) error {
	if err := checkPassword("newPassword", newPassword); err != nil {
		return err
	}
	m, err := s.db.Client.Member.Get(ctx, v.MemberID)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	ok, err := s.hasher.Check(ctx, oldPassword, m.PasswordHash)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if !ok {
		return apperr.New(apperr.InvalidCredentials, "the old password is wrong")
	}
	hash, err := s.hasher.Hash(ctx, newPassword)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return s.db.Tx(ctx, func(tx *ent.Tx) error {
		if err := tx.Member.UpdateOneID(m.ID).SetPasswordHash(hash).Exec(ctx); err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		return s.sessions.RevokeOthers(ctx, tx.Client(), m.ID, v.TokenID)
	})
}

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
	name, err := cleanName("name", name, 100)
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

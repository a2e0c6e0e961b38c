package account

import (
	"context"
	"fmt"

	"unionmall/ent"
	"unionmall/ent/member"
	"unionmall/ent/purchasingunit"
	"unionmall/ent/unionorganization"
	"unionmall/internal/apperr"
	"unionmall/internal/changes"
	"unionmall/internal/gid"
	"unionmall/internal/mask"
	"unionmall/internal/role"
	"unionmall/internal/text"
)

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
	s.changes.Announce(changes.Stats)
	return u, nil
}

package account

import (
	"context"
	"fmt"
	"log/slog"
	"unicode/utf8"

	"unionmall/ent"
	"unionmall/ent/member"
	"unionmall/internal/apperr"
	"unionmall/internal/auth"
)

// Password rules: long enough to resist guessing, short enough that hashing
// one cannot be made expensive.
const (
	minPassword = 8
	maxPassword = 128
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
		wait, err := s.attempts.oldPassword.Wait(ctx, string(v.MemberID))
		if err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		return apperr.Limited(wait, "too many wrong passwords; wait a minute and try again")
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

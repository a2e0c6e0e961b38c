package account

import (
	"context"
	"fmt"
	"log/slog"

	"unionmall/ent"
	"unionmall/ent/member"
	"unionmall/internal/apperr"
	"unionmall/internal/auth"
	"unionmall/internal/changes"
	"unionmall/internal/gid"
	"unionmall/internal/idcard"
	"unionmall/internal/text"
)

var errAwaitingReview = apperr.New(apperr.InvalidState,
	"a submission is awaiting review; it cannot be replaced until it is reviewed")

// maxReview bounds one review call.
const maxReview = 100

// SubmitRealName records the viewer's real name and identity number for
// review. The number is kept only as an HMAC (one account per person) and a
// masked form; the full number is never stored, returned or logged. A
// PENDING submission cannot be replaced until it is reviewed
// (INVALID_STATE), so an approval always applies to what the reviewer was
// shown: the UPDATE is conditional on the state it read, so of two
// submissions at once only the first applies.
func (s *Service) SubmitRealName(ctx context.Context, v *auth.Viewer, realName, idNumber string) (*ent.Member, error) {
	var p apperr.Problems
	name, err := text.Clean("realName", realName, 50)
	p.Add(err)
	number, err := idcard.Normalize(idNumber)
	p.Add(err)
	if err := p.Err(); err != nil {
		return nil, err
	}
	digest := s.ids.Digest(number)
	var out *ent.Member
	err = s.db.Tx(ctx, func(tx *ent.Tx) error {
		m, err := tx.Member.Get(ctx, v.MemberID)
		if err != nil {
			return err
		}
		switch m.VerificationStatus {
		case member.VerificationStatusVERIFIED:
			return apperr.New(apperr.InvalidState, "the member is verified already")
		case member.VerificationStatusPENDING:
			return errAwaitingReview
		}
		taken, err := tx.Member.Query().
			Where(member.IDNumberHmac(digest), member.IDNEQ(m.ID)).
			Exist(ctx)
		if err != nil {
			return err
		}
		if taken {
			return apperr.BadInput("idNumber", "this identity number belongs to another account")
		}
		out, err = tx.Member.UpdateOne(m).
			Where(member.VerificationStatusEQ(m.VerificationStatus)).
			SetRealName(name).
			SetIDNumberHmac(digest).
			SetIDNumberMasked(idcard.Mask(number)).
			SetVerificationStatus(member.VerificationStatusPENDING).
			SetVerificationSubmittedAt(s.now().UTC()).
			ClearVerificationReviewedAt().
			ClearVerificationNote().
			Save(ctx)
		if ent.IsConstraintError(err) { // the same number, submitted at the same moment
			return apperr.BadInput("idNumber", "this identity number belongs to another account")
		}
		if ent.IsNotFound(err) { // another submission of the member's came first
			return errAwaitingReview
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("submit real name: %w", err)
	}
	out = out.Unwrap()
	s.sessions.Changed(v.MemberID)
	slog.InfoContext(ctx, "real name submitted", "member", v.MemberID, "id_number", idcard.Mask(number))
	return out, nil
}

// Review approves or rejects pending verifications, all or none: an unknown
// member (NOT_FOUND) or one not PENDING (INVALID_STATE) refuses the batch.
// A rejection frees the identity number for its rightful owner.
func (s *Service) Review(ctx context.Context, ids []gid.ID, approve bool, reason *string) ([]*ent.Member, error) {
	ids = unique(ids)
	if len(ids) == 0 || len(ids) > maxReview {
		return nil, apperr.BadInput("memberIDs", "review 1 to %d members at a time", maxReview)
	}
	if reason != nil {
		r, err := text.Clean("reason", *reason, 200)
		if err != nil {
			return nil, err
		}
		reason = &r
	}
	now := s.now().UTC()
	var out []*ent.Member
	err := s.db.Tx(ctx, func(tx *ent.Tx) error {
		upd := tx.Member.Update().
			Where(member.IDIn(ids...), member.VerificationStatusEQ(member.VerificationStatusPENDING)).
			SetVerificationReviewedAt(now)
		if approve {
			upd.SetVerificationStatus(member.VerificationStatusVERIFIED).ClearVerificationNote()
		} else {
			upd.SetVerificationStatus(member.VerificationStatusREJECTED).
				SetNillableVerificationNote(reason).
				ClearIDNumberHmac()
		}
		n, err := upd.Save(ctx)
		if err != nil {
			return err
		}
		if n != len(ids) {
			return s.whyNotPending(ctx, tx, ids)
		}
		out, err = tx.Member.Query().Where(member.IDIn(ids...)).Order(ent.Asc(member.FieldID)).All(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("review verifications: %w", err)
	}
	for i := range out {
		out[i] = out[i].Unwrap()
		s.sessions.Changed(out[i].ID)
	}
	s.changes.Announce(changes.Stats)
	return out, nil
}

// whyNotPending explains a refused review batch.
func (s *Service) whyNotPending(ctx context.Context, tx *ent.Tx, ids []gid.ID) error {
	found, err := tx.Member.Query().Where(member.IDIn(ids...)).All(ctx)
	if err != nil {
		return err
	}
	if len(found) != len(ids) {
		return apperr.New(apperr.NotFound, "%d of the member IDs are unknown", len(ids)-len(found))
	}
	return apperr.New(apperr.InvalidState, "every member reviewed must be PENDING")
}

func unique(ids []gid.ID) []gid.ID {
	seen := make(map[gid.ID]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

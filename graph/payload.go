package graph

import (
	"context"

	"unionmall/ent"
	"unionmall/graph/model"
	"unionmall/internal/account"
	"unionmall/internal/auth"
)

// signedIn is the payload of registerMember and login. The new token's
// member becomes the request's viewer, so the payload shows their own data
// in full.
func signedIn(ctx context.Context, s *account.Session) *model.AuthPayload {
	auth.SetViewer(ctx, s.Viewer)
	return &model.AuthPayload{Token: s.Token, Member: s.Member}
}

// private returns v to the member and admins, nil to anyone else.
func private[T any](ctx context.Context, m *ent.Member, v *T) *T {
	if auth.SeesPrivate(ctx, m.ID) {
		return v
	}
	return nil
}

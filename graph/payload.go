package graph

import (
	"context"

	"unionmall/ent"
	"unionmall/graph/model"
	"unionmall/internal/account"
	"unionmall/internal/auth"
	"unionmall/internal/gid"

	"entgo.io/contrib/entgql"
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

// newestFirst is the contract's order of order lists.
var newestFirst = &ent.OrderOrder{Direction: entgql.OrderDirectionDesc, Field: ent.OrderOrderFieldCreatedAt}

// orderPage pages orders newest first, with their lines and products
// loaded in two queries rather than one per order.
func (r *Resolver) orderPage(ctx context.Context, q *ent.OrderQuery, after *entgql.Cursor[gid.ID], first *int, before *entgql.Cursor[gid.ID], last *int) (*ent.OrderConnection, error) {
	first, last, err := pageSize(first, last)
	if err != nil {
		return nil, err
	}
	return q.WithItems(func(q *ent.OrderItemQuery) { q.WithProduct() }).
		Paginate(ctx, after, first, before, last, ent.WithOrderOrder(newestFirst))
}

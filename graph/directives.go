package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"unionmall/graph/generated"
	"unionmall/internal/auth"
	"unionmall/internal/role"
)

// directives enforce the schema's @signedIn, @hasRole and @verified through
// the auth package: the one place where roles are checked.
func directives() generated.DirectiveRoot {
	return generated.DirectiveRoot{
		SignedIn: func(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
			if _, err := auth.SignedIn(ctx); err != nil {
				return nil, err
			}
			return next(ctx)
		},
		HasRole: func(ctx context.Context, _ any, next graphql.Resolver, r role.Role) (any, error) {
			if _, err := auth.HasRole(ctx, r); err != nil {
				return nil, err
			}
			return next(ctx)
		},
		Verified: func(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
			if _, err := auth.Verified(ctx); err != nil {
				return nil, err
			}
			return next(ctx)
		},
	}
}

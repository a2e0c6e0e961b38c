package graph

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"unionmall/graph/generated"
	"unionmall/internal/apperr"
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
			v, err := auth.HasRole(ctx, r)
			if err != nil {
				return nil, err
			}
			res, err := next(ctx)
			if r == role.Admin {
				audit(ctx, v, err)
			}
			return res, err
		},
		Verified: func(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
			if _, err := auth.Verified(ctx); err != nil {
				return nil, err
			}
			return next(ctx)
		},
	}
}

// audit writes one log line for every ADMIN operation: who, what, on
// which arguments (secrets left out) and how it ended.
func audit(ctx context.Context, v *auth.Viewer, err error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Object != "Mutation" {
		return // reads are not audited
	}
	outcome := "ok"
	if err != nil {
		outcome = string(apperr.CodeOf(err))
	}
	slog.InfoContext(ctx, "audit", "admin", v.MemberID, "operation", fc.Field.Name,
		"args", redact(fc.Args), "outcome", outcome)
}

// redact returns the arguments as their JSON (inputs are Go structs with
// pointer fields, which would print as addresses) without those that must
// never reach a log.
func redact(args map[string]any) map[string]any {
	b, err := json.Marshal(args)
	var plain map[string]any
	if err == nil {
		err = json.Unmarshal(b, &plain)
	}
	if err != nil {
		return map[string]any{"unprintable": err.Error()}
	}
	return scrub(plain)
}

// scrub drops secrets by name, at any depth.
func scrub(args map[string]any) map[string]any {
	out := make(map[string]any, len(args))
	for k, v := range args {
		switch strings.ToLower(k) {
		case "password", "oldpassword", "newpassword", "idnumber", "token":
			continue
		}
		if m, ok := v.(map[string]any); ok {
			v = scrub(m)
		}
		out[k] = v
	}
	return out
}

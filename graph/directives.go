package graph

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"unicode/utf8"

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
// which arguments (secrets left out, long values shortened) and how it
// ended.
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

// Bounds of an audit line's arguments (unbounded, the 5000 IDs of one
// list made a line of 155 KB).
const (
	auditListItems   = 5    // items shown of a longer list, beside its length
	auditStringRunes = 100  // characters shown of a longer string
	auditArgsBytes   = 2048 // the arguments' JSON at most, however shaped
)

// redact returns the arguments as their JSON (inputs are Go structs with
// pointer fields, which would print as addresses) without those that must
// never reach a log, and bounded: long lists and strings shortened, and
// the whole cut at auditArgsBytes.
func redact(args map[string]any) any {
	b, err := json.Marshal(args)
	var plain map[string]any
	if err == nil {
		err = json.Unmarshal(b, &plain)
	}
	if err != nil {
		return map[string]any{"unprintable": err.Error()}
	}
	out := tidy(plain)
	if b, err := json.Marshal(out); err == nil && len(b) > auditArgsBytes {
		// Half: quoted again as a string, the JSON's quotes and
		// backslashes double.
		return map[string]any{"truncated": cutBytes(string(b), auditArgsBytes/2), "bytes": len(b)}
	}
	return out
}

// tidy drops secrets by name, at any depth, and shortens long lists (to
// their first items and their length) and long strings.
func tidy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			switch strings.ToLower(k) {
			case "password", "oldpassword", "newpassword", "idnumber", "token":
				continue
			}
			out[k] = tidy(x)
		}
		return out
	case []any:
		if len(v) > auditListItems {
			return map[string]any{"first": tidyAll(v[:auditListItems]), "count": len(v)}
		}
		return tidyAll(v)
	case string:
		return cutRunes(v, auditStringRunes)
	}
	return v
}

func tidyAll(list []any) []any {
	out := make([]any, len(list))
	for i, x := range list {
		out[i] = tidy(x)
	}
	return out
}

// cutRunes shortens s to its first n characters and marks the cut.
func cutRunes(s string, n int) string {
	seen := 0
	for at := range s {
		if seen == n {
			return s[:at] + "…"
		}
		seen++
	}
	return s
}

// cutBytes shortens s to at most n bytes, at a character boundary, and
// marks the cut.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

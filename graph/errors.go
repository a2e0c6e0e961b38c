package graph

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"unionmall/internal/apperr"
)

// presentError turns errors into the contract's: a domain refusal keeps its
// message and gets its code; gqlgen's own errors (parse, validation) pass
// through; a value that failed to parse as an argument is BAD_USER_INPUT;
// anything else is logged and hidden behind INTERNAL_SERVER_ERROR.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	var ae *apperr.Error
	if errors.As(err, &ae) {
		gqlErr.Message = ae.Message
		gqlErr.Extensions = map[string]any{"code": string(ae.Code)}
		if ae.Field != "" {
			gqlErr.Extensions["field"] = ae.Field
		}
		return gqlErr
	}
	if gqlErr.Err == nil && gqlErr.Extensions["code"] == nil && len(gqlErr.Path) == 0 {
		// A request that gqlgen's transport could not read or decode (a body
		// that is not JSON, say) or bad APQ data: the client's fault, and
		// every refusal carries a code. gqlgen quotes the whole undecodable
		// body after " body:", which may hold a password; only the reason stays.
		msg := gqlErr.Message
		if strings.HasPrefix(msg, "json request body could not be decoded: ") {
			msg, _, _ = strings.Cut(msg, " body:")
		}
		return &gqlerror.Error{
			Message:    msg,
			Extensions: map[string]any{"code": string(apperr.BadUserInput)},
		}
	}
	if gqlErr.Err == nil || gqlErr.Extensions["code"] != nil {
		return gqlErr // made by gqlgen itself
	}
	if isArgumentError(ctx, gqlErr) {
		gqlErr.Extensions = map[string]any{"code": string(apperr.BadUserInput)}
		return gqlErr
	}
	slog.ErrorContext(ctx, "internal error", "err", err, "path", gqlErr.Path.String())
	return &gqlerror.Error{
		Message:    "internal server error",
		Path:       gqlErr.Path,
		Locations:  gqlErr.Locations,
		Extensions: map[string]any{"code": string(apperr.Internal)},
	}
}

// isArgumentError reports whether the error is about one of the field's
// arguments: gqlgen puts the argument's name (and, for an input object,
// the path inside it) after the field's own path for an argument that
// failed to unmarshal (a malformed cursor, an enum value in the wrong
// case). Resolvers' errors carry the field's path alone.
func isArgumentError(ctx context.Context, e *gqlerror.Error) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return false
	}
	at := len(fc.Path())
	if len(e.Path) <= at {
		return false
	}
	name, ok := e.Path[at].(ast.PathName)
	if !ok {
		return false
	}
	for _, a := range fc.Field.Arguments {
		if a.Name == string(name) {
			return true
		}
	}
	return false
}

// recoverPanic logs a resolver's panic with its stack and answers a generic
// internal error: no internals reach the client.
func recoverPanic(ctx context.Context, p any) error {
	slog.ErrorContext(ctx, "panic in resolver", "panic", p, "stack", string(debug.Stack()))
	return &gqlerror.Error{
		Message:    "internal server error",
		Extensions: map[string]any{"code": string(apperr.Internal)},
	}
}

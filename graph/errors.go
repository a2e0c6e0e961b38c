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

// presentError turns errors into the contract's: a domain refusal gets its
// code, its message in the caller's language (apperr.LangOf), its bad
// fields and when to retry; gqlgen's own errors (parse, validation) pass
// through, in Chinese with a Chinese lead before gqlgen's English; a value
// that failed to parse as an argument is BAD_USER_INPUT; anything else is
// logged and hidden behind INTERNAL_SERVER_ERROR.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	lang := apperr.LangOf(ctx)
	var ae *apperr.Error
	if errors.As(err, &ae) {
		gqlErr.Message = ae.In(lang)
		gqlErr.Extensions = refusalExtensions(ctx, ae, lang)
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
			Message:    lead(lang, "请求无法读取：", msg),
			Extensions: map[string]any{"code": string(apperr.BadUserInput)},
		}
	}
	if gqlErr.Err == nil || gqlErr.Extensions["code"] != nil {
		// Made by gqlgen itself; copied, since gqlgen may hand the same
		// error out again.
		c := *gqlErr
		code, _ := c.Extensions["code"].(string)
		c.Message = lead(lang, gqlgenLeads[code], c.Message)
		return &c
	}
	if isArgumentError(ctx, gqlErr) {
		gqlErr.Message = lead(lang, "参数无效：", gqlErr.Message)
		gqlErr.Extensions = map[string]any{"code": string(apperr.BadUserInput)}
		return gqlErr
	}
	slog.ErrorContext(ctx, "internal error", "err", err, "path", gqlErr.Path.String())
	return &gqlerror.Error{
		Message:    errInternal.In(lang),
		Path:       gqlErr.Path,
		Locations:  gqlErr.Locations,
		Extensions: map[string]any{"code": string(apperr.Internal)},
	}
}

var errInternal = apperr.New(apperr.Internal, "internal server error")

// gqlgenLeads put a Chinese lead before the English messages of gqlgen and
// gqlparser (written for developers; their codes say the same to clients).
var gqlgenLeads = map[string]string{
	"GRAPHQL_PARSE_FAILED":      "查询无法解析：",
	"GRAPHQL_VALIDATION_FAILED": "查询不符合接口定义：",
	"COMPLEXITY_LIMIT_EXCEEDED": "查询过于复杂：",
	"PERSISTED_QUERY_NOT_FOUND": "未找到持久化查询：",
}

// lead puts the Chinese lead before msg, for Chinese only.
func lead(lang apperr.Lang, zh, msg string) string {
	if lang != apperr.Chinese || zh == "" {
		return msg
	}
	return zh + msg
}

// refusalExtensions are a refusal's extensions: its code; for bad input
// the first bad field (field) and every one with its message (fields); for
// RATE_LIMITED the whole seconds to wait (retryAfter), which an HTTP
// answer also sends as Retry-After.
func refusalExtensions(ctx context.Context, ae *apperr.Error, lang apperr.Lang) map[string]any {
	ext := map[string]any{"code": string(ae.Code)}
	if ae.Field != "" {
		ext["field"] = ae.Field
	}
	fields := ae.Fields
	if len(fields) == 0 && ae.Field != "" {
		fields = []*apperr.Error{ae}
	}
	if len(fields) > 0 {
		list := make([]map[string]any, len(fields))
		for i, f := range fields {
			list[i] = map[string]any{"field": f.Field, "message": f.In(lang)}
		}
		ext["fields"] = list
	}
	if s := ae.RetrySeconds(); s > 0 {
		ext["retryAfter"] = s
		noteRetryAfter(ctx, s)
	}
	return ext
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
		Message:    errInternal.In(apperr.LangOf(ctx)),
		Extensions: map[string]any{"code": string(apperr.Internal)},
	}
}

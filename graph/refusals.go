package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"unionmall/internal/apperr"
)

// refuseNUL refuses an operation carrying a NUL character in its text or
// its variables: no input of the mall may hold one, and PostgreSQL cannot
// store it (it would surface as an internal error). Refused once here
// instead of in every text field.
func refuseNUL(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if strings.Contains(oc.RawQuery, "\x00") || strings.Contains(oc.RawQuery, `\u0000`) || hasNUL(oc.Variables) {
		return refusal(ctx, apperr.New(apperr.BadUserInput, "text may not contain the NUL character"))
	}
	return next(ctx)
}

// oneRootMutation refuses, before any resolver runs, a mutation that
// selects more than one root field (the contract): each field would commit
// on its own, so a refusal of the second would leave the first's write
// behind. Fields count as they would run: after fragments, @skip and
// @include, with identical fields under one response key merged.
func oneRootMutation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation != nil && oc.Operation.Operation == ast.Mutation {
		if n := len(graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Mutation"})); n > 1 {
			return refusal(ctx, apperr.New(apperr.BadUserInput, "a mutation may select one root field, not %d: send each in a request of its own", n))
		}
	}
	return next(ctx)
}

// refusal is the answer to an operation refused as a whole: the error and
// no data.
func refusal(ctx context.Context, why *apperr.Error) graphql.ResponseHandler {
	noteNoData(ctx) // response middlewares do not see it
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{presentError(ctx, why)}})
}

func hasNUL(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.ContainsRune(v, 0)
	case map[string]any:
		for k, x := range v {
			if strings.ContainsRune(k, 0) || hasNUL(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if hasNUL(x) {
				return true
			}
		}
	}
	return false
}

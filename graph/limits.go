package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"unionmall/ent"
	"unionmall/ent/coupon"
	"unionmall/ent/order"
	"unionmall/graph/generated"
	"unionmall/internal/apperr"
	"unionmall/internal/gid"

	"entgo.io/contrib/entgql"
)

// Limits of one request's shape.
const (
	// DefaultMaxDepth bounds how deep a selection may nest (introspection
	// fields, which have their own rule, do not count).
	DefaultMaxDepth = 15
	// DefaultComplexity bounds the estimated work of one operation: each
	// field costs one, and a list field costs its children times how many
	// items it may return.
	DefaultComplexity = 5000
)

// depthRule refuses operations nested deeper than max (gqlgen has no depth
// limit of its own). Fragments count where they are spread; a fragment
// cycle, reported by its own rule, is not followed twice.
func depthRule(max int) func() *rules.Rules {
	return func() *rules.Rules {
		r := rules.NewDefaultRules()
		r.AddRule("MaxDepth", func(observers *core.Events, addError core.AddErrFunc) {
			observers.OnOperation(func(w *core.Walker, op *ast.OperationDefinition) {
				if d := depth(op.SelectionSet, 0, max, map[string]bool{}); d > max {
					addError(core.Message("the query nests deeper than %d levels", max), core.At(op.Position))
				}
			})
		})
		return r
	}
}

// depth measures a selection set, stopping as soon as it passes max.
func depth(set ast.SelectionSet, at, max int, spreading map[string]bool) int {
	deepest := at
	for _, s := range set {
		if deepest > max {
			return deepest
		}
		var d int
		switch s := s.(type) {
		case *ast.Field:
			if len(s.Name) > 1 && s.Name[:2] == "__" {
				continue
			}
			d = at + 1
			if len(s.SelectionSet) > 0 {
				d = depth(s.SelectionSet, at+1, max, spreading)
			}
		case *ast.InlineFragment:
			d = depth(s.SelectionSet, at, max, spreading)
		case *ast.FragmentSpread:
			if s.Definition == nil || spreading[s.Name] {
				continue
			}
			spreading[s.Name] = true
			d = depth(s.Definition.SelectionSet, at, max, spreading)
			delete(spreading, s.Name)
		}
		deepest = max2(deepest, d)
	}
	return deepest
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// pageCost is how many items a connection may return: first or last,
// else the default page. A size beyond the maximum is priced at the
// maximum, so that it reaches the resolver and is refused there with the
// contract's BAD_USER_INPUT.
func pageCost(first, last *int) int {
	n := defaultPageSize
	switch {
	case first != nil:
		n = *first
	case last != nil:
		n = *last
	}
	return min(max(n, 1), maxPageSize)
}

// complexity prices the list fields by what they may return.
func complexity() generated.ComplexityRoot {
	var c generated.ComplexityRoot
	type cur = *entgql.Cursor[gid.ID]
	c.Query.Products = func(child int, _ cur, first *int, _ cur, last *int, _ *ent.ProductOrder, _ *ent.ProductWhereInput) int {
		return 1 + child*pageCost(first, last)
	}
	c.Query.Suppliers = func(child int, _ cur, first *int, _ cur, last *int, _ *ent.SupplierWhereInput) int {
		return 1 + child*pageCost(first, last)
	}
	c.Query.LiveEvents = func(child int, _ cur, first *int, _ cur, last *int, _ *ent.LiveEventOrder, _ *ent.LiveEventWhereInput) int {
		return 1 + child*pageCost(first, last)
	}
	c.Query.MyOrders = func(child int, _ cur, first *int, _ cur, last *int) int {
		return 1 + child*pageCost(first, last)
	}
	c.Query.Orders = func(child int, _ cur, first *int, _ cur, last *int, _ *order.Status) int {
		return 1 + child*pageCost(first, last)
	}
	c.Query.PendingVerifications = func(child int, _ cur, first *int, _ cur, last *int) int {
		return 1 + child*pageCost(first, last)
	}
	c.Query.Nodes = func(child int, ids []gid.ID) int { return 1 + child*max2(len(ids), 1) }
	c.Query.MyCoupons = func(child int, _ *coupon.Status) int { return 1 + child*20 }
	return c
}

// refuseNUL refuses an operation carrying a NUL character in its text or
// its variables: no input of the mall may hold one, and PostgreSQL cannot
// store it (it would surface as an internal error). Refused once here
// instead of in every text field.
func refuseNUL(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if strings.Contains(oc.RawQuery, "\x00") || strings.Contains(oc.RawQuery, `\u0000`) || hasNUL(oc.Variables) {
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
			Message:    "text may not contain the NUL character",
			Extensions: map[string]any{"code": string(apperr.BadUserInput)},
		}}})
	}
	return next(ctx)
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

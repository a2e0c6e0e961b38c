package graph

import (
	"reflect"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"unionmall/ent"
	"unionmall/ent/coupon"
	"unionmall/ent/order"
	"unionmall/graph/generated"
	"unionmall/internal/flashsales"
	"unionmall/internal/gid"

	"entgo.io/contrib/entgql"
)

// Limits of one request's shape.
const (
	// DefaultMaxDepth bounds how deep a selection may nest (introspection
	// fields, which have their own rule, do not count).
	DefaultMaxDepth = 15
	// DefaultComplexity bounds the estimated work of one operation: each
	// field costs one, a list field costs its children times how many
	// items it may return, and a where input what whereCost says.
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

// complexity prices the list fields by what they may return, and their
// filters by their size.
func complexity() generated.ComplexityRoot {
	var c generated.ComplexityRoot
	type cur = *entgql.Cursor[gid.ID]
	c.Query.Products = func(child int, _ cur, first *int, _ cur, last *int, _ *ent.ProductOrder, where *ent.ProductWhereInput) int {
		return 1 + child*pageCost(first, last) + whereCost(where)
	}
	c.Query.Suppliers = func(child int, _ cur, first *int, _ cur, last *int, where *ent.SupplierWhereInput) int {
		return 1 + child*pageCost(first, last) + whereCost(where)
	}
	c.Query.LiveEvents = func(child int, _ cur, first *int, _ cur, last *int, _ *ent.LiveEventOrder, where *ent.LiveEventWhereInput) int {
		return 1 + child*pageCost(first, last) + whereCost(where)
	}
	c.Query.MyOrders = func(child int, _ cur, first *int, _ cur, last *int, _ *order.Status) int {
		return 1 + child*pageCost(first, last)
	}
	c.Query.Orders = func(child int, _ cur, first *int, _ cur, last *int, _ *order.Status, _, _ *string, _, _ *time.Time) int {
		return 1 + child*pageCost(first, last)
	}
	c.Query.FlashSales = func(child int, _ cur, first *int, _ cur, last *int, _ *flashsales.Status, _, _ *time.Time) int {
		return 1 + child*pageCost(first, last)
	}
	c.Query.PendingVerifications = func(child int, _ cur, first *int, _ cur, last *int) int {
		return 1 + child*pageCost(first, last)
	}
	c.Query.Nodes = func(child int, ids []gid.ID) int { return 1 + child*max2(len(ids), 1) }
	c.Query.MyCoupons = func(child int, _ *coupon.Status) int { return 1 + child*20 }
	return c
}

// whereNodeWeight is the price of one input object of a where (itself, a
// not, an and or or term, a has…With): each becomes a parenthesised group
// of SQL or a subquery, and their number is what makes a filter slow.
const whereNodeWeight = 10

// whereCost prices a where input (a nil pointer: nothing):
// whereNodeWeight for each of its input objects, and 1 for each predicate
// set and each item of an In or NotIn list. It walks entgql's generated
// struct by reflection, so predicates added to the schema are priced too.
func whereCost(where any) int {
	v := reflect.ValueOf(where)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return 0
	}
	cost := whereNodeWeight
	v = v.Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Kind() == reflect.Pointer && isWhereInput(f.Type()):
			cost += whereCost(f.Interface())
		case f.Kind() == reflect.Slice && isWhereInput(f.Type().Elem()):
			for j := range f.Len() {
				cost += whereCost(f.Index(j).Interface())
			}
		case f.Kind() == reflect.Slice:
			cost += f.Len()
		case f.Kind() == reflect.Pointer && !f.IsNil():
			cost++
		}
	}
	return cost
}

// isWhereInput reports whether t is a pointer to one of entgql's where
// inputs.
func isWhereInput(t reflect.Type) bool {
	return t.Kind() == reflect.Pointer && strings.HasSuffix(t.Elem().Name(), "WhereInput")
}

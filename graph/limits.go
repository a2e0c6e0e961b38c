package graph

import (
	"context"
	"fmt"
	"reflect"
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

// inputLimits refuses with BAD_USER_INPUT, cheaply and before anything
// runs, an operation whose inputs nest objects and lists deeper than
// MaxInputDepth or hold more than MaxInputValues values. It looks twice:
// at the request as sent (the document's text, the variables), before
// gqlgen parses and coerces them (which for 20,000 where terms took
// 0.4 s); and at the parsed arguments with their variables in place,
// which also catches a literal wrapped around a deep variable, before the
// complexity is computed (which decodes the arguments).
type inputLimits struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = inputLimits{}

func (inputLimits) ExtensionName() string                   { return "InputLimits" }
func (inputLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (inputLimits) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	if literalTooDeep(p.Query) {
		// Before parsing: one of gqlparser's rules converts every nested
		// value again, quadratic in the depth (a 900-deep literal, 0.1 s).
		return inputRefusal(depthRefusal)
	}
	b := newInputBudget()
	for _, v := range p.Variables {
		if b.json(v, 1) {
			return inputRefusal(b.why)
		}
	}
	return nil
}

func (inputLimits) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	w := argWalk{doc: oc.Doc, vars: oc.Variables, seen: map[string]bool{}, budget: newInputBudget()}
	if oc.Operation != nil && w.selections(oc.Operation.SelectionSet) {
		return inputRefusal(w.budget.why)
	}
	return nil
}

func inputRefusal(why string) *gqlerror.Error {
	return &gqlerror.Error{Message: why, Extensions: map[string]any{"code": string(apperr.BadUserInput)}}
}

// Bounds of one operation's inputs.
const (
	// MaxInputDepth bounds how deeply input objects and lists may nest:
	// a where nested thousands deep reached the database, where it took
	// a quarter of a second or failed as an internal error (SQLite's
	// expression depth limit).
	MaxInputDepth = 16
	// MaxInputValues bounds how many values (objects, lists, scalars)
	// the inputs hold: far above any input the mall takes (lists of at
	// most 100 IDs or lines), and few enough that coercing them stays
	// cheap (gqlparser takes some 30 µs per where object).
	MaxInputValues = 2000
)

var depthRefusal = fmt.Sprintf("an input nests objects and lists deeper than %d levels", MaxInputDepth)

// literalTooDeep reports whether a document's input literals nest deeper
// than MaxInputDepth, by its text: inputs are what stands inside
// parentheses (arguments; variables' types and defaults), where every
// brace or bracket opens an object or a list; strings and comments are
// skipped.
func literalTooDeep(doc string) bool {
	parens, nesting := 0, 0
	for i := 0; i < len(doc); i++ {
		switch doc[i] {
		case '#':
			for i < len(doc) && doc[i] != '\n' && doc[i] != '\r' {
				i++
			}
		case '"':
			i = stringEnd(doc, i)
		case '(':
			parens++
		case ')':
			if parens > 0 {
				parens--
			}
			if parens == 0 {
				nesting = 0
			}
		case '{', '[':
			if parens > 0 {
				if nesting++; nesting > MaxInputDepth {
					return true
				}
			}
		case '}', ']':
			if parens > 0 && nesting > 0 {
				nesting--
			}
		}
	}
	return false
}

// stringEnd is the index of the quote that ends the string or block
// string starting at doc[i] (len(doc) if none does).
func stringEnd(doc string, i int) int {
	if strings.HasPrefix(doc[i:], `"""`) {
		for j := i + 3; j < len(doc); j++ {
			if doc[j] == '\\' && strings.HasPrefix(doc[j:], `\"""`) {
				j += 3
			} else if strings.HasPrefix(doc[j:], `"""`) {
				return j + 2
			}
		}
		return len(doc)
	}
	for j := i + 1; j < len(doc); j++ {
		switch doc[j] {
		case '\\':
			j++
		case '"', '\n', '\r':
			return j
		}
	}
	return len(doc)
}

// inputBudget counts down the values of inputs as they are walked and
// says why a walk stopped.
type inputBudget struct {
	values int
	why    string
}

func newInputBudget() *inputBudget { return &inputBudget{values: MaxInputValues} }

// take counts one value at level (1 for an argument's own value) and
// reports whether that passes a limit; composite tells whether the value
// is an object or a list.
func (b *inputBudget) take(level int, composite bool) bool {
	switch b.values--; {
	case b.values < 0:
		b.why = fmt.Sprintf("the inputs hold more than %d values", MaxInputValues)
	case composite && level > MaxInputDepth:
		b.why = depthRefusal
	default:
		return false
	}
	return true
}

// json walks a decoded JSON value and reports whether it passed a limit.
func (b *inputBudget) json(v any, level int) bool {
	switch v := v.(type) {
	case []any:
		if b.take(level, true) {
			return true
		}
		for _, c := range v {
			if b.json(c, level+1) {
				return true
			}
		}
		return false
	case map[string]any:
		if b.take(level, true) {
			return true
		}
		for _, c := range v {
			if b.json(c, level+1) {
				return true
			}
		}
		return false
	default:
		return b.take(level, false)
	}
}

// argWalk walks the arguments of an operation's fields, each fragment
// once, with variables in place.
type argWalk struct {
	doc    *ast.QueryDocument
	vars   map[string]any
	seen   map[string]bool
	budget *inputBudget
}

// selections reports whether the arguments in set pass a limit.
func (w *argWalk) selections(set ast.SelectionSet) bool {
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			for _, a := range s.Arguments {
				if w.literal(a.Value, 1) {
					return true
				}
			}
			if w.selections(s.SelectionSet) {
				return true
			}
		case *ast.InlineFragment:
			if w.selections(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if w.seen[s.Name] {
				continue
			}
			w.seen[s.Name] = true
			if f := w.doc.Fragments.ForName(s.Name); f != nil && w.selections(f.SelectionSet) {
				return true
			}
		}
	}
	return false
}

// literal walks a value of the document and reports whether it passed a
// limit.
func (w *argWalk) literal(v *ast.Value, level int) bool {
	switch {
	case v == nil:
		return false
	case v.Kind == ast.Variable:
		return w.budget.json(w.vars[v.Raw], level)
	case v.Kind != ast.ListValue && v.Kind != ast.ObjectValue:
		return w.budget.take(level, false)
	case w.budget.take(level, true):
		return true
	}
	for _, c := range v.Children {
		if w.literal(c.Value, level+1) {
			return true
		}
	}
	return false
}

// refuseNUL refuses an operation carrying a NUL character in its text or
// its variables: no input of the mall may hold one, and PostgreSQL cannot
// store it (it would surface as an internal error). Refused once here
// instead of in every text field.
func refuseNUL(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if strings.Contains(oc.RawQuery, "\x00") || strings.Contains(oc.RawQuery, `\u0000`) || hasNUL(oc.Variables) {
		return refusal("text may not contain the NUL character")
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
			return refusal(fmt.Sprintf("a mutation may select one root field, not %d: send each in a request of its own", n))
		}
	}
	return next(ctx)
}

// refusal is the answer to an operation refused as a whole: BAD_USER_INPUT
// and no data.
func refusal(msg string) graphql.ResponseHandler {
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{inputRefusal(msg)}})
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

package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"unionmall/internal/apperr"
)

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

// inputRefusal carries why to the error presenter, which words it in the
// caller's language.
func inputRefusal(why *apperr.Error) *gqlerror.Error {
	return &gqlerror.Error{Message: why.Message, Err: why, Extensions: map[string]any{"code": string(apperr.BadUserInput)}}
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

var depthRefusal = apperr.New(apperr.BadUserInput, "an input nests objects and lists deeper than %d levels", MaxInputDepth)

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
	why    *apperr.Error
}

func newInputBudget() *inputBudget { return &inputBudget{values: MaxInputValues} }

// take counts one value at level (1 for an argument's own value) and
// reports whether that passes a limit; composite tells whether the value
// is an object or a list.
func (b *inputBudget) take(level int, composite bool) bool {
	switch b.values--; {
	case b.values < 0:
		b.why = apperr.New(apperr.BadUserInput, "the inputs hold more than %d values", MaxInputValues)
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

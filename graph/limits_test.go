package graph

import (
	"strings"
	"testing"

	"unionmall/ent"
	"unionmall/internal/gid"
)

// The document scan counts only the braces and brackets of input
// literals (inside parentheses), not selection sets, strings or comments.
func TestLiteralTooDeep(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("{not: ", n) + `{name: "x"}` + strings.Repeat("}", n) }
	tests := []struct {
		name string
		doc  string
		want bool
	}{
		{name: "16 levels", doc: `{ products(where: ` + deep(15) + `) { totalCount } }`},
		{name: "17 levels", doc: `{ products(where: ` + deep(16) + `) { totalCount } }`, want: true},
		{name: "lists count", doc: `{ nodes(ids: ` + strings.Repeat("[", 17) + `"x"` + strings.Repeat("]", 17) + `) { id } }`, want: true},
		{name: "a variable's default", doc: `query($w: ProductWhereInput = ` + deep(16) + `) { products(where: $w) { totalCount } }`, want: true},
		{name: "a directive's argument", doc: `{ __typename @include(if: ` + deep(16) + `) }`, want: true},
		{name: "selection sets do not count", doc: strings.Repeat("{ a ", 40) + strings.Repeat("}", 40)},
		{name: "siblings do not add up", doc: `{ a(x: ` + strings.Repeat("{b: 1} ", 40) + `) b(y: ` + deep(10) + `) c(z: ` + deep(10) + `) }`},
		{name: "braces in a string", doc: `{ products(where: {name: "` + strings.Repeat("{[", 40) + `"}) { id } }`},
		{name: "an escaped quote in a string", doc: `{ p(where: {name: "a\"{{{{{{{{{{{{{{{{{{{{"}) { id } }`},
		{name: "braces in a block string", doc: `{ p(where: {name: """` + strings.Repeat("{", 40) + `\""" {{{{{{{{{{{{{{{{{{{{"""}) { id } }`},
		{name: "braces in a comment", doc: "{ p(where: # " + strings.Repeat("{", 40) + "\n {name: \"x\"}) { id } }"},
		{name: "a string left open", doc: `{ p(where: "` + strings.Repeat("{", 40)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := literalTooDeep(tt.doc); got != tt.want {
				t.Fatalf("literalTooDeep = %v, want %v", got, tt.want)
			}
		})
	}
}

// A where's price: whereNodeWeight for each of its input objects, 1 for
// each predicate and each item of a list.
func TestWhereCost(t *testing.T) {
	name, yes := "x", true
	tests := []struct {
		name  string
		where any
		want  int
	}{
		{name: "none", where: (*ent.ProductWhereInput)(nil), want: 0},
		{name: "empty", where: &ent.ProductWhereInput{}, want: whereNodeWeight},
		{name: "one predicate", where: &ent.ProductWhereInput{Name: &name}, want: whereNodeWeight + 1},
		{name: "an In list", where: &ent.ProductWhereInput{IDIn: make([]gid.ID, 7)}, want: whereNodeWeight + 7},
		{name: "or terms", where: &ent.ProductWhereInput{Or: []*ent.ProductWhereInput{{Name: &name}, {Name: &name, OnSale: &yes}}},
			want: 3*whereNodeWeight + 3},
		{name: "not and an edge", where: &ent.ProductWhereInput{Not: &ent.ProductWhereInput{
			HasSupplierWith: []*ent.SupplierWhereInput{{Name: &name}}}}, want: 3*whereNodeWeight + 1},
		{name: "a supplier's county", where: &ent.SupplierWhereInput{HasCountyWith: []*ent.CountyWhereInput{{}}, HasCounty: &yes},
			want: 2*whereNodeWeight + 1},
		{name: "a live event", where: &ent.LiveEventWhereInput{And: []*ent.LiveEventWhereInput{{Title: &name}}}, want: 2*whereNodeWeight + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := whereCost(tt.where); got != tt.want {
				t.Fatalf("whereCost = %d, want %d", got, tt.want)
			}
		})
	}
}

// Decoded variables are measured like literals: depth counts objects and
// lists, values count everything.
func TestInputBudget(t *testing.T) {
	nest := func(n int) any {
		var v any = "leaf"
		for range n {
			v = map[string]any{"not": v}
		}
		return v
	}
	tests := []struct {
		name string
		v    any
		want bool
	}{
		{name: "16 levels", v: nest(16)},
		{name: "17 levels", v: nest(17), want: true},
		{name: "a list of lists", v: []any{[]any{[]any{nest(14)}}}, want: true},
		{name: "scalars", v: "x"},
		{name: "as many values as allowed", v: make([]any, MaxInputValues-1)},
		{name: "one value too many", v: make([]any, MaxInputValues), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newInputBudget()
			if got := b.json(tt.v, 1); got != tt.want {
				t.Fatalf("over = %v (%s), want %v", got, b.why, tt.want)
			}
		})
	}
}

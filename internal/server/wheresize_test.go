package server_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// nestLiteral wraps leaf n times in `{not: …}` (or `{and: [ … ]}`), as
// GraphQL text.
func nestLiteral(op string, n int, leaf string) string {
	open, close := "{not: ", "}"
	if op == "and" {
		open, close = "{and: [", "]}"
	}
	return strings.Repeat(open, n) + leaf + strings.Repeat(close, n)
}

// nestValue is nestLiteral as a variable's value.
func nestValue(op string, n int, leaf map[string]any) map[string]any {
	v := leaf
	for range n {
		if op == "and" {
			v = map[string]any{"and": []any{v}}
		} else {
			v = map[string]any{"not": v}
		}
	}
	return v
}

// orTerms is a where of n `or` terms.
func orTerms(n int) map[string]any {
	terms := make([]any, n)
	for i := range terms {
		terms[i] = map[string]any{"name": fmt.Sprintf("no such product %d", i)}
	}
	return map[string]any{"or": terms}
}

func orLiteral(n int) string {
	var b strings.Builder
	b.WriteString("{or: [")
	for i := range n {
		fmt.Fprintf(&b, `{name: "no such product %d"} `, i)
	}
	b.WriteString("]}")
	return b.String()
}

// A where nested hundreds or thousands deep (the parser itself refuses
// documents nested past 1000), or of 20,000 terms, is refused at once
// (BAD_USER_INPUT or COMPLEXITY_LIMIT_EXCEEDED) instead of reaching the
// database and failing there; so is any input nested past 16 levels. A
// sensible where still works. The time each request took is logged.
func TestHugeOrDeepWhereRefused(t *testing.T) {
	const productsQ = `query($w: ProductWhereInput) { products(where: $w) { totalCount } }`
	refusals := []struct {
		name  string
		query string
		vars  map[string]any
		code  string // "": BAD_USER_INPUT or COMPLEXITY_LIMIT_EXCEEDED
	}{
		{name: "not 900 deep, literal", query: `{ products(where: ` + nestLiteral("not", 900, `{name: "x"}`) + `) { totalCount } }`},
		{name: "and 450 deep, literal", query: `{ products(where: ` + nestLiteral("and", 450, `{name: "x"}`) + `) { totalCount } }`},
		{name: "not 3000 deep, variable", query: productsQ, vars: map[string]any{"w": nestValue("not", 3000, map[string]any{"name": "x"})}},
		{name: "and 2000 deep, variable", query: productsQ, vars: map[string]any{"w": nestValue("and", 2000, map[string]any{"name": "x"})}},
		{name: "20000 or terms, variable", query: productsQ, vars: map[string]any{"w": orTerms(20000)}},
		{name: "20000 or terms, literal", query: `{ products(where: ` + orLiteral(20000) + `) { totalCount } }`},
		{name: "not 17 deep, variable", query: productsQ, vars: map[string]any{"w": nestValue("not", 17, map[string]any{"name": "x"})}},
		{name: "and 9 deep (18 levels), literal", query: `{ products(where: ` + nestLiteral("and", 9, `{name: "x"}`) + `) { totalCount } }`},
		{name: "literal and variable together 20 deep", query: `query($w: ProductWhereInput) { products(where: ` + nestLiteral("not", 10, "$w") + `) { totalCount } }`,
			vars: map[string]any{"w": nestValue("not", 9, map[string]any{"name": "x"})}},
		{name: "990 or terms: under the value limit, priced past the complexity limit", query: productsQ, vars: map[string]any{"w": orTerms(990)}, code: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "1001 or terms: past the value limit", query: productsQ, vars: map[string]any{"w": orTerms(1001)}, code: "BAD_USER_INPUT"},
		{name: "600 or terms: priced past the complexity limit", query: productsQ, vars: map[string]any{"w": orTerms(600)}, code: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "deep in a variable's default", query: `query($w: ProductWhereInput = ` + nestLiteral("not", 900, `{name: "x"}`) + `) { products(where: $w) { totalCount } }`},
		{name: "deep in a fragment", query: `{ ...P } fragment P on Query { products(where: ` + nestLiteral("not", 900, `{name: "x"}`) + `) { totalCount } }`},
		{name: "suppliers, deep", query: `query($w: SupplierWhereInput) { suppliers(where: $w) { totalCount } }`,
			vars: map[string]any{"w": nestValue("not", 3000, map[string]any{"name": "x"})}},
		{name: "suppliers, 20000 or terms", query: `query($w: SupplierWhereInput) { suppliers(where: $w) { totalCount } }`,
			vars: map[string]any{"w": orTerms(20000)}},
		{name: "liveEvents, deep", query: `query($w: LiveEventWhereInput) { liveEvents(where: $w) { totalCount } }`,
			vars: map[string]any{"w": nestValue("and", 2000, map[string]any{"title": "x"})}},
		{name: "liveEvents, 20000 or terms", query: `query($w: LiveEventWhereInput) { liveEvents(where: $w) { totalCount } }`,
			vars: map[string]any{"w": map[string]any{"or": slices.Repeat([]any{map[string]any{"title": "x"}}, 20000)}}},
	}
	accepted := []struct {
		name  string
		query string
		vars  map[string]any
		want  int
	}{
		{name: "a sensible where", query: productsQ, want: 2, vars: map[string]any{"w": map[string]any{
			"and": []any{map[string]any{"nameContainsFold": "tea"}, map[string]any{"or": []any{
				map[string]any{"category": "TEA"}, map[string]any{"category": "SNACKS"}}}},
			"not": map[string]any{"priceGT": "1000.00"}}}},
		{name: "not 14 deep, variable", query: productsQ, want: 2,
			vars: map[string]any{"w": nestValue("not", 14, map[string]any{"nameContainsFold": "tea"})}},
		{name: "and 7 deep, literal", want: 2,
			query: `{ products(where: ` + nestLiteral("and", 7, `{nameContainsFold: "tea"}`) + `) { totalCount } }`},
		{name: "100 or terms", query: productsQ, want: 0, vars: map[string]any{"w": orTerms(100)}},
		{name: "suppliers by county", query: `query($w: SupplierWhereInput) { suppliers(where: $w) { totalCount } }`, want: 1,
			vars: map[string]any{"w": map[string]any{"hasCountyWith": []any{map[string]any{"povertyStatus": "NON_POOR_WITH_TASKS"}}}}},
	}
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		servertest.SeedCatalogue(t, m, 6) // "…Green Tea No.00" (TEA) and "Hanzhong TEA Cake No.02" (SNACKS) hold "tea"
		member := m.Verified("会员")
		for _, tt := range refusals {
			t.Run(tt.name, func(t *testing.T) {
				start := time.Now()
				r := m.Do(member.Token, tt.query, tt.vars)
				took := time.Since(start)
				want := []string{"BAD_USER_INPUT", "COMPLEXITY_LIMIT_EXCEEDED"}
				if tt.code != "" {
					want = []string{tt.code}
				}
				if !slices.Contains(want, r.Code()) {
					t.Fatalf("took %v: code %q, want %v; errors %.300v", took, r.Code(), want, r.Errors)
				}
				if data := strings.TrimSpace(string(r.Data)); data != "" && data != "null" {
					t.Fatalf("refusal returned data %.200s", data)
				}
				t.Logf("%s in %v", r.Code(), took)
			})
		}
		for _, tt := range accepted {
			t.Run(tt.name, func(t *testing.T) {
				var out map[string]struct{ TotalCount int }
				servertest.MustDo(t, m, member.Token, tt.query, tt.vars, &out)
				for _, v := range out {
					if v.TotalCount != tt.want {
						t.Fatalf("totalCount %d, want %d", v.TotalCount, tt.want)
					}
				}
			})
		}
	})
}

package graph

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"unionmall/graph/generated"
)

// contractSchema finds ../shared/contract/schema.graphql beside the
// repository (or beside one of its parents: a worktree sits one deeper), or
// at CONTRACT_SCHEMA; a clone without the contract nearby skips, saying so.
func contractSchema(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CONTRACT_SCHEMA"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(filepath.Dir(d), "shared", "contract", "schema.graphql")
		if b, err := os.ReadFile(p); err == nil {
			return string(b)
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	t.Skip("no shared/contract/schema.graphql beside the repository or its parents (set CONTRACT_SCHEMA to its path)")
	return ""
}

// Every description the contract writes is found verbatim in the served
// schema's description of the same thing (the served one may say more).
func TestContractDescriptionsServed(t *testing.T) {
	doc, err := parser.ParseSchema(&ast.Source{Name: "contract", Input: contractSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	served := generated.NewExecutableSchema(generated.Config{}).Schema()
	var missing []string
	want := func(where, contract, got string) {
		if c := strings.TrimSpace(contract); c != "" && !strings.Contains(got, c) {
			missing = append(missing, where+": "+c)
		}
	}
	defs := append(append(ast.DefinitionList{}, doc.Definitions...), doc.Extensions...)
	for _, def := range defs {
		st := served.Types[def.Name]
		if st == nil {
			t.Errorf("type %s is not served", def.Name)
			continue
		}
		want(def.Name, def.Description, st.Description)
		for _, f := range def.Fields {
			sf := st.Fields.ForName(f.Name)
			if sf == nil {
				t.Errorf("%s.%s is not served", def.Name, f.Name)
				continue
			}
			want(def.Name+"."+f.Name, f.Description, sf.Description)
			for _, a := range f.Arguments {
				if sa := sf.Arguments.ForName(a.Name); sa != nil {
					want(def.Name+"."+f.Name+"("+a.Name+")", a.Description, sa.Description)
				}
			}
		}
		for _, v := range def.EnumValues {
			if sv := st.EnumValues.ForName(v.Name); sv != nil {
				want(def.Name+"."+v.Name, v.Description, sv.Description)
			}
		}
	}
	for _, d := range doc.Directives {
		if sd := served.Directives[d.Name]; sd != nil {
			want("@"+d.Name, d.Description, sd.Description)
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("missing description %s", m)
	}
}

// Every root field says what it does and, when a directive guards it, who
// may call it: introspection shows descriptions, not applied directives.
func TestRootFieldsDescribed(t *testing.T) {
	served := generated.NewExecutableSchema(generated.Config{}).Schema()
	for _, root := range []*ast.Definition{served.Query, served.Mutation, served.Subscription} {
		for _, f := range root.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			where := root.Name + "." + f.Name
			if strings.TrimSpace(f.Description) == "" {
				t.Errorf("%s has no description", where)
				continue
			}
			for _, d := range f.Directives {
				if who := guardWords(d); who != "" && !strings.Contains(f.Description, who) {
					t.Errorf("%s is guarded by @%s but its description does not say %q: %q", where, d.Name, who, f.Description)
				}
			}
		}
	}
}

// guardWords is what a description of a field guarded by d must say.
func guardWords(d *ast.Directive) string {
	switch d.Name {
	case "signedIn":
		return "Signed in"
	case "verified":
		return "VERIFIED"
	case "hasRole":
		if a := d.Arguments.ForName("role"); a != nil {
			return a.Value.Raw
		}
	}
	return ""
}

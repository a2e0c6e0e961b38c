//go:build ignore

// entc generates the ent client and, through entgql, graph/ent.graphqls. Run
// from the module root by `go generate ./...` (generate.go).
package main

import (
	"fmt"
	"log"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("graph/ent.graphqls"),
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithWhereInputs(true),
		entgql.WithSchemaHook(describe),
	)
	if err != nil {
		log.Fatalf("entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Target:  "ent",
		Package: "unionmall/ent",
		Features: []gen.Feature{
			gen.FeatureVersionedMigration,
			gen.FeatureUpsert,
			gen.FeatureExecQuery,
			gen.FeatureLock,
			gen.FeatureModifier,
		},
	}, entc.Extensions(ex), entc.TemplateFiles("ent/template/attach.tmpl"))
	if err != nil {
		log.Fatalf("ent codegen: %v", err)
	}
}

// describe adds what entgql cannot write: the descriptions of enum values
// (a field's EnumDocs annotation, see ent/schema/doc.go) and the contract's
// description of the Cursor scalar.
func describe(g *gen.Graph, s *ast.Schema) error {
	if c := s.Types["Cursor"]; c != nil {
		c.Description = "An opaque pagination cursor."
	}
	for _, n := range g.Nodes {
		for _, f := range n.Fields {
			docs, ok := f.Annotations["EnumDocs"].(map[string]any)
			if !ok {
				continue
			}
			def := enumOf(s, f)
			if def == nil {
				return fmt.Errorf("%s.%s: EnumDocs on a field whose enum is not in the GraphQL schema", n.Name, f.Name)
			}
			for name, doc := range docs {
				v := def.EnumValues.ForName(name)
				if v == nil {
					return fmt.Errorf("%s.%s: EnumDocs names %s, which is no value of %s", n.Name, f.Name, name, def.Name)
				}
				v.Description, _ = doc.(string)
			}
		}
	}
	return nil
}

// enumOf finds the GraphQL enum entgql emitted for an enum field: the one
// whose @goModel is the field's Go type.
func enumOf(s *ast.Schema, f *gen.Field) *ast.Definition {
	for _, def := range s.Types {
		if def.Kind != ast.Enum {
			continue
		}
		if m := def.Directives.ForName("goModel"); m != nil {
			if a := m.Arguments.ForName("model"); a != nil && strings.HasSuffix(a.Value.Raw, "/"+f.Type.String()) {
				return def
			}
		}
	}
	return nil
}

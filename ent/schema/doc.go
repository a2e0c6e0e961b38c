package schema

// enumDocs describes an enum field's values in the GraphQL schema (entgql
// writes none): ent/entc.go's schema hook copies them onto the enum that
// entgql emits for the field.
type enumDocs map[string]string

// Name is the annotation's key, which ent/entc.go reads.
func (enumDocs) Name() string { return "EnumDocs" }

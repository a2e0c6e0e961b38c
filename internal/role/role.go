// Package role names what a member may do. It is a leaf package so that the
// ent schema, the authorization package and GraphQL can all share the type.
package role

import (
	"fmt"
	"io"
	"slices"
	"strconv"
)

// Role is one of the contract's Role values.
type Role string

// The roles of the contract.
const (
	Member    Role = "MEMBER"
	Purchaser Role = "PURCHASER"
	Admin     Role = "ADMIN"
)

// All lists every role, in the contract's order.
var All = []Role{Member, Purchaser, Admin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(All, r) }

// MarshalGQL writes the role as a GraphQL enum value.
func (r Role) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(r))) }

// UnmarshalGQL reads a GraphQL enum value.
func (r *Role) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !Role(s).Valid() {
		return fmt.Errorf("%v is not a valid Role", v)
	}
	*r = Role(s)
	return nil
}

// Set is a member's roles; every member has MEMBER.
type Set []Role

// Has reports whether the set holds r.
func (s Set) Has(r Role) bool { return slices.Contains(s, r) }

// With returns the set with r added, in the contract's order.
func (s Set) With(r Role) Set {
	out := Set{}
	for _, x := range All {
		if x == r || s.Has(x) {
			out = append(out, x)
		}
	}
	return out
}

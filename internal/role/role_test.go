package role

import (
	"bytes"
	"slices"
	"testing"
)

func TestWith(t *testing.T) {
	for _, c := range []struct {
		name string
		set  Set
		add  Role
		want Set
	}{
		{"to empty", Set{}, Member, Set{Member}},
		{"to nil", nil, Admin, Set{Admin}},
		{"after", Set{Member}, Admin, Set{Member, Admin}},
		{"before", Set{Admin}, Member, Set{Member, Admin}},
		{"between", Set{Member, Admin}, Purchaser, Set{Member, Purchaser, Admin}},
		{"already there", Set{Member, Purchaser}, Purchaser, Set{Member, Purchaser}},
		{"all", Set{Member, Purchaser, Admin}, Member, Set{Member, Purchaser, Admin}},
		{"out of order in", Set{Admin, Member}, Purchaser, Set{Member, Purchaser, Admin}},
		{"duplicates in", Set{Member, Member, Admin, Admin}, Admin, Set{Member, Admin}},
		{"unknown role not added", Set{Member}, Role("BOSS"), Set{Member}},
		{"unknown role in set dropped", Set{Role("BOSS"), Member}, Admin, Set{Member, Admin}},
	} {
		orig := slices.Clone(c.set)
		got := c.set.With(c.add)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v.With(%s) = %v, want %v", c.name, c.set, c.add, got, c.want)
		}
		if !slices.Equal(c.set, orig) {
			t.Errorf("%s: With changed its receiver to %v", c.name, c.set)
		}
		if !got.Has(c.add) && c.add.Valid() {
			t.Errorf("%s: result lacks %s", c.name, c.add)
		}
	}
}

func TestValidAndAll(t *testing.T) {
	if !slices.Equal(All, []Role{Member, Purchaser, Admin}) {
		t.Errorf("All = %v, not the contract's order", All)
	}
	for _, r := range All {
		if !r.Valid() {
			t.Errorf("%s not valid", r)
		}
	}
	for _, r := range []Role{"", "admin", "BOSS", "MEMBER "} {
		if r.Valid() {
			t.Errorf("%q valid", r)
		}
	}
}

func TestUnmarshalGQL(t *testing.T) {
	for _, r := range All {
		var got Role
		if err := got.UnmarshalGQL(string(r)); err != nil || got != r {
			t.Errorf("UnmarshalGQL(%q) = %q, %v", r, got, err)
		}
	}
	for _, v := range []any{"", "admin", "Admin", "BOSS", " ADMIN", "ADMIN ", 1, nil, []byte("ADMIN")} {
		got := Role("UNCHANGED")
		if err := got.UnmarshalGQL(v); err == nil {
			t.Errorf("UnmarshalGQL(%#v) accepted as %q", v, got)
		}
		if got != "UNCHANGED" {
			t.Errorf("UnmarshalGQL(%#v) refused but set %q", v, got)
		}
	}
}

func TestMarshalGQL(t *testing.T) {
	var b bytes.Buffer
	Purchaser.MarshalGQL(&b)
	if b.String() != `"PURCHASER"` {
		t.Errorf("MarshalGQL = %s", b.String())
	}
}

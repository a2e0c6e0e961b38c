package server_test

import (
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// Every kind of change reaches at least one consequence: a kind announced
// to nobody would be a cache never invalidated or a push never sent.
func TestEveryKindOfChangeHasAConsequence(t *testing.T) {
	// With the response cache on, as by default (RESPONSE_CACHE): it is
	// the catalogue's changes' consequence, and without it there is none.
	m := servertest.Start(t, testdb.Open(t, "sqlite"), servertest.Options{ResponseCache: 1})
	if kinds := m.Server.Changes.Unhandled(); len(kinds) > 0 {
		t.Fatalf("no handler is registered for %q", kinds)
	}
}

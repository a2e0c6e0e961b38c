package account_test

import (
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// A revocation holds on every instance by the time it answers: right
// after a logout (or a password change) answered on one instance, the
// revoked token is refused on another, which had it in its cache. (Before,
// the other instances heard of it on the next NOTIFY flush, up to 50 ms
// and more later, and served the token meanwhile.)
func TestRevocationHoldsOnEveryInstanceWhenItAnswers(t *testing.T) {
	d := testdb.Open(t, "postgres")
	one := servertest.Start(t, d, servertest.Options{})
	two := servertest.StartOwnPool(t, d, servertest.Options{})
	three := servertest.StartOwnPool(t, d, servertest.Options{})
	mem := one.Register("退出")
	for round := range 10 {
		kept := one.Login(mem.Phone, mem.Password)
		revoked := one.Login(mem.Phone, mem.Password)
		for _, m := range []*servertest.Mall{two, three} { // cached there
			if meID(t, m, revoked) != mem.ID {
				t.Fatalf("round %d: the token does not work on another instance", round)
			}
		}
		if round%2 == 0 {
			one.MustDo(revoked, `mutation { logout }`, nil, nil)
		} else {
			password := mem.Password + "!"
			one.MustDo(kept, changePasswordQ, changeVars(mem.Password, password), nil)
			mem.Password = password
		}
		for i, m := range []*servertest.Mall{two, three} {
			if id := meID(t, m, revoked); id != "" {
				t.Fatalf("round %d: instance %d still serves the revoked token as %s", round, i+2, id)
			}
		}
		if meID(t, two, kept) != mem.ID {
			t.Fatalf("round %d: the token that was kept stopped working", round)
		}
	}
}

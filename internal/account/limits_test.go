package account_test

import (
	"sync"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// Failed sign-ins are counted before the password is hashed, in the
// database: a parallel burst is limited like a sequential one, and the
// count holds across instances (default: 5 per phone). changePassword's
// oldPassword is limited the same way, per member.
func TestSignInLimitsCountBeforeHashingAcrossInstances(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		one := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		two := servertest.StartOwnPool(t, d, servertest.Options{NoWorkers: true})
		tokens := func(id string) int {
			return d.Int(t, `SELECT COUNT(*) FROM auth_tokens WHERE member_id = ?`, id)
		}

		t.Run("a parallel burst", func(t *testing.T) {
			mem := one.Register("并发")
			before := tokens(mem.ID)
			const n = 60
			codes := make([]string, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					m := one
					if i%2 == 1 {
						m = two
					}
					codes[i] = m.Do("", loginQ, loginVars(mem.Phone, "wrong-password")).Code()
				}()
			}
			wg.Wait()
			count := map[string]int{}
			for _, c := range codes {
				count[c]++
			}
			if count["INVALID_CREDENTIALS"] != 5 || count["RATE_LIMITED"] != n-5 {
				t.Fatalf("%d parallel wrong passwords over two instances: %v; want 5 INVALID_CREDENTIALS and %d RATE_LIMITED", n, count, n-5)
			}
			wantCode(t, one.Do("", loginQ, loginVars(mem.Phone, mem.Password)), "RATE_LIMITED", "the right password after the burst")
			if got := tokens(mem.ID); got != before {
				t.Fatalf("tokens %d after refused sign-ins, want %d", got, before)
			}
		})

		t.Run("five on one instance, the sixth on another", func(t *testing.T) {
			mem := one.Register("两台")
			for range 5 {
				wantCode(t, one.Do("", loginQ, loginVars(mem.Phone, "wrong-password")), "INVALID_CREDENTIALS", "failure on instance 1")
			}
			wantCode(t, two.Do("", loginQ, loginVars(mem.Phone, "wrong-password")), "RATE_LIMITED", "6th failure, on instance 2")
			wantCode(t, two.Do("", loginQ, loginVars(mem.Phone, mem.Password)), "RATE_LIMITED", "the right password on instance 2")
			wantCode(t, one.Do("", loginQ, loginVars(mem.Phone, mem.Password)), "RATE_LIMITED", "the right password on instance 1")
		})

		t.Run("changePassword's old password", func(t *testing.T) {
			mem := one.Register("改密")
			hash := func() string {
				var h string
				if err := d.Pool.QueryRow(d.Q(`SELECT password_hash FROM members WHERE id = ?`), mem.ID).Scan(&h); err != nil {
					t.Fatal(err)
				}
				return h
			}
			other := one.Login(mem.Phone, mem.Password)
			before, beforeTokens := hash(), tokens(mem.ID)
			for i := range 5 {
				m := []*servertest.Mall{one, two}[i%2]
				wantCode(t, m.Do(mem.Token, changePasswordQ, changeVars("wrong-password", "new-password-1")),
					"INVALID_CREDENTIALS", "wrong old password")
			}
			wantCode(t, two.Do(mem.Token, changePasswordQ, changeVars("wrong-password", "new-password-1")),
				"RATE_LIMITED", "6th wrong old password")
			wantCode(t, one.Do(mem.Token, changePasswordQ, changeVars(mem.Password, "new-password-1")),
				"RATE_LIMITED", "the right old password after 5 wrong ones")
			if hash() != before || tokens(mem.ID) != beforeTokens || meID(t, one, other) != mem.ID {
				t.Fatal("a refused changePassword changed the password or revoked tokens")
			}
			// Sign-ins are a bucket of their own: the old password still works.
			if tok := one.Login(mem.Phone, mem.Password); meID(t, two, tok) != mem.ID {
				t.Fatal("the old password no longer signs in")
			}
		})

		t.Run("a success gives its attempts back", func(t *testing.T) {
			// account.Login empties the phone's bucket on success (and
			// refunds the address's attempt): after 4 failures and a
			// success, 5 more failures are allowed, the 6th is refused.
			mem := one.Register("成功")
			for range 4 {
				wantCode(t, one.Do("", loginQ, loginVars(mem.Phone, "wrong-password")), "INVALID_CREDENTIALS", "failure before the success")
			}
			if tok := two.Login(mem.Phone, mem.Password); meID(t, one, tok) != mem.ID {
				t.Fatal("the success's token does not work")
			}
			for i := range 5 {
				m := []*servertest.Mall{one, two}[i%2]
				wantCode(t, m.Do("", loginQ, loginVars(mem.Phone, "wrong-password")), "INVALID_CREDENTIALS", "failure after the success")
			}
			wantCode(t, one.Do("", loginQ, loginVars(mem.Phone, "wrong-password")), "RATE_LIMITED", "6th failure after the success")
			wantCode(t, two.Do("", loginQ, loginVars(mem.Phone, mem.Password)), "RATE_LIMITED", "the right password then")
		})
	})
}

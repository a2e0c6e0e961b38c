package account_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// signIn is a login's answer: its token, or the code it was refused with.
type signIn struct{ token, code string }

func login(m *servertest.Mall, phone, password string) signIn {
	r := m.Do("", loginQ, loginVars(phone, password))
	if len(r.Errors) > 0 {
		return signIn{code: r.Code()}
	}
	var out struct{ Login authPayload }
	if err := json.Unmarshal(r.Data, &out); err != nil {
		return signIn{code: "undecodable: " + err.Error()}
	}
	return signIn{token: out.Login.Token}
}

// noTokenSurvives checks the end of a sign-in with the old password that
// raced a password change: refused as INVALID_CREDENTIALS, or its token
// dead; the change applied and the new password signs in (and, with
// oldRefused, the old one not: a counted failure, so not in loops).
func noTokenSurvives(t *testing.T, m *servertest.Mall, mem servertest.Member, in signIn, change *servertest.Response, newPassword string, oldRefused bool) {
	t.Helper()
	if len(change.Errors) > 0 {
		t.Fatalf("changePassword: %+v", change.Errors)
	}
	switch {
	case in.code == "INVALID_CREDENTIALS":
	case in.code != "":
		t.Fatalf("the racing login: code %q, want a token or INVALID_CREDENTIALS", in.code)
	default:
		if id := meID(t, m, in.token); id != "" {
			t.Fatalf("the login with the old password kept a working token (me = %s) after the password change", id)
		}
	}
	if got := login(m, mem.Phone, newPassword); got.token == "" || meID(t, m, got.token) != mem.ID {
		t.Fatalf("the new password does not sign in: %+v", got)
	}
	if !oldRefused {
		return
	}
	if got := login(m, mem.Phone, mem.Password); got.code != "INVALID_CREDENTIALS" {
		t.Fatalf("the old password after the change: %+v, want INVALID_CREDENTIALS", got)
	}
}

// A sign-in that checked the old password while a password change
// committed keeps no token. On PostgreSQL deterministically, with row
// locks the test holds on the member on two connections of its own:
//
//  1. first holds the row FOR UPDATE; the change (HTTP, another token of
//     the member) blocks on it;
//  2. second asks FOR UPDATE too and queues behind the change;
//  3. the login with the old password (past its password check) queues
//     behind both;
//  4. first commits: the change applies and answers while the login
//     still waits behind second;
//  5. second commits: the login goes on, after the change committed.
//
// Step 2 is what makes it deterministic on the old code too: there the
// login's only wait is its token INSERT's foreign-key check (FOR KEY
// SHARE), which does not conflict with the change's non-key UPDATE, so
// with one holder the login was let through at the change's UPDATE and
// committed before the change's DELETE of the other tokens, which then
// removed it.
func TestSignInRacingPasswordChangeKeepsNoToken(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		if !d.Postgres() {
			t.Skip("the deterministic interleaving needs PostgreSQL's row locks; see TestSignInRacingPasswordChangeRepeated")
		}
		mem := m.Register("锁行")
		other := m.Login(mem.Phone, mem.Password)

		const lockRow = `SELECT id FROM members WHERE id = $1 FOR UPDATE`
		first := d.Hold(t, lockRow, mem.ID)
		const newPassword = "new-password-race"
		var (
			change   *servertest.Response
			in       signIn
			changed  = make(chan struct{})
			signedIn = make(chan struct{})
			queued   = make(chan *testdb.Holder, 1)
		)
		go func() {
			defer close(changed)
			change = m.Do(other, changePasswordQ, changeVars(mem.Password, newPassword))
		}()
		first.AwaitQueued(1, "changePassword")
		go func() { queued <- d.Hold(t, lockRow, mem.ID) }()
		first.AwaitQueued(2, "the test's second lock")
		go func() {
			defer close(signedIn)
			in = login(m, mem.Phone, mem.Password)
		}()
		first.AwaitQueued(3, "login")
		first.Release()
		<-changed
		second := <-queued
		if n := second.Queued(); n != 1 {
			t.Fatalf("%d backends wait for the test's second lock once the change answered, want the login", n)
		}
		second.Release()
		<-signedIn
		noTokenSurvives(t, m, mem, in, change, newPassword, true)
	})
}

// The same race left to the scheduler, many times (SQLite serializes
// writers, so no interleaving can be forced there): whichever way each
// goes, no token for the old password survives.
func TestSignInRacingPasswordChangeRepeated(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		for i := range 20 {
			mem := m.Register(fmt.Sprint("竞争", i))
			other := m.Login(mem.Phone, mem.Password)
			newPassword := fmt.Sprint("new-password-", i)
			var (
				wg     sync.WaitGroup
				change *servertest.Response
				in     signIn
			)
			wg.Add(2)
			go func() {
				defer wg.Done()
				change = m.Do(other, changePasswordQ, changeVars(mem.Password, newPassword))
			}()
			go func() {
				defer wg.Done()
				in = login(m, mem.Phone, mem.Password)
			}()
			wg.Wait()
			noTokenSurvives(t, m, mem, in, change, newPassword, false)
		}
	})
}

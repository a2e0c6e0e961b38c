package account_test

import (
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// Refusals of registration, sign-in and real-name submission that are not
// plain input errors.
func TestAccountRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		first := m.Register("先来")

		t.Run("phone taken", func(t *testing.T) {
			n := servertest.Rows(t, d, "members")
			r := m.Do("", servertest.RegisterQ, map[string]any{"i": map[string]any{
				"phone": first.Phone, "password": "another-password", "displayName": "后到"}})
			servertest.WantCode(t, r, "PHONE_TAKEN")
			if servertest.Rows(t, d, "members") != n {
				t.Fatal("a member was created")
			}
			// The first member's password still works, the second's does not.
			m.Login(first.Phone, first.Password)
			servertest.WantCode(t, m.Do("", servertest.LoginQ, map[string]any{"i": map[string]any{
				"phone": first.Phone, "password": "another-password"}}), "INVALID_CREDENTIALS")
		})

		t.Run("invalid credentials", func(t *testing.T) {
			tokens := servertest.Rows(t, d, "auth_tokens")
			login := func(phone, password string) *servertest.Response {
				return m.Do("", servertest.LoginQ, map[string]any{"i": map[string]any{"phone": phone, "password": password}})
			}
			wrong := login(first.Phone, "not-the-password")
			unknown := login("13899999999", "not-the-password")
			malformed := login("12", "not-the-password")
			for _, r := range []*servertest.Response{wrong, unknown, malformed} {
				servertest.WantCode(t, r, "INVALID_CREDENTIALS")
				if string(r.Data) != "null" {
					t.Fatalf("data %s", r.Data)
				}
			}
			if wrong.Errors[0].Message != unknown.Errors[0].Message || wrong.Errors[0].Message != malformed.Errors[0].Message {
				t.Fatalf("messages differ: %q / %q / %q", wrong.Errors[0].Message, unknown.Errors[0].Message, malformed.Errors[0].Message)
			}
			if len(wrong.Errors[0].Extensions) != len(unknown.Errors[0].Extensions) {
				t.Fatalf("extensions differ: %v / %v", wrong.Errors[0].Extensions, unknown.Errors[0].Extensions)
			}
			if servertest.Rows(t, d, "auth_tokens") != tokens {
				t.Fatal("a refused login issued a token")
			}
		})

		t.Run("identity number of another member", func(t *testing.T) {
			id := servertest.NextIDNumber()
			owner := m.Register("本人")
			servertest.MustDo(t, m, owner.Token, servertest.SubmitRealNameQ, servertest.RealNameVars("本人", id), nil)
			other := m.Register("冒用")
			r := m.Do(other.Token, servertest.SubmitRealNameQ, servertest.RealNameVars("冒用", id))
			servertest.WantCode(t, r, "BAD_USER_INPUT")
			var me struct {
				Me struct{ VerificationStatus string }
			}
			servertest.MustDo(t, m, other.Token, servertest.MeQ, nil, &me)
			if me.Me.VerificationStatus != "UNVERIFIED" {
				t.Fatalf("the other member: %+v", me.Me)
			}
			// A lower-case x or spaces make it no other number.
			if id[17] == 'X' {
				servertest.WantCode(t, m.Do(other.Token, servertest.SubmitRealNameQ, servertest.RealNameVars("冒用", " "+id[:17]+"x ")), "BAD_USER_INPUT")
			}
			// Once verified, still taken.
			servertest.MustDo(t, m, m.Admin, servertest.ReviewQ, map[string]any{"i": map[string]any{"memberIDs": []string{owner.ID}, "approve": true}}, nil)
			servertest.WantCode(t, m.Do(other.Token, servertest.SubmitRealNameQ, servertest.RealNameVars("冒用", id)), "BAD_USER_INPUT")
			if n := d.Int(t, `SELECT COUNT(*) FROM members WHERE verification_status <> 'UNVERIFIED'`); n != 1 {
				t.Fatalf("%d members submitted", n)
			}
		})
	})
}

package account_test

import (
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

func passwordHash(t testing.TB, d *testdb.DB, memberID string) string {
	t.Helper()
	var h string
	if err := d.Pool.QueryRow(d.Q(`SELECT password_hash FROM members WHERE id = ?`), memberID).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestLogout(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		mem := m.Register("会员")
		other := m.Login(mem.Phone, mem.Password)
		tokens := servertest.Rows(t, d, "auth_tokens")

		var out struct{ Logout bool }
		servertest.MustDo(t, m, mem.Token, `mutation { logout }`, nil, &out)
		if !out.Logout || servertest.Rows(t, d, "auth_tokens") != tokens-1 {
			t.Fatalf("logout: %v, tokens %d → %d", out.Logout, tokens, servertest.Rows(t, d, "auth_tokens"))
		}
		if id := servertest.MeID(t, m, mem.Token); id != "" {
			t.Fatalf("me after logout: %s", id)
		}
		servertest.WantCode(t, m.Do(mem.Token, `mutation { logout }`, nil), "UNAUTHENTICATED")
		servertest.WantCode(t, m.Do(mem.Token, servertest.ChangePasswordQ, map[string]any{"i": map[string]any{
			"oldPassword": mem.Password, "newPassword": "a-new-password"}}), "UNAUTHENTICATED")
		servertest.WantCode(t, m.Do(mem.Token, servertest.SubmitRealNameQ, servertest.RealNameVars("张三", servertest.NextIDNumber())), "UNAUTHENTICATED")
		// Only that token: the member's other session goes on.
		if id := servertest.MeID(t, m, other); id != mem.ID {
			t.Fatalf("the other token after logout: me = %q", id)
		}
		// Signing in again works.
		if id := servertest.MeID(t, m, m.Login(mem.Phone, mem.Password)); id != mem.ID {
			t.Fatalf("after signing in again: me = %q", id)
		}
	})
}

func TestChangePassword(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		mem := m.Register("会员")
		bystander := m.Register("旁人")
		second := m.Login(mem.Phone, mem.Password)
		const newPassword = "a-brand-new-password"

		t.Run("refused", func(t *testing.T) {
			hash, tokens := passwordHash(t, d, mem.ID), servertest.Rows(t, d, "auth_tokens")
			for _, c := range []struct {
				old, new, code string
			}{
				{"not-the-password", newPassword, "INVALID_CREDENTIALS"},
				{"", newPassword, "INVALID_CREDENTIALS"},
				{mem.Password, "short", "BAD_USER_INPUT"},
				{"not-the-password", "short", "BAD_USER_INPUT"},
			} {
				r := m.Do(mem.Token, servertest.ChangePasswordQ, map[string]any{"i": map[string]any{"oldPassword": c.old, "newPassword": c.new}})
				servertest.WantCode(t, r, c.code)
				if passwordHash(t, d, mem.ID) != hash || servertest.Rows(t, d, "auth_tokens") != tokens {
					t.Fatalf("%+v: the password or the tokens changed", c)
				}
			}
			if servertest.MeID(t, m, second) != mem.ID || servertest.MeID(t, m, mem.Token) != mem.ID {
				t.Fatal("a refused change signed the member out")
			}
			m.Login(mem.Phone, mem.Password)
		})

		t.Run("accepted", func(t *testing.T) {
			var out struct{ ChangePassword bool }
			servertest.MustDo(t, m, mem.Token, servertest.ChangePasswordQ, map[string]any{"i": map[string]any{
				"oldPassword": mem.Password, "newPassword": newPassword}}, &out)
			if !out.ChangePassword {
				t.Fatal("changePassword returned false")
			}
			if servertest.MeID(t, m, mem.Token) != mem.ID {
				t.Fatal("the calling token stopped working")
			}
			if id := servertest.MeID(t, m, second); id != "" {
				t.Fatalf("the member's other token still works: me = %q", id)
			}
			if n := d.Int(t, `SELECT COUNT(*) FROM auth_tokens WHERE member_id = ?`, mem.ID); n != 1 {
				t.Fatalf("the member has %d tokens, want only the calling one", n)
			}
			if servertest.MeID(t, m, bystander.Token) != bystander.ID {
				t.Fatal("another member's token was revoked")
			}
			servertest.WantCode(t, m.Do("", servertest.LoginQ, map[string]any{"i": map[string]any{"phone": mem.Phone, "password": mem.Password}}),
				"INVALID_CREDENTIALS")
			if servertest.MeID(t, m, m.Login(mem.Phone, newPassword)) != mem.ID {
				t.Fatal("the new password does not sign in")
			}
		})
	})
}

// registerMember and login show the member's own phone in full, and their
// tokens work at once.
func TestSignInPayload(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		phone := servertest.NextPhone()
		const q = `{ token member { id phone roles verificationStatus realName } }`
		type payload struct {
			Token  string
			Member struct {
				ID, Phone, VerificationStatus string
				Roles                         []string
				RealName                      *string
			}
		}
		var reg struct{ RegisterMember payload }
		servertest.MustDo(t, m, "", `mutation($i: RegisterMemberInput!) { registerMember(input: $i) `+q+` }`,
			map[string]any{"i": map[string]any{"phone": phone, "password": "password-one", "displayName": "新人"}}, &reg)
		var login struct{ Login payload }
		servertest.MustDo(t, m, "", `mutation($i: LoginInput!) { login(input: $i) `+q+` }`,
			map[string]any{"i": map[string]any{"phone": phone, "password": "password-one"}}, &login)
		for _, p := range []payload{reg.RegisterMember, login.Login} {
			if p.Member.Phone != phone || p.Member.ID == "" || p.Member.VerificationStatus != "UNVERIFIED" ||
				len(p.Member.Roles) != 1 || p.Member.Roles[0] != "MEMBER" || p.Member.RealName != nil {
				t.Fatalf("payload member: %+v", p.Member)
			}
			if len(p.Token) < 22 || servertest.MeID(t, m, p.Token) != p.Member.ID {
				t.Fatalf("token %q", p.Token)
			}
		}
		if reg.RegisterMember.Token == login.Login.Token {
			t.Fatal("login returned the registration's token")
		}
		// The tokens themselves are not stored.
		if n := d.Int(t, `SELECT COUNT(*) FROM auth_tokens WHERE CAST(token_hash AS TEXT) = ?`, login.Login.Token); n != 0 {
			t.Fatal("a token is stored in the clear")
		}
	})
}

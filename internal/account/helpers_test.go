package account_test

import (
	"testing"

	"unionmall/internal/servertest"
)

const (
	loginQ          = `mutation($i: LoginInput!) { login(input: $i) { token member { id } } }`
	changePasswordQ = `mutation($i: ChangePasswordInput!) { changePassword(input: $i) }`
)

func loginVars(phone, password string) map[string]any {
	return map[string]any{"i": map[string]any{"phone": phone, "password": password}}
}

func changeVars(oldPassword, newPassword string) map[string]any {
	return map[string]any{"i": map[string]any{"oldPassword": oldPassword, "newPassword": newPassword}}
}

// wantCode fails unless the response's first error carries the code.
func wantCode(t *testing.T, r *servertest.Response, code, what string) {
	t.Helper()
	if r.Code() != code {
		t.Fatalf("%s: code %q, want %q; errors %+v, data %s", what, r.Code(), code, r.Errors, r.Data)
	}
}

// meID is the member a token stands for over HTTP, "" when none.
func meID(t *testing.T, m *servertest.Mall, token string) string {
	t.Helper()
	var out struct{ Me *struct{ ID string } }
	r := m.Do(token, `{ me { id } }`, nil)
	if len(r.Errors) > 0 {
		return ""
	}
	r.Decode(t, &out)
	if out.Me == nil {
		return ""
	}
	return out.Me.ID
}

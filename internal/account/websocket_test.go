package account_test

import (
	"encoding/json"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

const (
	wsLoginQ    = `mutation($i: LoginInput!) { login(input: $i) { token member { id } } }`
	wsRegisterQ = `mutation($i: RegisterMemberInput!) { registerMember(input: $i) { token member { id } } }`
	wsMeQ       = `{ me { id } }`
	wsGrantQ    = `mutation($i: GrantRoleInput!) { grantRole(input: $i) { id roles } }`
)

// authPayload is what login and registerMember answer.
type authPayload struct {
	Token  string
	Member struct{ ID string }
}

var wsProtocols = []string{servertest.TransportWS, servertest.LegacyWS}

// wsDial opens a websocket, signed in with token ("" for anonymous).
func wsDial(t *testing.T, m *servertest.Mall, proto, token string) *servertest.WS {
	t.Helper()
	var init map[string]any
	if token != "" {
		init = map[string]any{"Authorization": "Bearer " + token}
	}
	ws, err := servertest.DialWS(m.HTTP.URL, proto, init)
	if err != nil {
		t.Fatalf("dial %s: %v", proto, err)
	}
	t.Cleanup(ws.Close)
	return ws
}

func wsDo(t *testing.T, ws *servertest.WS, q string, vars map[string]any) *servertest.Result {
	t.Helper()
	r, err := ws.Do(q, vars)
	if err != nil {
		t.Fatalf("%s over %s: %v", q, ws.Protocol, err)
	}
	return r
}

// wsMe is the member the connection acts as ("" for none) and the code it
// was refused with.
func wsMe(t *testing.T, ws *servertest.WS) (id, code string) {
	t.Helper()
	r := wsDo(t, ws, wsMeQ, nil)
	if len(r.Errors) > 0 {
		return "", r.Code()
	}
	var out struct{ Me *struct{ ID string } }
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatalf("me: %s: %v", r.Data, err)
	}
	if out.Me == nil {
		return "", ""
	}
	return out.Me.ID, ""
}

// Signing in over a websocket gives the connection no rights: the
// operation answers with a token, but the connection stays what its
// connection_init made it (anonymous here). The contract: "signing in over
// a websocket gives that connection no rights (use HTTP and reconnect with
// the token)".
func TestWebsocketSignInGivesTheConnectionNoRights(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		for _, proto := range wsProtocols {
			for _, tt := range []struct {
				name string
				op   func(t *testing.T, ws *servertest.WS) (token, memberID string)
			}{
				{"login", func(t *testing.T, ws *servertest.WS) (string, string) {
					mem := m.Verified("网登")
					r := wsDo(t, ws, wsLoginQ, map[string]any{"i": map[string]any{"phone": mem.Phone, "password": mem.Password}})
					var out struct{ Login authPayload }
					if len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil {
						t.Fatalf("login over the websocket: %s %+v", r.Data, r.Errors)
					}
					return out.Login.Token, out.Login.Member.ID
				}},
				{"registerMember", func(t *testing.T, ws *servertest.WS) (string, string) {
					r := wsDo(t, ws, wsRegisterQ, map[string]any{"i": map[string]any{
						"phone": servertest.NextPhone(), "password": "password-ws", "displayName": "网注"}})
					var out struct{ RegisterMember authPayload }
					if len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil {
						t.Fatalf("registerMember over the websocket: %s %+v", r.Data, r.Errors)
					}
					return out.RegisterMember.Token, out.RegisterMember.Member.ID
				}},
			} {
				t.Run(proto+"/"+tt.name, func(t *testing.T) {
					ws := wsDial(t, m, proto, "")
					token, id := tt.op(t, ws)
					if token == "" || id == "" {
						t.Fatalf("the operation returned token %q, member %q", token, id)
					}
					if got, code := wsMe(t, ws); got != "" || code != "" {
						t.Fatalf("me on the same socket after %s: %q (code %q), want null", tt.name, got, code)
					}
					for _, q := range []string{`{ myOrders { totalCount } }`, `{ myCoupons { id } }`} {
						if r := wsDo(t, ws, q, nil); r.Code() != "UNAUTHENTICATED" {
							t.Fatalf("%s on the same socket after %s: code %q, data %s; want UNAUTHENTICATED", q, tt.name, r.Code(), r.Data)
						}
					}
					// The token works where it belongs: over HTTP, and on a
					// connection opened with it.
					var me struct{ Me *struct{ ID string } }
					m.MustDo(token, wsMeQ, nil, &me)
					if me.Me == nil || me.Me.ID != id {
						t.Fatalf("the token over HTTP: me = %+v, want %s", me.Me, id)
					}
					if got, _ := wsMe(t, wsDial(t, m, proto, token)); got != id {
						t.Fatalf("a socket opened with the token: me = %q, want %s", got, id)
					}
				})
			}

			// An ADMIN's password over an anonymous socket, or over a
			// member's: grantRole on that socket is refused afterwards,
			// and writes nothing.
			for _, as := range []string{"anonymous", "member"} {
				t.Run(proto+"/admin login on a "+as+" socket then grantRole", func(t *testing.T) {
					target := m.Verified("目标")
					token, want, code := "", "", "UNAUTHENTICATED"
					if as == "member" {
						token, want, code = target.Token, target.ID, "FORBIDDEN"
					}
					ws := wsDial(t, m, proto, token)
					r := wsDo(t, ws, wsLoginQ, map[string]any{"i": map[string]any{
						"phone": servertest.AdminPhone, "password": servertest.AdminPassword}})
					if len(r.Errors) > 0 {
						t.Fatalf("admin login over the websocket: %+v", r.Errors)
					}
					if got, c := wsMe(t, ws); got != want || c != "" {
						t.Errorf("me after the admin login: %q (code %q), want %q", got, c, want)
					}
					r = wsDo(t, ws, wsGrantQ, map[string]any{"i": map[string]any{"memberID": target.ID, "role": "ADMIN"}})
					if r.Code() != code {
						t.Fatalf("grantRole over the socket after an admin login on it: code %q, data %s; want %s", r.Code(), r.Data, code)
					}
					var out struct {
						Node struct{ Roles []string }
					}
					m.MustDo(m.Admin, `query($id: ID!) { node(id: $id) { ... on Member { roles } } }`, map[string]any{"id": target.ID}, &out)
					if len(out.Node.Roles) != 1 || out.Node.Roles[0] != "MEMBER" {
						t.Fatalf("roles after the refused grantRole: %v, want [MEMBER]", out.Node.Roles)
					}
				})
			}
		}
	})
}

// A socket opened with a member's token never holds rights that token no
// longer has: after a logout, or a password change made with another
// token, both over HTTP, the socket's next operation is UNAUTHENTICATED.
// On PostgreSQL also when the socket is on another instance (its own
// pool and token cache) than the HTTP request.
func TestWebsocketLosesRevokedToken(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		instances := []struct {
			name string
			m    *servertest.Mall
		}{{"same instance", m}}
		if d.Postgres() {
			other := servertest.StartOwnPool(t, d, servertest.Options{})
			instances = append(instances, struct {
				name string
				m    *servertest.Mall
			}{"other instance", other})
		}
		for _, in := range instances {
			for _, proto := range wsProtocols {
				for _, tt := range []struct {
					name   string
					revoke func(t *testing.T, mem servertest.Member)
				}{
					{"logout", func(t *testing.T, mem servertest.Member) {
						m.MustDo(mem.Token, `mutation { logout }`, nil, nil)
					}},
					{"changePassword with another token", func(t *testing.T, mem servertest.Member) {
						other := m.Login(mem.Phone, mem.Password)
						m.MustDo(other, `mutation($i: ChangePasswordInput!) { changePassword(input: $i) }`,
							map[string]any{"i": map[string]any{"oldPassword": mem.Password, "newPassword": "new-password-ws"}}, nil)
					}},
				} {
					t.Run(in.name+"/"+proto+"/"+tt.name, func(t *testing.T) {
						mem := m.Verified("撤销")
						ws := wsDial(t, in.m, proto, mem.Token)
						if got, code := wsMe(t, ws); got != mem.ID {
							t.Fatalf("before: me = %q (code %q), want %s", got, code, mem.ID)
						}
						tt.revoke(t, mem)
						if got, code := wsMe(t, ws); code != "UNAUTHENTICATED" {
							t.Fatalf("me on the socket after %s: %q, code %q; want UNAUTHENTICATED", tt.name, got, code)
						}
					})
				}
			}
		}
	})
}

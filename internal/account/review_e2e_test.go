package account_test

import (
	"slices"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

func statusOf(t testing.TB, d *testdb.DB, memberID string) string {
	t.Helper()
	var s string
	if err := d.Pool.QueryRow(d.Q(`SELECT verification_status FROM members WHERE id = ?`), memberID).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func review(ids []string, approve bool, reason any) map[string]any {
	in := map[string]any{"memberIDs": ids, "approve": approve}
	if reason != nil {
		in["reason"] = reason
	}
	return map[string]any{"i": in}
}

// Real-name review is all or nothing: an unknown member (NOT_FOUND) or one
// that is not PENDING (INVALID_STATE) refuses the whole batch.
func TestReviewRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		pending := m.Register("待审")
		servertest.MustDo(t, m, pending.Token, servertest.SubmitRealNameQ, servertest.RealNameVars("待审", servertest.NextIDNumber()), nil)
		pending2 := m.Register("待审二")
		servertest.MustDo(t, m, pending2.Token, servertest.SubmitRealNameQ, servertest.RealNameVars("待审二", servertest.NextIDNumber()), nil)
		unverified := m.Register("未提交")
		verified := m.Verified("已认证")
		state := func() []string {
			return []string{statusOf(t, d, pending.ID), statusOf(t, d, pending2.ID),
				statusOf(t, d, unverified.ID), statusOf(t, d, verified.ID)}
		}
		want := []string{"PENDING", "PENDING", "UNVERIFIED", "VERIFIED"}
		if got := state(); !slices.Equal(got, want) {
			t.Fatalf("fixture: %v", got)
		}
		unknown := "mem_01JD5Z8Q5V8N4W3X2Y1Z0A9B8C"

		for _, c := range []struct {
			name string
			vars map[string]any
			code string
		}{
			{"unknown member", review([]string{pending.ID, unknown}, true, nil), "NOT_FOUND"},
			{"unknown member first", review([]string{unknown, pending.ID, pending2.ID}, false, "x"), "NOT_FOUND"},
			{"malformed member ID", review([]string{pending.ID, "nope"}, true, nil), "NOT_FOUND"},
			{"not a member's ID", review([]string{pending.ID, "prd" + pending2.ID[3:]}, true, nil), "NOT_FOUND"},
			{"never submitted", review([]string{pending.ID, unverified.ID}, true, nil), "INVALID_STATE"},
			{"never submitted, reject", review([]string{pending2.ID, unverified.ID}, false, "不清晰"), "INVALID_STATE"},
			{"verified already", review([]string{verified.ID}, true, nil), "INVALID_STATE"},
			{"verified, reject", review([]string{pending.ID, verified.ID}, false, nil), "INVALID_STATE"},
			{"no members", review([]string{}, true, nil), "BAD_USER_INPUT"},
			{"blank reason", review([]string{pending.ID}, false, "   "), "BAD_USER_INPUT"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := m.Do(m.Admin, servertest.ReviewQ, c.vars)
				servertest.WantCode(t, r, c.code)
				if string(r.Data) != "null" {
					t.Errorf("data %s", r.Data)
				}
				if got := state(); !slices.Equal(got, want) {
					t.Fatalf("state changed: %v", got)
				}
			})
		}

		// The same member twice in one batch counts once.
		var out struct {
			ReviewRealNameVerifications []struct{ ID, VerificationStatus string }
		}
		servertest.MustDo(t, m, m.Admin, servertest.ReviewQ, review([]string{pending2.ID, pending.ID, pending2.ID}, true, nil), &out)
		got := out.ReviewRealNameVerifications
		if len(got) != 2 || got[0].VerificationStatus != "VERIFIED" || got[1].VerificationStatus != "VERIFIED" ||
			statusOf(t, d, pending.ID) != "VERIFIED" || statusOf(t, d, pending2.ID) != "VERIFIED" {
			t.Fatalf("batch with a duplicate: %+v", got)
		}
		// A VERIFIED member cannot submit again.
		r := m.Do(verified.Token, servertest.SubmitRealNameQ, servertest.RealNameVars("改名", servertest.NextIDNumber()))
		servertest.WantCode(t, r, "INVALID_STATE")
		if statusOf(t, d, verified.ID) != "VERIFIED" {
			t.Fatal("the verified member changed")
		}
	})
}

// A rejection keeps the reason for the member and frees the identity
// number for its rightful owner.
func TestReviewRejection(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		id := servertest.NextIDNumber()
		impostor := m.Register("冒用者")
		servertest.MustDo(t, m, impostor.Token, servertest.SubmitRealNameQ, servertest.RealNameVars("冒用者", id), nil)
		owner := m.Register("本人")
		servertest.WantCode(t, m.Do(owner.Token, servertest.SubmitRealNameQ, servertest.RealNameVars("本人", id)), "BAD_USER_INPUT")

		const reason = "身份证号与姓名不符"
		var out struct {
			ReviewRealNameVerifications []struct{ ID, VerificationStatus string }
		}
		servertest.MustDo(t, m, m.Admin, servertest.ReviewQ, review([]string{impostor.ID}, false, reason), &out)
		if r := out.ReviewRealNameVerifications; len(r) != 1 || r[0].ID != impostor.ID || r[0].VerificationStatus != "REJECTED" {
			t.Fatalf("reject: %+v", r)
		}
		var me struct {
			Me struct {
				VerificationStatus string
				VerificationNote   *string
			}
		}
		servertest.MustDo(t, m, impostor.Token, servertest.MeQ, nil, &me)
		if me.Me.VerificationStatus != "REJECTED" || me.Me.VerificationNote == nil || *me.Me.VerificationNote != reason {
			t.Fatalf("the rejected member's me: %+v", me.Me)
		}
		// A rejected member is not in the review queue.
		var pending struct{ PendingVerifications struct{ TotalCount int } }
		servertest.MustDo(t, m, m.Admin, `{ pendingVerifications { totalCount } }`, nil, &pending)
		if pending.PendingVerifications.TotalCount != 0 {
			t.Fatalf("pending after rejection: %+v", pending)
		}

		// The rightful owner now submits the number and is approved.
		servertest.MustDo(t, m, owner.Token, servertest.SubmitRealNameQ, servertest.RealNameVars("本人", id), nil)
		servertest.MustDo(t, m, m.Admin, servertest.ReviewQ, review([]string{owner.ID}, true, nil), &out)
		if r := out.ReviewRealNameVerifications; len(r) != 1 || r[0].VerificationStatus != "VERIFIED" {
			t.Fatalf("approve the owner: %+v", r)
		}
		// The rejected member cannot take it back, but may submit their own.
		servertest.WantCode(t, m.Do(impostor.Token, servertest.SubmitRealNameQ, servertest.RealNameVars("冒用者", id)), "BAD_USER_INPUT")
		if statusOf(t, d, impostor.ID) != "REJECTED" {
			t.Fatal("the refused resubmission changed the member")
		}
		servertest.MustDo(t, m, impostor.Token, servertest.SubmitRealNameQ, servertest.RealNameVars("冒用者", servertest.NextIDNumber()), nil)
		servertest.MustDo(t, m, impostor.Token, servertest.MeQ, nil, &me)
		if me.Me.VerificationStatus != "PENDING" || me.Me.VerificationNote != nil {
			t.Fatalf("resubmitted after rejection: %+v", me.Me)
		}
		// Rejection without a reason leaves no note.
		servertest.MustDo(t, m, m.Admin, servertest.ReviewQ, review([]string{impostor.ID}, false, nil), nil)
		servertest.MustDo(t, m, impostor.Token, servertest.MeQ, nil, &me)
		if me.Me.VerificationStatus != "REJECTED" || me.Me.VerificationNote != nil {
			t.Fatalf("rejected without a reason: %+v", me.Me)
		}
	})
}

func TestGrantRole(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		mem := m.Verified("采购员")
		var unit, unit2 struct{ RegisterPurchasingUnit struct{ ID, Name string } }
		servertest.MustDo(t, m, m.Admin, servertest.RegisterUnitQ, map[string]any{"i": map[string]any{"name": "西安市总工会"}}, &unit)
		servertest.MustDo(t, m, m.Admin, servertest.RegisterUnitQ, map[string]any{"i": map[string]any{"name": "宝鸡市总工会"}}, &unit2)
		roles := func() (string, *string) {
			var r string
			var u *string
			if err := d.Pool.QueryRow(d.Q(`SELECT CAST(roles AS TEXT), purchasing_unit_id FROM members WHERE id = ?`), mem.ID).Scan(&r, &u); err != nil {
				t.Fatal(err)
			}
			return r, u
		}
		beforeRoles, beforeUnit := roles()
		if beforeUnit != nil {
			t.Fatal("fixture: member has a unit")
		}
		grant := func(memberID, role string, unitID any) map[string]any {
			in := map[string]any{"memberID": memberID, "role": role}
			if unitID != nil {
				in["purchasingUnitID"] = unitID
			}
			return map[string]any{"i": in}
		}
		for _, c := range []struct {
			name string
			vars map[string]any
			code string
		}{
			{"purchaser without a unit", grant(mem.ID, "PURCHASER", nil), "BAD_USER_INPUT"},
			{"purchaser of an unknown unit", grant(mem.ID, "PURCHASER", "pun_01JD5Z8Q5V8N4W3X2Y1Z0A9B8C"), "NOT_FOUND"},
			{"purchaser of a malformed unit", grant(mem.ID, "PURCHASER", "nope"), "NOT_FOUND"},
			{"admin with a unit", grant(mem.ID, "ADMIN", unit.RegisterPurchasingUnit.ID), "BAD_USER_INPUT"},
			{"unknown member", grant("mem_01JD5Z8Q5V8N4W3X2Y1Z0A9B8C", "PURCHASER", unit.RegisterPurchasingUnit.ID), "NOT_FOUND"},
			{"unknown role", grant(mem.ID, "SUPERUSER", nil), "GRAPHQL_VALIDATION_FAILED"},
		} {
			t.Run(c.name, func(t *testing.T) {
				servertest.WantCode(t, m.Do(m.Admin, servertest.GrantRoleQ, c.vars), c.code)
				if r, u := roles(); r != beforeRoles || u != nil {
					t.Fatalf("member changed: %s %v", r, u)
				}
			})
		}

		type granted struct {
			GrantRole struct {
				ID             string
				Roles          []string
				PurchasingUnit *struct{ ID, Name string }
			}
		}
		var out granted
		servertest.MustDo(t, m, m.Admin, servertest.GrantRoleQ, grant(mem.ID, "PURCHASER", unit.RegisterPurchasingUnit.ID), &out)
		g := out.GrantRole
		if g.ID != mem.ID || !slices.Equal(g.Roles, []string{"MEMBER", "PURCHASER"}) || g.PurchasingUnit == nil ||
			g.PurchasingUnit.ID != unit.RegisterPurchasingUnit.ID || g.PurchasingUnit.Name != "西安市总工会" {
			t.Fatalf("grant PURCHASER: %+v", g)
		}
		var me struct {
			Me struct {
				Roles          []string
				PurchasingUnit *struct{ ID string }
			}
		}
		servertest.MustDo(t, m, mem.Token, `{ me { roles purchasingUnit { id } } }`, nil, &me)
		if !slices.Equal(me.Me.Roles, []string{"MEMBER", "PURCHASER"}) || me.Me.PurchasingUnit == nil ||
			me.Me.PurchasingUnit.ID != unit.RegisterPurchasingUnit.ID {
			t.Fatalf("me after grant: %+v", me.Me)
		}
		// Granting again moves the purchaser to another unit; ADMIN keeps it.
		servertest.MustDo(t, m, m.Admin, servertest.GrantRoleQ, grant(mem.ID, "PURCHASER", unit2.RegisterPurchasingUnit.ID), &out)
		if out.GrantRole.PurchasingUnit == nil || out.GrantRole.PurchasingUnit.ID != unit2.RegisterPurchasingUnit.ID ||
			!slices.Equal(out.GrantRole.Roles, []string{"MEMBER", "PURCHASER"}) {
			t.Fatalf("move: %+v", out.GrantRole)
		}
		servertest.MustDo(t, m, m.Admin, servertest.GrantRoleQ, grant(mem.ID, "ADMIN", nil), &out)
		if !slices.Equal(out.GrantRole.Roles, []string{"MEMBER", "PURCHASER", "ADMIN"}) || out.GrantRole.PurchasingUnit == nil {
			t.Fatalf("admin too: %+v", out.GrantRole)
		}
	})
}

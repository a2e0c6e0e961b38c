package account_test

import (
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// register → login → submit real name → admin approves → me is VERIFIED.
func TestRealNameFlow(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		mem := m.Register("李雷")
		token := m.Login(mem.Phone, mem.Password)

		var me struct {
			Me struct {
				ID                 string
				Phone              string
				VerificationStatus string
				RealName           *string
				Roles              []string
			}
		}
		const meQuery = `{ me { id phone verificationStatus realName roles } }`
		m.MustDo(token, meQuery, nil, &me)
		if me.Me.ID != mem.ID || me.Me.Phone != mem.Phone || me.Me.VerificationStatus != "UNVERIFIED" ||
			me.Me.RealName != nil || len(me.Me.Roles) != 1 || me.Me.Roles[0] != "MEMBER" {
			t.Fatalf("new member: %+v", me.Me)
		}

		idNumber := servertest.NextIDNumber()
		var sub struct {
			SubmitRealNameVerification struct {
				VerificationStatus string
				RealName           string
				IDNumberMasked     string
			}
		}
		m.MustDo(token, `mutation($i: RealNameInput!) {
			submitRealNameVerification(input: $i) { verificationStatus realName idNumberMasked } }`,
			map[string]any{"i": map[string]any{"realName": "李雷", "idNumber": idNumber}}, &sub)
		s := sub.SubmitRealNameVerification
		if s.VerificationStatus != "PENDING" || s.RealName != "李雷" ||
			s.IDNumberMasked != idNumber[:2]+"**************"+idNumber[16:] {
			t.Fatalf("after submission: %+v", s)
		}

		// The admin sees the member waiting, oldest first.
		var pending struct {
			PendingVerifications struct {
				TotalCount int
				Edges      []struct {
					Node struct{ ID, RealName, Phone string }
				}
			}
		}
		m.MustDo(m.Admin, `{ pendingVerifications { totalCount edges { node { id realName phone } } } }`, nil, &pending)
		if pending.PendingVerifications.TotalCount != 1 || pending.PendingVerifications.Edges[0].Node.ID != mem.ID ||
			pending.PendingVerifications.Edges[0].Node.Phone != mem.Phone {
			t.Fatalf("pending: %+v", pending)
		}

		var rev struct {
			ReviewRealNameVerifications []struct{ ID, VerificationStatus string }
		}
		m.MustDo(m.Admin, `mutation($ids: [ID!]!) {
			reviewRealNameVerifications(input: {memberIDs: $ids, approve: true}) { id verificationStatus } }`,
			map[string]any{"ids": []string{mem.ID}}, &rev)
		if len(rev.ReviewRealNameVerifications) != 1 || rev.ReviewRealNameVerifications[0].VerificationStatus != "VERIFIED" {
			t.Fatalf("review: %+v", rev)
		}
		m.MustDo(token, meQuery, nil, &me)
		if me.Me.VerificationStatus != "VERIFIED" || me.Me.RealName == nil || *me.Me.RealName != "李雷" {
			t.Fatalf("after approval: %+v", me.Me)
		}

		// The identity number is kept nowhere in full.
		if n := d.Int(t, `SELECT COUNT(*) FROM members WHERE id_number_hmac = ? OR id_number_masked = ? OR real_name = ?`,
			idNumber, idNumber, idNumber); n != 0 {
			t.Fatal("the full identity number is stored")
		}
	})
}

package account_test

import (
	"database/sql"
	"fmt"
	"sync"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

const (
	submitQ = `mutation($i: RealNameInput!) {
		submitRealNameVerification(input: $i) { id verificationStatus realName idNumberMasked } }`
	reviewQ = `mutation($i: ReviewVerificationInput!) {
		reviewRealNameVerifications(input: $i) { id verificationStatus realName idNumberMasked } }`
	pendingQ = `{ pendingVerifications(first: 100) { edges { node { id realName idNumberMasked } } } }`
)

type submission struct {
	ID, VerificationStatus, RealName, IDNumberMasked string
}

func submitVars(name, number string) map[string]any {
	return map[string]any{"i": map[string]any{"realName": name, "idNumber": number}}
}

func reviewVars(id string, approve bool) map[string]any {
	return map[string]any{"i": map[string]any{"memberIDs": []string{id}, "approve": approve}}
}

// verificationRow is the member's verification as stored.
type verificationRow struct {
	status, realName, masked string
	hmac                     []byte
}

func readVerification(t *testing.T, d *testdb.DB, id string) verificationRow {
	t.Helper()
	var r verificationRow
	var name, masked sql.NullString
	if err := d.Pool.QueryRow(d.Q(`SELECT verification_status, real_name, id_number_masked, id_number_hmac FROM members WHERE id = ?`), id).
		Scan(&r.status, &name, &masked, &r.hmac); err != nil {
		t.Fatal(err)
	}
	r.realName, r.masked = name.String, masked.String
	return r
}

func submit(t *testing.T, m *servertest.Mall, token, name, number string) submission {
	t.Helper()
	var out struct{ SubmitRealNameVerification submission }
	m.MustDo(token, submitQ, submitVars(name, number), &out)
	return out.SubmitRealNameVerification
}

// A PENDING submission cannot be replaced until it is reviewed, so an
// approval applies to what the reviewer was shown; a REJECTED member may
// submit again; of two submissions at once exactly one applies.
func TestPendingSubmissionCannotBeReplaced(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})

		t.Run("pending, then approved as shown", func(t *testing.T) {
			mem := m.Register("待审")
			a := submit(t, m, mem.Token, "张甲", servertest.NextIDNumber())
			var pending struct {
				PendingVerifications struct{ Edges []struct{ Node submission } }
			}
			m.MustDo(m.Admin, pendingQ, nil, &pending)
			var shown *submission
			for _, e := range pending.PendingVerifications.Edges {
				if e.Node.ID == mem.ID {
					shown = &e.Node
				}
			}
			if shown == nil || shown.RealName != "张甲" || shown.IDNumberMasked != a.IDNumberMasked {
				t.Fatalf("the reviewer is shown %+v, want 张甲 %s", shown, a.IDNumberMasked)
			}
			before := readVerification(t, d, mem.ID)

			r := m.Do(mem.Token, submitQ, submitVars("李乙", servertest.NextIDNumber()))
			wantCode(t, r, "INVALID_STATE", "a second submission while PENDING")
			if after := readVerification(t, d, mem.ID); after.status != "PENDING" || after.realName != "张甲" ||
				after.masked != a.IDNumberMasked || string(after.hmac) != string(before.hmac) {
				t.Fatalf("the refused submission was written: %+v, want %+v", after, before)
			}

			var out struct{ ReviewRealNameVerifications []submission }
			m.MustDo(m.Admin, reviewQ, reviewVars(mem.ID, true), &out)
			if got := out.ReviewRealNameVerifications; len(got) != 1 || got[0].VerificationStatus != "VERIFIED" ||
				got[0].RealName != "张甲" || got[0].IDNumberMasked != a.IDNumberMasked {
				t.Fatalf("approved %+v, want VERIFIED 张甲 %s", got, a.IDNumberMasked)
			}
		})

		t.Run("rejected may submit again", func(t *testing.T) {
			mem := m.Register("被拒")
			submit(t, m, mem.Token, "张甲", servertest.NextIDNumber())
			m.MustDo(m.Admin, reviewQ, reviewVars(mem.ID, false), nil)
			b := submit(t, m, mem.Token, "李乙", servertest.NextIDNumber())
			if row := readVerification(t, d, mem.ID); b.VerificationStatus != "PENDING" || row.status != "PENDING" ||
				row.realName != "李乙" || row.masked != b.IDNumberMasked {
				t.Fatalf("resubmission after rejection: answer %+v, row %+v", b, row)
			}
		})

		t.Run("two submissions at once", func(t *testing.T) {
			for i := range 5 {
				mem := m.Register(fmt.Sprint("同时", i))
				names := []string{"张甲", "李乙"}
				numbers := []string{servertest.NextIDNumber(), servertest.NextIDNumber()}
				res := make([]*servertest.Response, 2)
				var wg sync.WaitGroup
				for j := range 2 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						res[j] = m.Do(mem.Token, submitQ, submitVars(names[j], numbers[j]))
					}()
				}
				wg.Wait()
				won := -1
				for j, r := range res {
					switch r.Code() {
					case "":
						if won >= 0 {
							t.Fatalf("round %d: both submissions applied", i)
						}
						won = j
					case "INVALID_STATE":
					default:
						t.Fatalf("round %d: submission %d: %+v", i, j, r.Errors)
					}
				}
				if won < 0 {
					t.Fatalf("round %d: neither submission applied: %+v %+v", i, res[0].Errors, res[1].Errors)
				}
				var w struct{ SubmitRealNameVerification submission }
				res[won].Decode(t, &w)
				if row := readVerification(t, d, mem.ID); row.status != "PENDING" || row.realName != names[won] ||
					row.masked != w.SubmitRealNameVerification.IDNumberMasked {
					t.Fatalf("round %d: stored %+v, want the winner's (%s %s)", i, row, names[won], w.SubmitRealNameVerification.IDNumberMasked)
				}
			}
		})
	})
}

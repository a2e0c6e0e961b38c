package coupons_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"unionmall/ent"
	entcoupon "unionmall/ent/coupon"
	"unionmall/ent/member"
	"unionmall/internal/coupons"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/role"
	"unionmall/internal/testdb"
)

// The Go and the SQL form of each coupon rule select the same coupons: one
// table of coupons in every stored status, validity window and owner,
// written to a real database, read back, and put to both.
func TestCouponRulesAgreeInGoAndSQL(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second).Add(500 * time.Microsecond)
		newMember := func(name, phone string) gid.ID {
			m, err := d.Client.Member.Create().SetPhone(phone).SetPasswordHash("-").
				SetDisplayName(name).SetRoles(role.Set{role.Member}).
				SetVerificationStatus(member.VerificationStatusVERIFIED).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return m.ID
		}
		me, other := newMember("我", "13900000001"), newMember("别人", "13900000002")
		camp, err := d.Client.CouponCampaign.Create().SetName("对照").SetBudget(1000 * money.Yuan).SetPackValue(money.Yuan).
			SetClaimStartsAt(now.Add(-48 * time.Hour)).SetClaimEndsAt(now.Add(48 * time.Hour)).
			SetValidFrom(now.Add(-48 * time.Hour)).SetValidUntil(now.Add(48 * time.Hour)).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		windows := []struct {
			name        string
			from, until time.Time
		}{
			{"not begun", now.Add(time.Microsecond), now.Add(time.Hour)},
			{"begins now", now, now.Add(time.Hour)},
			{"inside", now.Add(-time.Hour), now.Add(time.Hour)},
			{"ends a microsecond later", now.Add(-time.Hour), now.Add(time.Microsecond)},
			{"ends now", now.Add(-time.Hour), now},
			{"ended", now.Add(-2 * time.Hour), now.Add(-time.Hour)},
		}
		stored := []entcoupon.Status{entcoupon.StatusAVAILABLE, entcoupon.StatusRESERVED,
			entcoupon.StatusUSED, entcoupon.StatusEXPIRED}
		names := map[gid.ID]string{}
		position := 0
		for _, owner := range []gid.ID{me, other} {
			for _, w := range windows {
				for _, s := range stored {
					tier, err := d.Client.CouponTier.Create().SetCampaignID(camp.ID).
						SetThreshold(10 * money.Yuan).SetDiscount(money.Yuan).SetPosition(position).Save(ctx)
					if err != nil {
						t.Fatal(err)
					}
					position++
					c, err := d.Client.Coupon.Create().SetCampaignID(camp.ID).SetTierID(tier.ID).SetMemberID(owner).
						SetThreshold(10 * money.Yuan).SetDiscount(money.Yuan).SetStatus(s).
						SetValidFrom(w.from).SetValidUntil(w.until).Save(ctx)
					if err != nil {
						t.Fatal(err)
					}
					names[c.ID] = fmt.Sprintf("%s, %s, mine %v", s, w.name, owner == me)
				}
			}
		}
		all, err := d.Client.Coupon.Query().All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		agree := func(rule string, where func(*ent.CouponQuery) *ent.CouponQuery, keep func(*ent.Coupon) bool) {
			t.Helper()
			bySQL, err := where(d.Client.Coupon.Query()).IDs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var byGo []gid.ID
			for _, c := range all {
				if keep(c) {
					byGo = append(byGo, c.ID)
				}
			}
			for _, id := range byGo {
				if !slices.Contains(bySQL, id) {
					t.Errorf("%s: Go selects (%s), SQL does not", rule, names[id])
				}
			}
			for _, id := range bySQL {
				if !slices.Contains(byGo, id) {
					t.Errorf("%s: SQL selects (%s), Go does not", rule, names[id])
				}
			}
			if len(byGo) == 0 {
				t.Errorf("%s: no case selected; the table tests nothing", rule)
			}
		}
		agree("usable", func(q *ent.CouponQuery) *ent.CouponQuery { return q.Where(coupons.WhereUsable(me, now)) },
			func(c *ent.Coupon) bool { return coupons.Usable(c, me, now) })
		for _, s := range stored {
			agree("status "+string(s), func(q *ent.CouponQuery) *ent.CouponQuery { return q.Where(coupons.WhereStatusAt(s, now)) },
				func(c *ent.Coupon) bool { return coupons.StatusAt(c, now) == s })
		}
	})
}

package coupons_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

const (
	createCampaignQ = `mutation($i: CreateCouponCampaignInput!) { createCouponCampaign(input: $i) {
		id name budget issuedValue packValue dailyPackQuota packsClaimedToday tiers { threshold discount } } }`
	claimQ   = `mutation($c: ID!) { claimCouponPack(campaignID: $c) { id threshold discount status validUntil } }`
	campaign = `{ couponCampaigns(activeOnly: false) { id issuedValue packsClaimedToday } }`
)

// seedTiers are the article's four tiers: pack value 180.00.
var seedTiers = []map[string]any{
	{"threshold": "20", "discount": "10"},
	{"threshold": "40", "discount": "20"},
	{"threshold": "100", "discount": "50"},
	{"threshold": "200", "discount": "100"},
}

func campaignInput(budget string, quota any, claimFrom, claimTo time.Time) map[string]any {
	return map[string]any{
		"name": "消费扶贫优惠券", "budget": budget,
		"claimStartsAt": claimFrom.Format(time.RFC3339Nano), "claimEndsAt": claimTo.Format(time.RFC3339Nano),
		"validFrom": claimFrom.Format(time.RFC3339Nano), "validUntil": claimTo.Add(7 * 24 * time.Hour).Format(time.RFC3339Nano),
		"dailyPackQuota": quota, "tiers": seedTiers,
	}
}

type campaignOut struct {
	ID                string
	Budget            string
	IssuedValue       string
	PackValue         string
	DailyPackQuota    *int
	PacksClaimedToday int
	Tiers             []struct{ Threshold, Discount string }
}

func createCampaign(t testing.TB, m *servertest.Mall, in map[string]any) campaignOut {
	t.Helper()
	var out struct{ CreateCouponCampaign campaignOut }
	servertest.MustDo(t, m, m.Admin, createCampaignQ, map[string]any{"i": in}, &out)
	return out.CreateCouponCampaign
}

// claimAll has every token claim the campaign's pack at once and counts the
// answers by code ("" for success).
func claimAll(t *testing.T, m *servertest.Mall, tokens []string, campaignID string) map[string]int {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var (
		mu    sync.Mutex
		codes = map[string]int{}
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for _, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := servertest.Post(client, m.HTTP.URL, tok, claimQ, map[string]any{"c": campaignID})
			code := "transport error"
			if err == nil {
				code = r.Code()
				if code == "" && len(r.Data) < 10 {
					code = "no data"
				}
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return codes
}

// 500 distinct members claiming at once: exactly the daily quota (or the
// budget) of packs is issued, four coupons each, issuedValue = packs ×
// packValue, and everyone else hears QUOTA_EXHAUSTED.
func TestClaimRacesHoldTheLimits(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		members := m.BulkVerified(1000)
		now := time.Now().UTC()
		for i, tt := range []struct {
			name   string
			budget string
			quota  any
			packs  int
		}{
			{"daily quota of 120", "10000000", 120, 120},
			{"budget of 75 packs", fmt.Sprint(75 * 180), nil, 75},
		} {
			t.Run(tt.name, func(t *testing.T) {
				c := createCampaign(t, m, campaignInput(tt.budget, tt.quota, now.Add(-time.Minute), now.Add(time.Hour)))
				tokens := make([]string, 500)
				for j := range tokens {
					tokens[j] = members[i*500+j].Token
				}
				codes := claimAll(t, m, tokens, c.ID)
				if codes[""] != tt.packs || codes["QUOTA_EXHAUSTED"] != 500-tt.packs {
					t.Fatalf("answers %v; want %d packs and %d QUOTA_EXHAUSTED", codes, tt.packs, 500-tt.packs)
				}
				if n := d.Int(t, "SELECT COUNT(*) FROM coupons WHERE campaign_id = ?", c.ID); n != 4*tt.packs {
					t.Fatalf("%d coupons, want %d", n, 4*tt.packs)
				}
				if n := d.Int(t, "SELECT COUNT(DISTINCT member_id) FROM coupons WHERE campaign_id = ?", c.ID); n != tt.packs {
					t.Fatalf("%d members hold coupons, want %d", n, tt.packs)
				}
				if v := d.Int(t, "SELECT issued_value FROM coupon_campaigns WHERE id = ?", c.ID); v != tt.packs*18000 {
					t.Fatalf("issued value %d fen, want %d", v, tt.packs*18000)
				}
				if v := d.Int(t, "SELECT COALESCE(SUM(discount), 0) FROM coupons WHERE campaign_id = ?", c.ID); v != tt.packs*18000 {
					t.Fatalf("coupons' face value %d fen, want %d", v, tt.packs*18000)
				}
				var list struct {
					CouponCampaigns []struct {
						ID                string
						IssuedValue       string
						PacksClaimedToday int
					}
				}
				servertest.MustDo(t, m, "", campaign, nil, &list)
				for _, cc := range list.CouponCampaigns {
					if cc.ID == c.ID && (servertest.Fen(t, cc.IssuedValue) != int64(tt.packs*18000) || cc.PacksClaimedToday != tt.packs) {
						t.Fatalf("served campaign %+v", cc)
					}
				}
			})
		}
	})
}

// One member claiming twenty times at once gets one pack.
func TestOneMemberClaimsOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		mem := m.BulkVerified(1)[0]
		now := time.Now().UTC()
		c := createCampaign(t, m, campaignInput("10000000", 1000, now.Add(-time.Minute), now.Add(time.Hour)))
		tokens := make([]string, 20)
		for i := range tokens {
			tokens[i] = mem.Token
		}
		codes := claimAll(t, m, tokens, c.ID)
		if codes[""] != 1 || codes["ALREADY_CLAIMED"] != 19 {
			t.Fatalf("answers %v; want 1 pack and 19 ALREADY_CLAIMED", codes)
		}
		if n := d.Int(t, "SELECT COUNT(*) FROM coupons WHERE member_id = ?", mem.ID); n != 4 {
			t.Fatalf("%d coupons, want 4", n)
		}
		if v := d.Int(t, "SELECT issued_value FROM coupon_campaigns WHERE id = ?", c.ID); v != 18000 {
			t.Fatalf("issued value %d", v)
		}
	})
}

func TestClaimRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		now := time.Now().UTC()
		open := createCampaign(t, m, campaignInput("10000000", nil, now.Add(-time.Minute), now.Add(time.Hour)))
		later := createCampaign(t, m, campaignInput("10000000", nil, now.Add(time.Hour), now.Add(2*time.Hour)))
		// A campaign whose claim window closes in a second.
		closing := createCampaign(t, m, campaignInput("10000000", nil, now.Add(-time.Minute), now.Add(time.Second)))
		verified := m.BulkVerified(1)[0]
		unverified := m.Register("未认证")

		var pack struct {
			ClaimCouponPack []struct {
				ID, Threshold, Discount, Status, ValidUntil string
			}
		}
		servertest.MustDo(t, m, verified.Token, claimQ, map[string]any{"c": open.ID}, &pack)
		if len(pack.ClaimCouponPack) != 4 {
			t.Fatalf("pack %+v", pack)
		}
		for i, c := range pack.ClaimCouponPack {
			if c.Status != "AVAILABLE" || c.Threshold != seedTiers[i]["threshold"].(string)+".00" ||
				c.Discount != seedTiers[i]["discount"].(string)+".00" {
				t.Fatalf("coupon %d: %+v", i, c)
			}
		}
		time.Sleep(1100 * time.Millisecond) // let the closing window close
		before := servertest.Rows(t, d, "coupons")
		for _, tt := range []struct {
			name, token, campaign, code string
		}{
			{"anonymous", "", open.ID, "UNAUTHENTICATED"},
			{"unverified", unverified.Token, open.ID, "NOT_VERIFIED"},
			{"again", verified.Token, open.ID, "ALREADY_CLAIMED"},
			{"not started", verified.Token, later.ID, "NOT_STARTED"},
			{"ended", verified.Token, closing.ID, "ENDED"},
			{"unknown campaign", verified.Token, "cmp_01JD0000000000000000000000", "NOT_FOUND"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				servertest.WantCode(t, m.Do(tt.token, claimQ, map[string]any{"c": tt.campaign}), tt.code)
			})
		}
		if servertest.Rows(t, d, "coupons") != before {
			t.Fatal("a refused claim wrote coupons")
		}

		// myCoupons: the member's own, by status.
		var mine struct {
			MyCoupons []struct{ ID, Status string }
		}
		servertest.MustDo(t, m, verified.Token, `{ myCoupons { id status } }`, nil, &mine)
		if len(mine.MyCoupons) != 4 {
			t.Fatalf("myCoupons %+v", mine)
		}
		servertest.MustDo(t, m, verified.Token, `{ myCoupons(status: USED) { id status } }`, nil, &mine)
		if len(mine.MyCoupons) != 0 {
			t.Fatalf("used coupons %+v", mine)
		}
		servertest.WantCode(t, m.Do("", `{ myCoupons { id } }`, nil), "UNAUTHENTICATED")
	})
}

// A coupon past validUntil reads EXPIRED, in lists and through node, even
// when the query does not ask for validUntil.
func TestCouponsExpire(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		now := time.Now().UTC()
		// Claimable for 2 s, valid until 2.5 s from now: long enough for a
		// claim on a busy CI machine, short enough to wait out.
		validUntil := now.Add(2500 * time.Millisecond)
		in := campaignInput("10000000", nil, now.Add(-time.Minute), now.Add(2*time.Second))
		in["validUntil"] = validUntil.Format(time.RFC3339Nano)
		c := createCampaign(t, m, in)
		mem := m.BulkVerified(1)[0]
		var pack struct{ ClaimCouponPack []struct{ ID string } }
		servertest.MustDo(t, m, mem.Token, claimQ, map[string]any{"c": c.ID}, &pack)
		id := pack.ClaimCouponPack[0].ID
		var n struct{ Node struct{ Status string } }
		servertest.MustDo(t, m, mem.Token, `query($id: ID!) { node(id: $id) { ... on Coupon { status } } }`, map[string]any{"id": id}, &n)
		if n.Node.Status != "AVAILABLE" {
			t.Fatalf("fresh coupon %s", n.Node.Status)
		}
		time.Sleep(time.Until(validUntil) + 100*time.Millisecond)
		servertest.MustDo(t, m, mem.Token, `query($id: ID!) { node(id: $id) { ... on Coupon { status } } }`, map[string]any{"id": id}, &n)
		if n.Node.Status != "EXPIRED" {
			t.Fatalf("coupon past validUntil reads %s", n.Node.Status)
		}
		var mine struct{ MyCoupons []struct{ Status string } }
		servertest.MustDo(t, m, mem.Token, `{ myCoupons(status: EXPIRED) { status } }`, nil, &mine)
		if len(mine.MyCoupons) != 4 {
			t.Fatalf("expired coupons %+v", mine)
		}
		servertest.MustDo(t, m, mem.Token, `{ myCoupons(status: AVAILABLE) { status } }`, nil, &mine)
		if len(mine.MyCoupons) != 0 {
			t.Fatalf("available coupons %+v", mine)
		}
	})
}

func TestCreateCampaignValidation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		now := time.Now().UTC()
		good := func() map[string]any { return campaignInput("10000000", 20000, now, now.Add(5*24*time.Hour)) }
		c := createCampaign(t, m, good())
		if c.PackValue != "180.00" || c.Budget != "10000000.00" || c.IssuedValue != "0.00" || len(c.Tiers) != 4 ||
			c.DailyPackQuota == nil || *c.DailyPackQuota != 20000 {
			t.Fatalf("created %+v", c)
		}
		before := servertest.Rows(t, d, "coupon_campaigns")
		for _, tt := range []struct {
			name string
			edit func(in map[string]any)
		}{
			{"no tiers", func(in map[string]any) { in["tiers"] = []map[string]any{} }},
			{"discount at threshold", func(in map[string]any) {
				in["tiers"] = []map[string]any{{"threshold": "20", "discount": "20"}}
			}},
			{"discount above threshold", func(in map[string]any) {
				in["tiers"] = []map[string]any{{"threshold": "20", "discount": "30"}}
			}},
			{"claim window reversed", func(in map[string]any) { in["claimEndsAt"] = now.Add(-time.Hour).Format(time.RFC3339) }},
			{"validity reversed", func(in map[string]any) { in["validUntil"] = now.Add(-time.Hour).Format(time.RFC3339) }},
			{"budget below one pack", func(in map[string]any) { in["budget"] = "179.99" }},
			{"zero quota", func(in map[string]any) { in["dailyPackQuota"] = 0 }},
			{"money with three decimals", func(in map[string]any) { in["budget"] = "1000.001" }},
			{"empty name", func(in map[string]any) { in["name"] = " " }},
		} {
			t.Run(tt.name, func(t *testing.T) {
				in := good()
				tt.edit(in)
				servertest.WantCode(t, m.Do(m.Admin, createCampaignQ, map[string]any{"i": in}), "BAD_USER_INPUT")
			})
		}
		if servertest.Rows(t, d, "coupon_campaigns") != before || servertest.Rows(t, d, "coupon_tiers") != 4 {
			t.Fatal("a refused campaign was written")
		}
	})
}

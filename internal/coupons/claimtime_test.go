package coupons_test

import (
	"context"
	"testing"
	"time"

	"unionmall/ent/member"
	"unionmall/internal/coupons"
	"unionmall/internal/money"
	"unionmall/internal/role"
	"unionmall/internal/testdb"
)

// A claim that waits for the campaign's row (other claims hold it) takes
// its time — claimed_at, and so the quota day it counts on — once it holds
// the lock, not from before the wait: a claim that waited across midnight
// in Asia/Shanghai counts on the new day. Here the test holds the row for
// a second; the claim's time must come after the release.
func TestClaimTakesItsTimeUnderTheLock(t *testing.T) {
	d := testdb.Open(t, "postgres")
	ctx := context.Background()
	svc := coupons.New(d.DB, nil)
	now := time.Now()
	quota := 10
	camp, err := svc.CreateCampaign(ctx, coupons.Campaign{Name: "消费扶贫优惠券", Budget: 1000 * money.Yuan,
		ClaimStartsAt: now.Add(-time.Hour), ClaimEndsAt: now.Add(time.Hour), ValidFrom: now.Add(-time.Hour),
		ValidUntil: now.Add(2 * time.Hour), DailyPackQuota: &quota,
		Tiers: []coupons.Tier{{Threshold: 20 * money.Yuan, Discount: 10 * money.Yuan}}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := d.Client.Member.Create().SetPhone("13900000001").SetPasswordHash("-").SetDisplayName("领券").
		SetRoles(role.Set{role.Member}).SetVerificationStatus(member.VerificationStatusVERIFIED).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	holder, err := d.Pool.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.ExecContext(ctx, "SELECT 1 FROM coupon_campaigns WHERE id = $1 FOR UPDATE", camp.ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := svc.Claim(ctx, m.ID, camp.ID)
		done <- err
	}()
	time.Sleep(time.Second)
	released := time.Now()
	if err := holder.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("claim: %v", err)
	}
	var claimedAt time.Time
	if err := d.Pool.QueryRow("SELECT claimed_at FROM coupons WHERE member_id = $1", m.ID).Scan(&claimedAt); err != nil {
		t.Fatal(err)
	}
	// The database's clock and ours agree to well under the second waited.
	if claimedAt.Before(released.Add(-100 * time.Millisecond)) {
		t.Fatalf("claimed at %s, %s before the campaign's lock was released: the time was read before the wait",
			claimedAt.Format(time.RFC3339Nano), released.Sub(claimedAt))
	}
}

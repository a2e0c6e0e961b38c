package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// claimers claim packs of the campaign with the small budget and of the
// one with the small daily quota (sometimes the same claim on two
// instances at once), and order the product with little stock with their
// coupons: sometimes one order sent to two instances at once (one key),
// sometimes two orders racing for one coupon.
func (w *workload) claimers(ctx context.Context, lc *lifecycle, worker int) {
	rng := w.rng(streamCoupons<<8 + uint64(worker))
	for n := 0; ctx.Err() == nil; n++ {
		m := pick(rng, w.fx.claimers)
		m.mu.Lock()
		coupons := append([]string(nil), m.coupons...)
		m.mu.Unlock()
		if len(coupons) == 0 || rng.Float64() < 0.3 {
			w.claim(ctx, rng, m, rng.IntN(4) == 0)
		} else {
			coupon := pick(rng, coupons)
			key := fmt.Sprintf("coupon-%d-%d", worker, n)
			switch p := rng.Float64(); {
			case p < 0.2: // one order, two instances
				w.together(ctx, rng, lc, m, [2]string{key, key}, coupon)
			case p < 0.35: // two orders, one coupon
				w.together(ctx, rng, lc, m, [2]string{key, key + "-rival"}, coupon)
			default:
				e, r := w.call(ctx, rng, w.couponOrder(m, key, coupon, rng.IntN(len(w.urls))))
				lc.bought(e, r, m)
			}
		}
		sleep(ctx, time.Duration(20+rng.IntN(50))*time.Millisecond)
	}
}

// claim claims a pack of one of the two campaigns; twice: the same claim
// goes to two instances at once.
func (w *workload) claim(ctx context.Context, rng *rand.Rand, m *member, twice bool) {
	campaign := w.fx.budgetCampaign
	if rng.IntN(2) == 0 {
		campaign = w.fx.quotaCampaign
	}
	times := 1
	if twice {
		times = 2
	}
	first := rng.IntN(len(w.urls))
	seed := rng.Uint64()
	var wg sync.WaitGroup
	for i := range times {
		wg.Go(func() {
			o := op{kind: kindClaim, member: m.idx, token: m.live[0], doc: claimDoc,
				vars: map[string]any{"id": campaign}, instance: (first + i) % len(w.urls)}
			_, r := w.call(ctx, rand.New(rand.NewPCG(seed, uint64(i))), o)
			var v struct{ ClaimCouponPack []struct{ ID string } }
			if decode(r, &v) == nil {
				m.mu.Lock()
				for _, c := range v.ClaimCouponPack {
					m.coupons = append(m.coupons, c.ID)
				}
				m.mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func (w *workload) couponOrder(m *member, key, coupon string, instance int) op {
	return op{kind: kindPlaceCoupon, member: m.idx, token: m.live[0], doc: placeDoc, key: key, instance: instance,
		vars: map[string]any{"i": map[string]any{"idempotencyKey": key, "couponID": coupon,
			"items": []map[string]any{{"productID": w.fx.contended, "quantity": 1}}}}}
}

// together sends two coupon orders at once to two instances.
func (w *workload) together(ctx context.Context, rng *rand.Rand, lc *lifecycle, m *member, keys [2]string, coupon string) {
	first := rng.IntN(len(w.urls))
	seed := rng.Uint64()
	var wg sync.WaitGroup
	for i, key := range keys {
		wg.Go(func() {
			e, r := w.call(ctx, rand.New(rand.NewPCG(seed, uint64(i))), w.couponOrder(m, key, coupon, (first+i)%len(w.urls)))
			lc.bought(e, r, m) // one order answered twice lives once
		})
	}
	wg.Wait()
}

package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// The seeded streams of the workload's parts (workload.rng); per-member
// streams start at streamPerMember.
const (
	streamRacers uint64 = iota + 1
	streamBuyers
	streamLifecycle
	streamCoupons
	streamAccounts
	streamAdmin
	streamFaults
	streamPayments
	streamPerMember uint64 = 1 << 20
)

// racers sends each self-racing member, one after another over most of
// the run, into a race against themself on the hot sale (limit 2).
func (w *workload) racers(ctx context.Context, lc *lifecycle) {
	rng := w.rng(streamRacers)
	order := rng.Perm(len(w.fx.racers))
	span := w.cfg.Duration * 8 / 10
	slots := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i, k := range order {
		m := w.fx.racers[k]
		tries := w.cfg.Tries
		if tries == 0 {
			tries = 2 + rng.IntN(2)
		}
		if !sleep(ctx, time.Until(w.start.Add(span*time.Duration(i)/time.Duration(len(order))))) {
			break
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			w.race(ctx, m, tries, lc)
		})
	}
	wg.Wait()
}

// race sends tries buys of one unit at once, each with its own key, each
// to another instance: the member racing themself (what broke per-member
// limits before). Now and then one of the keys that bought is sent again
// to another instance, which must answer the same order.
func (w *workload) race(ctx context.Context, m *member, tries int, lc *lifecycle) {
	rng := w.rng(streamPerMember + uint64(m.idx))
	instances := rng.Perm(len(w.urls))[:tries]
	seeds := make([]uint64, tries)
	for j := range seeds {
		seeds[j] = rng.Uint64()
	}
	entries := make([]Entry, tries)
	var wg sync.WaitGroup
	for j, in := range instances {
		wg.Go(func() {
			o := op{kind: kindBuy, member: m.idx, token: m.live[0], doc: buyDoc, instance: in,
				key: fmt.Sprintf("race-%d-%d", m.idx, j)}
			o.vars = buyVars(w.fx.hotSale, 1, o.key)
			e, r := w.call(ctx, rand.New(rand.NewPCG(seeds[j], 0)), o)
			entries[j] = e
			lc.bought(e, r, m)
		})
	}
	wg.Wait()
	if rng.Float64() >= 0.3 {
		return
	}
	for _, e := range entries {
		if e.Outcome == OK {
			in := (e.Instance + 1 + rng.IntN(len(w.urls)-1)) % len(w.urls)
			w.call(ctx, rng, op{kind: kindBuyReplay, member: m.idx, token: m.live[0], doc: buyDoc, instance: in,
				key: e.Key, vars: buyVars(w.fx.hotSale, 1, e.Key)})
			return
		}
	}
}

func buyVars(saleID string, q int, key string) map[string]any {
	return map[string]any{"i": map[string]any{"flashSaleID": saleID, "quantity": q, "idempotencyKey": key}}
}

// buyers buy in the sale that the ADMIN ends early and in the one that
// ends on its own, and place plain orders; now and then one reuses a
// placeOrder's key in buyFlashSale on the hot sale (BAD_USER_INPUT).
func (w *workload) buyers(ctx context.Context, lc *lifecycle, worker int) {
	rng := w.rng(streamBuyers<<8 + uint64(worker))
	for n := 0; ctx.Err() == nil; n++ {
		m := pick(rng, w.fx.buyers)
		key := fmt.Sprintf("buyer-%d-%d", worker, n)
		o := op{member: m.idx, token: m.live[0], instance: rng.IntN(len(w.urls)), key: key}
		flash := 0.3 // each sale's share while the sales run; then a few buys meet ENDED
		if time.Since(w.start) > w.cfg.Duration*45/100 {
			flash = 0.05
		}
		switch p := rng.Float64(); {
		case p < flash:
			o.kind, o.doc, o.vars = kindBuy, buyDoc, buyVars(w.fx.earlySale, 1+rng.IntN(2), key)
		case p < 2*flash:
			o.kind, o.doc, o.vars = kindBuy, buyDoc, buyVars(w.fx.shortSale, 1, key)
		case p < 0.95:
			o.kind, o.doc = kindPlace, placeDoc
			o.vars = map[string]any{"i": map[string]any{"idempotencyKey": key,
				"items": []map[string]any{{"productID": pick(rng, w.fx.products), "quantity": 1 + rng.IntN(3)}}}}
		default:
			m.mu.Lock()
			if len(m.keys) == 0 {
				m.mu.Unlock()
				continue
			}
			o.key = pick(rng, m.keys)
			m.mu.Unlock()
			o.kind, o.doc, o.vars = kindBuyReusedKey, buyDoc, buyVars(w.fx.hotSale, 1, o.key)
		}
		e, r := w.call(ctx, rng, o)
		if e.Kind == kindPlace && e.Outcome == OK { // the key names an order now
			m.mu.Lock()
			m.keys = append(m.keys, key)
			m.mu.Unlock()
		}
		lc.bought(e, r, m)
		sleep(ctx, time.Duration(30+rng.IntN(60))*time.Millisecond)
	}
}

package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"unionmall/internal/chaos/harness"
)

// lifecycle takes every order the workload placed through a life of its
// own. A share of the flash-sale and coupon orders is paid by the buyer
// through WeChat Pay (actors_pay.go); every other order meets, a random
// moment within about the payment window after it was placed: payment by
// the ADMIN (sometimes twice with the same reference), then perhaps a
// refund, or shipping and then a refund or completion; cancellation; or
// its expiry.
type lifecycle struct {
	w     *workload
	ctx   context.Context
	slots chan struct{}
	wg    sync.WaitGroup

	mu   sync.Mutex
	rng  *rand.Rand
	seen map[string]bool // orders scheduled
}

// placed is an order the workload placed, by which kind of request, and
// who placed it.
type placed struct {
	id, total, kind string
	buyer           *member
}

// payShare is the share of each kind of order the buyer pays through
// WeChat Pay.
var payShare = map[string]float64{kindBuy: 0.6, kindPlaceCoupon: 0.45}

func (w *workload) newLifecycle(ctx context.Context) *lifecycle {
	return &lifecycle{w: w, ctx: ctx, slots: make(chan struct{}, 16), rng: w.rng(streamLifecycle), seen: map[string]bool{}}
}

// bought hands the order of an OK answer to buyFlashSale or placeOrder to
// the lifecycle (a nil lifecycle: orders stay as they are).
func (lc *lifecycle) bought(e Entry, r *harness.Response, m *member) {
	if lc == nil || e.Outcome != OK || (e.Kind != kindBuy && e.Kind != kindPlace && e.Kind != kindPlaceCoupon) {
		return
	}
	var v map[string]struct{ ID, Total string }
	if decode(r, &v) != nil {
		return
	}
	for _, o := range v {
		lc.schedule(placed{id: o.ID, total: o.Total, kind: e.Kind, buyer: m})
	}
}

func (lc *lifecycle) schedule(o placed) {
	window := lc.w.cfg.PaymentWindow
	lc.mu.Lock()
	if lc.seen[o.id] {
		lc.mu.Unlock()
		return
	}
	lc.seen[o.id] = true
	wechat := lc.rng.Float64() < payShare[o.kind]
	delay := time.Duration(lc.rng.Int64N(int64(window * 13 / 10)))
	if wechat { // the buyer pays soon after ordering
		delay = time.Duration(lc.rng.Int64N(int64(window * 3 / 10)))
	}
	seed := lc.rng.Uint64()
	lc.mu.Unlock()
	lc.wg.Add(1)
	time.AfterFunc(delay, func() {
		defer lc.wg.Done()
		if lc.ctx.Err() != nil {
			return // the run is over: the order expires
		}
		if wechat { // mostly waiting for the payer: no slot
			lc.pay(o, rand.New(rand.NewPCG(seed, 0)))
			return
		}
		lc.slots <- struct{}{}
		defer func() { <-lc.slots }()
		lc.live(o, rand.New(rand.NewPCG(seed, 0)))
	})
}

// wait waits for the orders whose moment has come.
func (lc *lifecycle) wait() {
	if lc != nil {
		lc.wg.Wait()
	}
}

func (lc *lifecycle) live(o placed, rng *rand.Rand) {
	w, ctx := lc.w, lc.ctx
	n := len(w.urls)
	admin := func(kind, doc string, vars map[string]any, key string) Entry {
		e, _ := w.call(ctx, rng, op{kind: kind, member: -1, token: -1, admin: true, doc: doc, vars: vars, key: key, instance: rng.IntN(n)})
		return e
	}
	byBuyer := func(kind, doc string, vars map[string]any) Entry {
		e, _ := w.call(ctx, rng, op{kind: kind, member: o.buyer.idx, token: o.buyer.live[0], doc: doc, vars: vars, instance: rng.IntN(n)})
		return e
	}
	confirm := func(kind, ref string) Entry {
		return admin(kind, confirmDoc, map[string]any{"i": map[string]any{"orderID": o.id, "paymentReference": ref, "amount": o.total}}, ref)
	}
	switch p := rng.Float64(); {
	case p < 0.55:
		ref := "chaos-pay-" + o.id
		if confirm(kindConfirm, ref).Outcome != OK {
			return
		}
		if rng.Float64() < 0.15 {
			confirm(kindConfirmAgain, ref)
		}
	case p < 0.70:
		var e Entry
		if rng.Float64() < 0.8 {
			e = byBuyer(kindCancel, cancelDoc, map[string]any{"id": o.id})
		} else {
			e = admin(kindCancel, cancelDoc, map[string]any{"id": o.id}, "")
		}
		if e.Outcome == OK && rng.Float64() < 0.2 {
			confirm(kindConfirmLate, "chaos-late-"+o.id)
		}
		return
	default:
		return // left to expire
	}
	refund := func() {
		admin(kindRefund, refundDoc, map[string]any{"i": map[string]any{"orderID": o.id, "reason": "混沌测试退款"}}, "")
	}
	switch p := rng.Float64(); {
	case p < 0.25:
		refund()
	case p < 0.60:
		e := byBuyer(kindAddress, addressDoc, map[string]any{"id": o.id, "a": map[string]any{
			"recipient": "混沌收件人", "phone": o.buyer.phone, "region": "陕西省汉中市城固县", "detail": fmt.Sprintf("博望街道 %d 号", o.buyer.idx)}})
		if e.Outcome != OK {
			return
		}
		if admin(kindShip, shipDoc, map[string]any{"i": map[string]any{"orderID": o.id, "trackingNumber": "SF-" + o.id}}, "").Outcome != OK {
			return
		}
		switch q := rng.Float64(); {
		case q < 0.5:
			refund()
		case q < 0.8:
			admin(kindComplete, completeDoc, map[string]any{"id": o.id}, "")
		}
	}
}

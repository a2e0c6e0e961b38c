package chaos

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"unionmall/internal/wechatpay/wechatpaytest"
)

// The channels of payOrder the workload uses.
const (
	chJSAPI = "WECHAT_JSAPI"
	chAPP   = "WECHAT_APP"
)

// started is what an OK payOrder answered: the provider order to pay.
type started struct {
	ok     bool
	number string // out_trade_no
	payBy  time.Time
	prepay string
}

// pay takes an order through WeChat Pay as the buyer's phone would: the
// buyer starts the payment (payOrder: JSAPI with an openid, or APP),
// sometimes twice on two instances (at once, or one after the other), or
// again with the other channel; then the payer pays (payer).
func (lc *lifecycle) pay(o placed, rng *rand.Rand) {
	w := lc.w
	ch, openID := chAPP, ""
	if rng.Float64() < 0.6 {
		ch, openID = chJSAPI, fmt.Sprintf("oChaos%06d", o.buyer.idx)
	}
	first := rng.IntN(len(w.urls))
	other := (first + 1 + rng.IntN(len(w.urls)-1)) % len(w.urls)
	var s started
	switch p := rng.Float64(); {
	case p < 0.12: // at once on two instances
		seeds := [2]uint64{rng.Uint64(), rng.Uint64()}
		var got [2]started
		var wg sync.WaitGroup
		for i, in := range [2]int{first, other} {
			wg.Go(func() {
				kind := kindPay
				if i == 1 {
					kind = kindPayAgain
				}
				got[i] = lc.payOrder(kind, o, ch, openID, in, rand.New(rand.NewPCG(seeds[i], 0)))
			})
		}
		wg.Wait()
		s = w.book.resumed(o, got[0], got[1], false)
	case p < 0.22: // again once answered
		a := lc.payOrder(kindPay, o, ch, openID, first, rng)
		s = w.book.resumed(o, a, lc.payOrder(kindPayAgain, o, ch, openID, other, rng), true)
	case p < 0.28: // then with the other channel: refused
		if s = lc.payOrder(kindPay, o, ch, openID, first, rng); s.ok {
			if ch == chJSAPI {
				lc.payOrder(kindPayOther, o, chAPP, "", other, rng)
			} else {
				lc.payOrder(kindPayOther, o, chJSAPI, fmt.Sprintf("oChaos%06d", o.buyer.idx), other, rng)
			}
		}
	default:
		s = lc.payOrder(kindPay, o, ch, openID, first, rng)
	}
	if s.ok {
		lc.payer(o, s, rng)
	}
}

// payOrder starts (or resumes) the order's payment and checks that an OK
// answer carries what the channel's SDK needs.
func (lc *lifecycle) payOrder(kind string, o placed, ch, openID string, in int, rng *rand.Rand) started {
	input := map[string]any{"orderID": o.id, "channel": ch}
	if openID != "" {
		input["openID"] = openID
	}
	e, r := lc.w.call(lc.ctx, rng, op{kind: kind, member: o.buyer.idx, token: o.buyer.live[0], doc: payDoc,
		vars: map[string]any{"i": input}, instance: in})
	if e.Outcome != OK {
		return started{}
	}
	var v struct {
		PayOrder struct {
			Order     struct{ ID, Number string }
			Channel   string
			ExpiresAt time.Time
			Jsapi     *struct{ AppID, Package, SignType, PaySign string }
			App       *struct{ Appid, Partnerid, Prepayid, Sign string }
		}
	}
	if err := decode(r, &v); err != nil {
		lc.w.book.wrong("%s on instance %d for order %s: %v", kind, in, o.id, err)
		return started{}
	}
	p := v.PayOrder
	s := started{ok: true, number: p.Order.Number, payBy: p.ExpiresAt}
	var problems []string
	switch {
	case ch == chJSAPI && p.Jsapi != nil:
		s.prepay = strings.TrimPrefix(p.Jsapi.Package, "prepay_id=")
		if p.Jsapi.AppID != appID || p.Jsapi.SignType != "RSA" || p.Jsapi.PaySign == "" || s.prepay == p.Jsapi.Package {
			problems = append(problems, fmt.Sprintf("jsapi %+v", *p.Jsapi))
		}
	case ch == chAPP && p.App != nil:
		s.prepay = p.App.Prepayid
		if p.App.Appid != appID || p.App.Partnerid != mchID || p.App.Sign == "" {
			problems = append(problems, fmt.Sprintf("app %+v", *p.App))
		}
	default:
		problems = append(problems, "no "+ch+" parameters")
	}
	if p.Order.ID != o.id || p.Order.Number == "" || p.Channel != ch || p.ExpiresAt.IsZero() || s.prepay == "" {
		problems = append(problems, fmt.Sprintf("order %q number %q channel %s expiresAt %s prepay %q",
			p.Order.ID, p.Order.Number, p.Channel, p.ExpiresAt, s.prepay))
	}
	if len(problems) > 0 {
		lc.w.book.wrong("%s (%s) on instance %d for order %s answered %s", kind, ch, in, o.id, strings.Join(problems, "; "))
		s.ok = p.Order.Number != ""
	}
	return s
}

// A notifyFault is what happens to a payment's notification, drawn per
// order: prompt ones arrive at once.
type notifyFault struct {
	name   string
	share  float64
	prompt bool
	make   func(rng *rand.Rand, payBy time.Time) wechatpaytest.NotifyFault
}

var notifyFaults = []notifyFault{
	{"delivered", 0.35, true, func(*rand.Rand, time.Time) wechatpaytest.NotifyFault { return wechatpaytest.NotifyFault{} }},
	{"repeated", 0.10, true, func(rng *rand.Rand, _ time.Time) wechatpaytest.NotifyFault {
		return wechatpaytest.NotifyFault{Repeat: 2 + rng.IntN(2)}
	}},
	{"repeated in parallel", 0.08, true, func(rng *rand.Rand, _ time.Time) wechatpaytest.NotifyFault {
		return wechatpaytest.NotifyFault{Repeat: 2 + rng.IntN(3), Parallel: true}
	}},
	{"delayed past payBy", 0.15, false, func(rng *rand.Rand, payBy time.Time) wechatpaytest.NotifyFault {
		return wechatpaytest.NotifyFault{Delay: time.Until(payBy) + time.Duration(300+rng.IntN(1700))*time.Millisecond}
	}},
	{"dropped (found by the query)", 0.16, false, func(*rand.Rand, time.Time) wechatpaytest.NotifyFault {
		return wechatpaytest.NotifyFault{Drop: true}
	}},
	{"held, released in another order", 0.16, false, func(*rand.Rand, time.Time) wechatpaytest.NotifyFault {
		return wechatpaytest.NotifyFault{Hold: true}
	}},
}

func drawNotifyFault(rng *rand.Rand) notifyFault {
	p := rng.Float64()
	for _, f := range notifyFaults {
		if p -= f.share; p < 0 {
			return f
		}
	}
	return notifyFaults[0]
}

// payer pays in WeChat at a moment drawn for the order: well within the
// window, just before payBy, never, or while the buyer cancels the order;
// its notification meets a fault drawn for it. A payment notified at once
// goes on (afterPaid).
func (lc *lifecycle) payer(o placed, s started, rng *rand.Rand) {
	w, ctx := lc.w, lc.ctx
	fault := drawNotifyFault(rng)
	left := time.Until(s.payBy)
	frac := func(lo, hi float64) time.Duration { return time.Duration((lo + (hi-lo)*rng.Float64()) * float64(left)) }
	var (
		moment string
		at     = time.Now()
		wg     sync.WaitGroup
	)
	switch p := rng.Float64(); {
	case p < 0.5:
		moment, at = "well within the window", at.Add(frac(0.05, 0.5))
	case p < 0.68: // mostly before time_expire (payBy in whole seconds), else just after
		moment, at = "just before time_expire", s.payBy.Truncate(time.Second).Add(-time.Duration(50+rng.IntN(450))*time.Millisecond)
		if rng.Float64() < 0.25 {
			moment, at = "just before payBy", s.payBy.Add(-time.Duration(10+rng.IntN(200))*time.Millisecond)
		}
	case p < 0.86:
		w.book.count("the payer's moment", "never")
		return
	default:
		moment, at = "while the buyer cancels", at.Add(frac(0.1, 0.6))
		cancelAt := at.Add(time.Duration(rng.IntN(300)-150) * time.Millisecond)
		o2 := op{kind: kindCancelPaying, member: o.buyer.idx, token: o.buyer.live[0], doc: cancelDoc,
			vars: map[string]any{"id": o.id}, instance: rng.IntN(len(w.urls))}
		seed := rng.Uint64()
		wg.Go(func() {
			if sleep(ctx, time.Until(cancelAt)) {
				w.call(ctx, rand.New(rand.NewPCG(seed, 0)), o2)
			}
		})
	}
	defer wg.Wait()
	if !sleep(ctx, time.Until(at)) {
		w.book.count("the payer's moment", "never (the run ended)")
		return
	}
	w.book.count("the payer's moment", moment)
	w.fake.SetNotifyFault(s.number, fault.make(rng, s.payBy))
	if _, err := w.fake.Pay(s.number); err != nil {
		w.book.count("WeChat Pay refused the payer", payRefusal(err))
		return
	}
	w.book.paid(o, s, fault.name, rng)
	if fault.prompt && moment != "while the buyer cancels" {
		wg.Wait()
		lc.afterPaid(o, rng)
	}
}

// payRefusal names why the fake refused a payment.
func payRefusal(err error) string {
	switch msg := err.Error(); {
	case strings.Contains(msg, "expired"):
		return "past time_expire"
	case strings.Contains(msg, "not awaiting payment"):
		return "closed"
	default:
		return msg
	}
}

// afterPaid: the buyer's app asks for the order until it shows PAID; then
// the ADMIN may refund it (sometimes asking twice), or ship it and then
// complete or refund it.
func (lc *lifecycle) afterPaid(o placed, rng *rand.Rand) {
	w, ctx, n := lc.w, lc.ctx, len(lc.w.urls)
	paid := false
	for range 8 {
		time.Sleep(time.Duration(150+rng.IntN(200)) * time.Millisecond)
		e, r := w.call(ctx, rng, op{kind: kindPaidStatus, member: o.buyer.idx, token: o.buyer.live[0], doc: orderDoc,
			vars: map[string]any{"id": o.id}, instance: rng.IntN(n)})
		var v struct {
			Node *struct {
				Status  string
				Payment *struct{ Status string }
			}
		}
		if e.Outcome != OK || decode(r, &v) != nil || v.Node == nil || v.Node.Status != "PAID" {
			continue
		}
		if v.Node.Payment == nil || v.Node.Payment.Status != "PAID" {
			w.book.wrong("order %s answered PAID on instance %d with its payment %+v", o.id, e.Instance, v.Node.Payment)
		}
		paid = true
		break
	}
	if !paid {
		return
	}
	admin := func(kind, doc string, vars map[string]any) Entry {
		e, _ := w.call(ctx, rng, op{kind: kind, member: -1, token: -1, admin: true, doc: doc, vars: vars, instance: rng.IntN(n)})
		return e
	}
	refund := func() {
		vars := map[string]any{"i": map[string]any{"orderID": o.id, "reason": "混沌测试退款（微信支付）"}}
		if admin(kindRefundPaid, refundDoc, vars).Outcome == OK && rng.Float64() < 0.2 {
			admin(kindRefundAgain, refundDoc, vars)
		}
	}
	switch p := rng.Float64(); {
	case p < 0.3:
		refund()
	case p < 0.5:
		e, _ := w.call(ctx, rng, op{kind: kindAddress, member: o.buyer.idx, token: o.buyer.live[0], doc: addressDoc, instance: rng.IntN(n),
			vars: map[string]any{"id": o.id, "a": map[string]any{"recipient": "混沌收件人", "phone": o.buyer.phone,
				"region": "陕西省汉中市城固县", "detail": fmt.Sprintf("博望街道 %d 号", o.buyer.idx)}}})
		if e.Outcome != OK || admin(kindShip, shipDoc, map[string]any{"i": map[string]any{"orderID": o.id, "trackingNumber": "SF-" + o.id}}).Outcome != OK {
			return
		}
		if rng.Float64() < 0.5 {
			admin(kindComplete, completeDoc, map[string]any{"id": o.id})
		} else {
			refund()
		}
	}
}

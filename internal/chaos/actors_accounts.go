package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"unionmall/internal/chaos/harness"
)

// accounts sign members in (sometimes with a wrong password), sign tokens
// out, change passwords (which revokes the member's other tokens) and ask
// `me` with live and revoked tokens. Before a revocation the tokens are
// used on every instance, so that each has them in memory; right after
// it, each revoked token is tried on every instance at once (`me` and a
// mutation): none may be served as the member.
func (w *workload) accounts(ctx context.Context, worker int) {
	rng := w.rng(streamAccounts<<8 + uint64(worker))
	for ctx.Err() == nil {
		m := pick(rng, w.fx.accounts)
		m.mu.Lock()
		switch p := rng.Float64(); {
		case p < 0.25 || len(m.live) < 2:
			w.login(ctx, rng, m, true)
		case p < 0.35:
			w.login(ctx, rng, m, false)
		case p < 0.55:
			w.logout(ctx, rng, m)
		case p < 0.65:
			w.changePassword(ctx, rng, m)
		default:
			tok := pick(rng, append(slices.Clone(m.live), m.revoked...))
			kind := kindMe
			if slices.Contains(m.revoked, tok) {
				kind = kindMeRevoked
			}
			w.call(ctx, rng, op{kind: kind, member: m.idx, token: tok, doc: meDoc, instance: rng.IntN(len(w.urls))})
		}
		m.mu.Unlock()
		sleep(ctx, time.Duration(20+rng.IntN(40))*time.Millisecond)
	}
}

func (w *workload) login(ctx context.Context, rng *rand.Rand, m *member, right bool) {
	if m.password == "" && right {
		return // lost with a password change whose answer never came
	}
	kind, password := kindLogin, m.password
	if !right {
		kind, password = kindLoginWrong, "wrong-"+m.phone
	}
	w.call(ctx, rng, op{kind: kind, member: m.idx, token: -1, doc: loginDoc, instance: rng.IntN(len(w.urls)),
		vars: map[string]any{"i": map[string]any{"phone": m.phone, "password": password}},
		onAnswer: func(e *Entry, r *harness.Response) {
			var v struct{ Login struct{ Token string } }
			if e.Outcome == OK && decode(r, &v) == nil && v.Login.Token != "" {
				e.Issued = w.addToken(m.idx, v.Login.Token)
				m.live = append(m.live, e.Issued)
			}
		}})
}

// warm uses each token on every instance (`me`), so that every instance
// holds it in memory when it is revoked.
func (w *workload) warm(ctx context.Context, rng *rand.Rand, m *member, tokens []int) {
	for _, tok := range tokens {
		for in := range w.urls {
			w.call(ctx, rng, op{kind: kindMe, member: m.idx, token: tok, doc: meDoc, instance: in})
		}
	}
}

func (w *workload) logout(ctx context.Context, rng *rand.Rand, m *member) {
	i := rng.IntN(len(m.live))
	tok := m.live[i]
	w.warm(ctx, rng, m, []int{tok})
	e, _ := w.call(ctx, rng, op{kind: kindLogout, member: m.idx, token: tok, doc: logoutDoc, instance: rng.IntN(len(w.urls))})
	if e.Outcome != OK && !e.FromFault() {
		return
	}
	m.live = slices.Delete(m.live, i, i+1)
	m.revoked = append(m.revoked, tok)
	if e.Outcome == OK { // else revoked or not: unknown
		w.probe(ctx, rng, m, []int{tok})
	}
}

func (w *workload) changePassword(ctx context.Context, rng *rand.Rand, m *member) {
	if m.password == "" {
		return
	}
	keep := m.live[len(m.live)-1]
	others := slices.Clone(m.live[:len(m.live)-1])
	w.warm(ctx, rng, m, others)
	m.changes++
	next := fmt.Sprintf("chaos-%d-%d-%d", w.cfg.Seed%1000, m.idx, m.changes)
	e, _ := w.call(ctx, rng, op{kind: kindPassword, member: m.idx, token: keep, doc: passwordDoc, instance: rng.IntN(len(w.urls)),
		vars: map[string]any{"i": map[string]any{"oldPassword": m.password, "newPassword": next}}})
	switch {
	case e.Outcome == OK:
		m.password = next
	case e.FromFault():
		m.password = "" // changed or not: unknown
	default:
		return
	}
	m.live = []int{keep}
	m.revoked = append(m.revoked, others...)
	if e.Outcome == OK {
		w.probe(ctx, rng, m, others)
	}
}

// probe tries each revoked token at once on every instance (`me`) and in
// one mutation on one of them.
func (w *workload) probe(ctx context.Context, rng *rand.Rand, m *member, tokens []int) {
	var ops []op
	for _, tok := range tokens {
		for in := range w.urls {
			ops = append(ops, op{kind: kindMeRevoked, member: m.idx, token: tok, doc: meDoc, instance: in})
		}
		o := op{member: m.idx, token: tok, instance: rng.IntN(len(w.urls))}
		if rng.IntN(2) == 0 {
			o.kind, o.doc, o.key = kindBuyRevoked, buyDoc, fmt.Sprintf("revoked-%d", tok)
			o.vars = buyVars(w.fx.hotSale, 1, o.key)
		} else {
			o.kind, o.doc, o.vars = kindClaimRevoked, claimDoc, map[string]any{"id": w.fx.quotaCampaign}
		}
		ops = append(ops, o)
	}
	var wg sync.WaitGroup
	for _, o := range ops {
		wg.Go(func() { w.send(o) })
	}
	wg.Wait()
}

package chaos

import (
	"context"
	"time"
)

// restocks: the ADMIN adds stock now and then, mostly to the product with
// little stock that coupon orders race for, and sometimes asks to take
// more than there is (BAD_USER_INPUT, nothing written).
func (w *workload) restocks(ctx context.Context) {
	rng := w.rng(streamAdmin)
	for sleep(ctx, time.Duration(400+rng.IntN(500))*time.Millisecond) {
		o := op{kind: kindRestock, member: -1, token: -1, admin: true, doc: restockDoc, instance: rng.IntN(len(w.urls))}
		product, delta := w.fx.contended, 3+rng.IntN(6)
		switch p := rng.Float64(); {
		case p < 0.1:
			o.kind, delta = kindUnstock, -1_000_000
		case p < 0.25:
			product, delta = pick(rng, w.fx.products), 10
		case p < 0.3:
			product, delta = w.fx.hotProduct, 5
		}
		o.vars = map[string]any{"id": product, "i": map[string]any{"stockDelta": delta}}
		w.call(ctx, rng, o)
	}
}

// endEarly: the ADMIN ends the early sale at 40% of the run.
func (w *workload) endEarly(ctx context.Context) {
	if !sleep(ctx, time.Until(w.start.Add(w.cfg.Duration*4/10))) {
		return
	}
	w.call(ctx, w.rng(streamAdmin+1), op{kind: kindEndSale, member: -1, token: -1, admin: true, doc: endSaleDoc,
		vars: map[string]any{"id": w.fx.earlySale}})
}

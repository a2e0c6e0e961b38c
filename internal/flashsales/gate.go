package flashsales

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"unionmall/ent"
	"unionmall/internal/apperr"
	"unionmall/internal/db"
	"unionmall/internal/gid"
	"unionmall/internal/idempotency"
	"unionmall/internal/ordernum"
)

// A gate admits the buyers of one sale on this instance. Requests queue on
// a channel; one goroutine takes everything queued (up to maxBatch) and
// reserves for all of it in one transaction (buyBatch), so a storm of
// buyers costs the database a few transactions per second instead of one
// row-locked transaction per buyer. Requests that cannot succeed are
// refused before they queue, from an in-memory copy of the sale: not yet
// started, ended, or sold out. The database stays the authority: a batch
// leaves the copy as it committed it, every announced change of the sale
// (from any instance, this gate's own batches included) marks the copy
// stale, and a refusal from a stale copy is made only after re-reading it
// (fresh). Buyers the copy lets through need no re-read: the batch decides.
type gate struct {
	svc *Service
	id  gid.ID
	in  chan *buyRequest

	mu      sync.RWMutex // held for reading while sending to in
	stopped bool

	loadOnce sync.Once
	loadErr  error
	sale     atomic.Pointer[ent.FlashSale] // the in-memory copy
	soldOut  atomic.Bool

	stale    atomic.Bool // a change was announced since the copy was read
	reloadMu sync.Mutex  // one re-read at a time (fresh)
}

const (
	maxBatch    = 500
	queueLength = 8192
	gateIdle    = time.Minute
)

type buyRequest struct {
	ctx   context.Context
	sale  gid.ID
	buyer gid.ID
	q     int
	key   *string
	reply chan buyResult
}

type buyResult struct {
	order *ent.Order
	err   error
}

var (
	errSoldOut    = apperr.New(apperr.SoldOut, "sold out (已抢光)")
	errNotStarted = apperr.New(apperr.NotStarted, "the flash sale has not started yet")
	errEnded      = apperr.New(apperr.Ended, "the flash sale has ended")
	errLimit      = apperr.New(apperr.LimitExceeded, "that would pass the per-member limit of this flash sale")
)

// Buy reserves q units of the sale for the buyer and returns their order,
// awaiting payment at the flash price. Refusals come in the contract's
// order: NOT_STARTED/ENDED, SOLD_OUT (also for a quantity above what
// remains), LIMIT_EXCEEDED. The same idempotency key returns the first order.
func (s *Service) Buy(ctx context.Context, buyer, saleID gid.ID, q int, key *string) (*ent.Order, error) {
	if q < 1 {
		return nil, apperr.BadInput("quantity", "buy at least one unit")
	}
	if err := idempotency.Check(key); err != nil {
		return nil, err
	}
	for {
		g, err := s.gateFor(ctx, saleID)
		if err != nil {
			return nil, err
		}
		if err := g.refusal(ctx); err != nil {
			return nil, err
		}
		if s.buyers != nil {
			if ok, wait := s.buyers.Take(string(buyer)); !ok {
				return nil, ErrBuyingTooFast.After(wait)
			}
		}
		req := &buyRequest{ctx: ctx, sale: saleID, buyer: buyer, q: q, key: key, reply: make(chan buyResult, 1)}
		g.mu.RLock()
		if g.stopped {
			g.mu.RUnlock()
			continue // the gate just went idle; take a new one
		}
		select {
		case g.in <- req:
			g.mu.RUnlock()
		case <-ctx.Done():
			g.mu.RUnlock()
			return nil, ctx.Err()
		}
		select {
		case res := <-req.reply:
			return res.order, res.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// gateFor returns the sale's gate, starting it (and loading the sale) on
// first use.
func (s *Service) gateFor(ctx context.Context, id gid.ID) (*gate, error) {
	s.mu.Lock()
	g := s.gates[id]
	if g == nil {
		g = &gate{svc: s, id: id, in: make(chan *buyRequest, queueLength)}
		s.gates[id] = g
		go g.run()
	}
	s.mu.Unlock()
	g.loadOnce.Do(func() { g.loadErr = g.reload(ctx) })
	if g.loadErr != nil {
		s.mu.Lock()
		if s.gates[id] == g {
			delete(s.gates, id)
		}
		s.mu.Unlock()
		g.stop()
		if ent.IsNotFound(g.loadErr) {
			return nil, apperr.New(apperr.NotFound, "no flash sale has that ID")
		}
		return nil, g.loadErr
	}
	return g, nil
}

// refusal is the answer the copy gives without the database: NOT_STARTED,
// ENDED or SOLD_OUT, checked again on a fresh copy if the copy is stale.
func (g *gate) refusal(ctx context.Context) error {
	err := g.refusedBy(g.sale.Load())
	if err == nil || !g.stale.Load() {
		return err
	}
	if ferr := g.fresh(ctx); ferr != nil {
		slog.WarnContext(ctx, "re-reading a flash sale failed; refusing from the copy", "sale", g.id, "err", ferr)
		return err
	}
	return g.refusedBy(g.sale.Load())
}

func (g *gate) refusedBy(sale *ent.FlashSale) error {
	now := g.svc.now()
	switch {
	case now.Before(sale.StartsAt):
		return errNotStarted
	case !now.Before(sale.EndsAt):
		return errEnded
	case g.soldOut.Load():
		return errSoldOut
	}
	return nil
}

// fresh re-reads the copy if a change was announced since it was last
// read; concurrent callers share one read. A change announced during the
// read leaves the copy stale again (it is marked after its commit, so
// the next read sees it).
func (g *gate) fresh(ctx context.Context) error {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	if !g.stale.Swap(false) {
		return nil
	}
	if err := g.reload(ctx); err != nil {
		g.stale.Store(true)
		return err
	}
	return nil
}

// reload copies the sale from the database.
func (g *gate) reload(ctx context.Context) error {
	sale, err := g.svc.db.Client.FlashSale.Get(ctx, g.id)
	if err != nil {
		return err
	}
	g.sale.Store(sale)
	g.soldOut.Store(sale.Sold >= sale.Quantity)
	return nil
}

// changed marks the sale's copy stale after a change of the sale (on any
// instance: a batch sold, units came back, it ended or settled).
func (s *Service) changed(id gid.ID) {
	if g := s.gate(id); g != nil {
		g.stale.Store(true)
	}
}

// changedAll marks every sale's copy stale (changes may have been missed).
func (s *Service) changedAll() {
	s.mu.Lock()
	gates := make([]*gate, 0, len(s.gates))
	for _, g := range s.gates {
		gates = append(gates, g)
	}
	s.mu.Unlock()
	for _, g := range gates {
		g.stale.Store(true)
	}
}

func (s *Service) gate(id gid.ID) *gate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gates[id]
}

func (g *gate) stop() {
	g.mu.Lock()
	g.stopped = true
	g.mu.Unlock()
}

// run serves the queue until the gate has been idle for a while.
func (g *gate) run() {
	idle := time.NewTimer(gateIdle)
	defer idle.Stop()
	var carry []*buyRequest
	for {
		batch := carry
		carry = nil
		if len(batch) == 0 {
			select {
			case r := <-g.in:
				batch = append(batch, r)
			case <-idle.C:
				if g.retire() {
					return
				}
				idle.Reset(gateIdle)
				continue
			}
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-g.in:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		batch, carry = oncePerBuyer(batch)
		g.serve(batch)
		idle.Reset(gateIdle)
	}
}

// retire stops an idle gate unless a request slipped in.
func (g *gate) retire() bool {
	g.svc.mu.Lock()
	defer g.svc.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.in) > 0 {
		return false
	}
	g.stopped = true
	if g.svc.gates[g.id] == g {
		delete(g.svc.gates, g.id)
	}
	return true
}

// oncePerBuyer keeps each buyer's first request in the batch and carries
// the rest to the next one, so a batch never races a buyer against
// themself for their limit.
func oncePerBuyer(batch []*buyRequest) (keep, carry []*buyRequest) {
	seen := make(map[gid.ID]bool, len(batch))
	keep = batch[:0:0]
	for _, r := range batch {
		if r.ctx.Err() != nil {
			r.reply <- buyResult{err: r.ctx.Err()}
			continue
		}
		if seen[r.buyer] {
			carry = append(carry, r)
			continue
		}
		seen[r.buyer] = true
		keep = append(keep, r)
	}
	return keep, carry
}

// serve reserves for a batch in one transaction and answers everyone. If
// the batch as a whole fails (a rare conflict, such as an idempotency key
// a buyer used on another order), each request is retried alone so one
// cannot fail the others.
func (g *gate) serve(batch []*buyRequest) {
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t0 := time.Now()
	d, err := g.commit(ctx, batch)
	slog.Debug("flash batch", "sale", g.id, "size", len(batch), "took", time.Since(t0), "err", err)
	for try := 0; try < 2 && ordernum.Clash(err); try++ {
		d, err = g.commit(ctx, batch) // new numbers
	}
	if err == nil {
		// Reading the orders back and answering run beside the next batch.
		go func() {
			defer cancel()
			g.svc.answer(ctx, batch, d)
		}()
		return
	}
	defer cancel()
	if len(batch) == 1 {
		batch[0].reply <- g.svc.afterFailure(ctx, batch[0], err)
		return
	}
	for _, r := range batch {
		one := []*buyRequest{r}
		d, err := g.commit(ctx, one)
		if err != nil {
			r.reply <- g.svc.afterFailure(ctx, r, err)
			continue
		}
		g.svc.answer(ctx, one, d)
	}
}

// afterFailure answers a request whose transaction failed alone. If it
// carried an idempotency key, the likeliest cause is that the same key
// committed meanwhile through another path (a placeOrder, or this sale on
// another instance) and won the unique index: then the order that key
// names is the answer, or ErrOtherRequest if it is not of this sale.
func (s *Service) afterFailure(ctx context.Context, r *buyRequest, err error) buyResult {
	if r.key != nil && db.IsConstraint(err) {
		if o, kerr := s.db.Client.Order.Query().Where(idempotency.Named(r.buyer, *r.key)).Only(ctx); kerr == nil {
			o, err := idempotency.Answer(o, &r.sale, true)
			return buyResult{order: o, err: err}
		}
	}
	return buyResult{err: fmt.Errorf("buy flash sale: %w", err)}
}

// Sale returns this instance's copy of the sale, re-read if a change was
// announced since, starting the gate on first use.
func (s *Service) Sale(id gid.ID) (*ent.FlashSale, error) {
	ctx := context.Background()
	g, err := s.gateFor(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := g.fresh(ctx); err != nil {
		return nil, err
	}
	return g.sale.Load(), nil
}

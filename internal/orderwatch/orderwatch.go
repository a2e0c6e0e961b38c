// Package orderwatch serves orderUpdated: one order's state, pushed to its
// buyer (or an ADMIN) whenever internal/orders announces a change of it
// (changes.Order), on this instance or another. States are conflated like
// the live feeds' (internal/broker): one load per change per interval,
// shared by every subscriber of the order; a slow subscriber skips to the
// latest.
//
// Unlike the live feeds it is private, so each subscription re-checks its
// viewer before every push and whenever a token or a member changes (a
// logout, a password change, a role taken away): a viewer whose token is
// revoked, or who may no longer see the order, gets no further state and
// the subscription ends.
package orderwatch

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"unionmall/ent"
	"unionmall/ent/order"
	"unionmall/internal/apperr"
	"unionmall/internal/auth"
	"unionmall/internal/broker"
	"unionmall/internal/changes"
	"unionmall/internal/gid"
)

// Interval bounds pushes per order, as live.Interval does per counter.
const Interval = 100 * time.Millisecond

var errNotFound = apperr.New(apperr.NotFound, "no order has that ID")

// Watcher holds the subscriptions to orders.
type Watcher struct {
	client   *ent.Client
	sessions *auth.Sessions
	broker   *broker.Broker[*ent.Order]

	mu   sync.Mutex
	subs map[chan struct{}]struct{} // each subscription's wake-up: re-check the viewer
}

// New registers the watcher's pushes for changes of orders, and its
// re-checks for changes of tokens and members.
func New(reg *changes.Registry, client *ent.Client, sessions *auth.Sessions) *Watcher {
	w := &Watcher{client: client, sessions: sessions, subs: map[chan struct{}]struct{}{}}
	w.broker = broker.New(w.load, broker.Options{Interval: Interval, OnLoadError: func(topic string, err error) {
		slog.Warn("loading an order for its subscribers failed", "topic", topic, "err", err)
	}})
	reg.On(changes.OrderKind, changes.Handler{
		Changed: func(c changes.Change) { w.broker.Touch(c.String()) },
		Resync:  w.broker.TouchAll,
	})
	// Sessions registered first, so its memory has forgotten the token or
	// member by the time a subscription re-checks.
	for _, k := range []changes.Kind{changes.TokenKind, changes.MemberKind} {
		reg.On(k, changes.Handler{Changed: func(changes.Change) { w.wakeAll() }, Resync: w.wakeAll})
	}
	return w
}

// load reads an order with everything Order's fields show, so that no
// field resolver queries per subscriber.
func (w *Watcher) load(ctx context.Context, topic string) (*ent.Order, error) {
	c, _ := changes.Parse(topic)
	return w.client.Order.Query().Where(order.ID(gid.ID(c.ID))).
		WithItems(func(q *ent.OrderItemQuery) { q.WithProduct() }).
		WithPayment().
		Only(ctx)
}

// Watch subscribes ctx's viewer to the order: its state at once, then each
// change, until ctx ends or the viewer may no longer see it. NOT_FOUND
// for an unknown order and for anyone but its buyer and ADMINs.
func (w *Watcher) Watch(ctx context.Context, id gid.ID) (<-chan *ent.Order, error) {
	v := auth.FromContext(ctx)
	if !id.Is(gid.Order) || v == nil {
		return nil, errNotFound
	}
	buyer, err := w.client.Order.Query().Where(order.ID(id)).Select(order.FieldBuyerID).String(ctx)
	if ent.IsNotFound(err) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	if !maySee(v, gid.ID(buyer)) {
		return nil, errNotFound
	}
	ctx, cancel := context.WithCancel(ctx)
	states, err := w.broker.Subscribe(ctx, changes.Order(id).String())
	if err != nil {
		cancel()
		return nil, err
	}
	wake := make(chan struct{}, 1)
	w.mu.Lock()
	w.subs[wake] = struct{}{}
	w.mu.Unlock()
	out := make(chan *ent.Order)
	go func() {
		defer func() {
			w.mu.Lock()
			delete(w.subs, wake)
			w.mu.Unlock()
			cancel()
			close(out)
		}()
		s := &sub{w: w, v: v, buyer: gid.ID(buyer)}
		for {
			var next *ent.Order
			select {
			case <-ctx.Done():
				return
			case <-wake:
				if s.check(ctx) == revoked {
					return
				}
				continue
			case o, ok := <-states:
				if !ok {
					return
				}
				next = o
			}
			switch s.check(ctx) {
			case revoked:
				return
			case unsure:
				continue // the resync after the database is back pushes again
			}
			// While gqlgen is busy with the last state, newer ones wait
			// conflated in the broker's mailbox.
			select {
			case out <- next:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// sub is one subscription's viewer.
type sub struct {
	w     *Watcher
	v     *auth.Viewer
	buyer gid.ID
}

type verdict int

const (
	allowed verdict = iota
	revoked         // the token is gone, or it may no longer see the order
	unsure          // the token could not be checked (the database is unreachable)
)

// check re-checks the viewer's token (a memory lookup unless a change
// made the memory forget it) and whether it may still see the order.
// When the token cannot be checked, nothing is pushed but the
// subscription stays: the next push or change checks again.
func (s *sub) check(ctx context.Context) verdict {
	v, err := s.w.sessions.Recheck(ctx, s.v)
	switch {
	case errors.Is(err, auth.ErrInvalidToken):
		return revoked
	case err != nil:
		if ctx.Err() == nil {
			slog.WarnContext(ctx, "re-checking an order subscriber failed", "err", err)
		}
		return unsure
	}
	s.v = v
	if !maySee(v, s.buyer) {
		return revoked
	}
	return allowed
}

// maySee is orders' rule for who sees an order: its buyer and ADMINs.
func maySee(v *auth.Viewer, buyer gid.ID) bool {
	return v != nil && (v.MemberID == buyer || v.IsAdmin())
}

// wakeAll makes every subscription re-check its viewer. It never blocks: a
// subscription already due to re-check needs no second wake-up.
func (w *Watcher) wakeAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for c := range w.subs {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// Stats are the broker's counters (for metrics).
func (w *Watcher) Stats() broker.Stats { return w.broker.Stats() }

// Close ends every subscription.
func (w *Watcher) Close() { w.broker.Close() }

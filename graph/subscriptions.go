package graph

import (
	"context"
	"sync/atomic"

	"unionmall/internal/apperr"
	"unionmall/internal/changes"
	"unionmall/internal/live"
)

// MaxSubscriptions is how many subscriptions one websocket connection may
// hold at once.
const MaxSubscriptions = 100

type slotsKey struct{}

// WithSubscriptionSlots gives a websocket connection's context its count
// of open subscriptions (the transport's InitFunc calls it).
func WithSubscriptionSlots(ctx context.Context) context.Context {
	return context.WithValue(ctx, slotsKey{}, new(atomic.Int32))
}

// takeSlot counts a subscription against its connection until ctx (the
// subscription's) ends: TOO_MANY_SUBSCRIPTIONS past the limit.
func takeSlot(ctx context.Context) error {
	n, ok := ctx.Value(slotsKey{}).(*atomic.Int32)
	if !ok || n == nil {
		return nil
	}
	if n.Add(1) > MaxSubscriptions {
		n.Add(-1)
		return apperr.New(apperr.TooManySubscriptions, "a connection may hold at most %d subscriptions", MaxSubscriptions)
	}
	context.AfterFunc(ctx, func() { n.Add(-1) })
	return nil
}

var (
	errNoSuchSale  = apperr.New(apperr.NotFound, "no flash sale has that ID")
	errNoSuchEvent = apperr.New(apperr.NotFound, "no live event has that ID")
)

// watch subscribes to a feed's states of what c names, counted against the
// connection's subscriptions.
func watch[T any](ctx context.Context, f *live.Feed[T], c changes.Change) (<-chan T, error) {
	if err := takeSlot(ctx); err != nil {
		return nil, err
	}
	return f.Subscribe(ctx, c)
}

// TakeSubscriptionSlot counts a subscription the resolvers do not see
// (internal/submux serves it from a shared execution) against its
// connection until ctx ends.
func TakeSubscriptionSlot(ctx context.Context) error { return takeSlot(ctx) }

// WithoutSubscriptionSlots makes the resolvers take no slot under ctx: a
// shared execution's subscribers took theirs.
func WithoutSubscriptionSlots(ctx context.Context) context.Context {
	return context.WithValue(ctx, slotsKey{}, (*atomic.Int32)(nil))
}

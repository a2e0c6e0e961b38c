// Package live serves the mall's GraphQL subscriptions: a feed per kind of
// counter (a sale's stock, a live event's counters, the platform's totals),
// each a conflating broker (internal/broker) whose topics are pushed when
// a change of the feed's kind is announced (internal/changes), on this
// instance or another.
//
// Adding a subscription is one registration in New (a field and its
// feed) plus its resolver in graph.
package live

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"unionmall/ent"
	"unionmall/internal/broker"
	"unionmall/internal/changes"
	"unionmall/internal/flashsales"
	"unionmall/internal/gid"
	"unionmall/internal/stats"
)

// Interval bounds pushes per topic: at most ten a second, the last change
// within one interval.
const Interval = 100 * time.Millisecond

// Hub holds the feeds.
type Hub struct {
	Stock    *Feed[*flashsales.Stock]
	Counters *Feed[*flashsales.Counters]
	Stats    *Feed[*stats.Platform]
	Buyers   *Feed[*flashsales.Buyers]
	Feed     *Feed[*EventFeed]

	feeds []feed
	// clock pushes stock and counters again at their sales' starts and
	// ends, which no write announces.
	clock clock
}

// New registers the feeds for their kinds of change. Their states load
// from the flash-sale service, the platform totals' cache and (the
// purchase ticker) client.
func New(reg *changes.Registry, client *ent.Client, sales *flashsales.Service, totals *stats.Cache) *Hub {
	h := &Hub{}
	h.Stock = register(h, reg, changes.FlashSaleKind, func(ctx context.Context, c changes.Change) (*flashsales.Stock, error) {
		st, err := sales.StockNow(ctx, gid.ID(c.ID))
		if err == nil {
			h.clock.touchAt(c.String(), nextBoundary(time.Now(), *st), h.Stock.broker.Touch)
		}
		return st, err
	})
	h.Counters = register(h, reg, changes.LiveEventKind, func(ctx context.Context, c changes.Change) (*flashsales.Counters, error) {
		cs, err := sales.CountersNow(ctx, gid.ID(c.ID))
		if err == nil {
			h.clock.touchAt(c.String(), nextBoundary(time.Now(), cs.FlashSales...), h.Counters.broker.Touch)
		}
		return cs, err
	})
	h.Stats = register(h, reg, changes.StatsKind, func(ctx context.Context, _ changes.Change) (*stats.Platform, error) {
		return totals.Get(ctx)
	})
	h.Buyers = register(h, reg, changes.LiveEventKind, func(ctx context.Context, c changes.Change) (*flashsales.Buyers, error) {
		return sales.BuyersNow(ctx, gid.ID(c.ID))
	})
	h.Feed = register(h, reg, changes.LiveEventKind, func(ctx context.Context, c changes.Change) (*EventFeed, error) {
		ev, err := sales.LiveEventNow(ctx, gid.ID(c.ID))
		if err != nil {
			return nil, err
		}
		return FeedOf(ctx, client, ev, time.Now())
	})
	return h
}

// Feed is the subscriptions to one kind of change.
type Feed[T any] struct {
	kind   changes.Kind
	broker *broker.Broker[T]
}

type feed interface {
	stats() broker.Stats
	close()
}

// register makes a feed of kind k whose states load with load, and
// registers its pushes for the changes of k.
func register[T any](h *Hub, reg *changes.Registry, k changes.Kind, load func(context.Context, changes.Change) (T, error)) *Feed[T] {
	f := &Feed[T]{kind: k}
	f.broker = broker.New(func(ctx context.Context, topic string) (T, error) {
		c, _ := changes.Parse(topic)
		return load(ctx, c)
	}, broker.Options{Interval: Interval, OnLoadError: func(topic string, err error) {
		slog.Warn("loading live state failed", "topic", topic, "err", err)
	}})
	reg.On(k, changes.Handler{
		Changed: func(c changes.Change) { f.broker.Touch(c.String()) },
		Resync:  f.broker.TouchAll,
	})
	h.feeds = append(h.feeds, f)
	return f
}

// Subscribe returns a mailbox of the states of what c names, the current
// one first.
func (f *Feed[T]) Subscribe(ctx context.Context, c changes.Change) (<-chan T, error) {
	if c.Kind != f.kind {
		return nil, fmt.Errorf("live: a %s feed cannot serve %s", f.kind, c)
	}
	return f.broker.Subscribe(ctx, c.String())
}

func (f *Feed[T]) stats() broker.Stats { return f.broker.Stats() }
func (f *Feed[T]) close()              { f.broker.Close() }

// BrokerStats sums the feeds' broker counters (for metrics).
func (h *Hub) BrokerStats() broker.Stats {
	var out broker.Stats
	for _, f := range h.feeds {
		st := f.stats()
		out.Pushes += st.Pushes
		out.Skipped += st.Skipped
		out.Loads += st.Loads
		out.LoadErrors += st.LoadErrors
		out.Subscribers += st.Subscribers
		out.Topics += st.Topics
	}
	return out
}

// Close closes every subscription.
func (h *Hub) Close() {
	h.clock.close()
	for _, f := range h.feeds {
		f.close()
	}
}

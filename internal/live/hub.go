// Package live pushes the mall's counters to subscribers: a conflating
// broker per kind of state (a sale's stock, a live event's counters, the
// platform's totals), told of every committed change on this instance and,
// through PostgreSQL, on every other.
package live

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"unionmall/ent/liveevent"
	"unionmall/internal/apperr"
	"unionmall/internal/auth"
	"unionmall/internal/broker"
	"unionmall/internal/db"
	"unionmall/internal/fanout"
	"unionmall/internal/flashsales"
	"unionmall/internal/stats"
	"unionmall/internal/topics"
)

// Interval bounds pushes per topic: at most ten a second, the last change
// within one interval.
const Interval = 100 * time.Millisecond

// Hub holds the brokers.
type Hub struct {
	Stock    *broker.Broker[*flashsales.Stock]
	Counters *broker.Broker[*flashsales.Counters]
	Stats    *broker.Broker[*stats.Platform]

	db       *db.DB
	cache    *stats.Cache
	flash    atomic.Pointer[flashsales.Service]
	sessions atomic.Pointer[auth.Sessions]
	fan      atomic.Pointer[fanout.Fanout]
	deaf     atomic.Bool // Listen failed: other instances' changes go unheard
}

// New returns a hub whose brokers load state from d (and the stats cache).
func New(d *db.DB, cache *stats.Cache) *Hub {
	h := &Hub{db: d, cache: cache}
	opts := broker.Options{Interval: Interval, OnLoadError: func(topic string, err error) {
		slog.Warn("loading live state failed", "topic", topic, "err", err)
	}}
	h.Stock = broker.New(h.loadStock, opts)
	h.Counters = broker.New(h.loadCounters, opts)
	h.Stats = broker.New(func(ctx context.Context, _ string) (*stats.Platform, error) {
		return h.cache.Get(ctx)
	}, opts)
	return h
}

// SetSessions gives the hub the token cache that other instances'
// revocations clear.
func (h *Hub) SetSessions(s *auth.Sessions) { h.sessions.Store(s) }

// SetFlashSales gives the hub the service whose gates it refreshes when
// another instance changed a sale.
func (h *Hub) SetFlashSales(s *flashsales.Service) { h.flash.Store(s) }

func (h *Hub) loadStock(ctx context.Context, topic string) (*flashsales.Stock, error) {
	_, id := topics.Parse(topic)
	return h.flash.Load().StockNow(ctx, id)
}

func (h *Hub) loadCounters(ctx context.Context, topic string) (*flashsales.Counters, error) {
	_, id := topics.Parse(topic)
	ok, err := h.db.Client.LiveEvent.Query().Where(liveevent.ID(id)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.New(apperr.NotFound, "no live event has that ID")
	}
	return flashsales.CountersOf(ctx, h.db.Client, id, time.Now())
}

// Notify is told, after commit, which topics a change on this instance
// touched: subscribers here get the new state, other instances are told.
func (h *Hub) Notify(ts ...string) {
	h.touch(ts)
	if f := h.fan.Load(); f != nil {
		f.Publish(ts...)
	}
}

// Sync is Notify that returns once every other instance has handled the
// topics (see fanout.Sync): for revocations, which must hold everywhere
// before the request that made them answers.
func (h *Hub) Sync(ctx context.Context, ts ...string) error {
	h.touch(ts)
	if f := h.fan.Load(); f != nil {
		return f.Sync(ctx, ts...)
	}
	return nil
}

// Fresh reports whether this instance is hearing other instances' changes
// (always, when it is alone).
func (h *Hub) Fresh() bool {
	if f := h.fan.Load(); f != nil {
		return f.Connected()
	}
	return !h.deaf.Load()
}

func (h *Hub) touch(ts []string) {
	for _, t := range ts {
		switch kind, _ := topics.Parse(t); kind {
		case "fls":
			h.Stock.Touch(t)
		case "lev":
			h.Counters.Touch(t)
		case topics.Stats:
			h.cache.Invalidate()
			h.Stats.Touch(t)
		}
	}
}

// remote handles another instance's changes: the same pushes, and this
// instance's copy of a changed sale is re-read.
func (h *Hub) remote(ts []string) {
	h.touch(ts)
	fs, ss := h.flash.Load(), h.sessions.Load()
	for _, t := range ts {
		switch kind, id := topics.Parse(t); {
		case kind == "fls" && fs != nil:
			fs.Reload(id)
		case kind == "tok" && ss != nil:
			ss.ForgetToken(string(id))
		case kind == "mem" && ss != nil:
			ss.Forget(id)
		}
	}
}

// resync sends everyone the current state again: after the listening
// connection came back, anything may have changed meanwhile.
func (h *Hub) resync() {
	h.cache.Invalidate()
	h.Stock.TouchAll()
	h.Counters.TouchAll()
	h.Stats.TouchAll()
	if fs := h.flash.Load(); fs != nil {
		fs.ReloadAll()
	}
	if ss := h.sessions.Load(); ss != nil {
		ss.ForgetAll()
	}
}

// Listen joins the other instances on the PostgreSQL database at dsn until
// ctx ends. Without it (SQLite) the hub serves this instance alone.
func (h *Hub) Listen(ctx context.Context, dsn string) error {
	f, err := fanout.Start(ctx, dsn, h.db.Pool, fanout.Handlers{Changed: h.remote, Reconnected: h.resync})
	if err != nil {
		h.deaf.Store(true)
		return err
	}
	h.fan.Store(f)
	return nil
}

// Close closes every subscription.
func (h *Hub) Close() {
	h.Stock.Close()
	h.Counters.Close()
	h.Stats.Close()
}

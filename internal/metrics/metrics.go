// Package metrics is the server's Prometheus instrumentation: GraphQL
// operations by name and outcome, flash-sale purchases and refusals,
// websocket connections and subscriptions, the live brokers, the
// database pool and its prepared statements, plus Go's and the process's own figures. Each server has
// a registry of its own (tests run many servers in one process).
package metrics

import (
	"database/sql"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the server's instruments.
type Metrics struct {
	Registry       *prometheus.Registry
	operations     *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	flashPurchases prometheus.Counter
	flashRefusals  *prometheus.CounterVec
	websockets     prometheus.Gauge
	payments       *Payments
}

// New returns the instruments, registered with Go's and the process's
// collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mall_graphql_operations_total",
			Help: "GraphQL operations by root field (e.g. mutation.buyFlashSale) and outcome (OK or the error code).",
		}, []string{"operation", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mall_graphql_operation_seconds",
			Help:    "Time from receiving a GraphQL operation to its response, by root field.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"operation"}),
		flashPurchases: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mall_flash_sale_purchases_total",
			Help: "Successful buyFlashSale operations.",
		}),
		flashRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mall_flash_sale_refusals_total",
			Help: "Refused buyFlashSale operations by error code (SOLD_OUT, LIMIT_EXCEEDED, ...).",
		}, []string{"code"}),
		websockets: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mall_websocket_connections",
			Help: "Open websocket connections.",
		}),
	}
	m.Registry.MustRegister(m.operations, m.latency, m.flashPurchases, m.flashRefusals, m.websockets,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Operation records one GraphQL operation: its root field, its outcome
// ("" for success, else the first error's code) and how long it took.
func (m *Metrics) Operation(op, code string, took time.Duration) {
	if code == "" {
		code = "OK"
	}
	m.operations.WithLabelValues(op, code).Inc()
	m.latency.WithLabelValues(op).Observe(took.Seconds())
	if op == "mutation.buyFlashSale" {
		if code == "OK" {
			m.flashPurchases.Inc()
		} else {
			m.flashRefusals.WithLabelValues(code).Inc()
		}
	}
}

// WebsocketOpened and WebsocketClosed count open connections.
func (m *Metrics) WebsocketOpened() { m.websockets.Inc() }

// WebsocketClosed counts a connection gone.
func (m *Metrics) WebsocketClosed() { m.websockets.Dec() }

// BrokerStats are a broker's counts (see internal/broker).
type BrokerStats struct {
	Pushes, Skipped, Loads, LoadErrors uint64
	Subscribers, Topics                int
}

// Brokers exports the live brokers' figures, summed: subscriptions, and
// pushes and skipped (conflated) states.
func (m *Metrics) Brokers(stats func() BrokerStats) {
	f := func(pick func(BrokerStats) float64) func() float64 { return func() float64 { return pick(stats()) } }
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mall_subscriptions", Help: "Open GraphQL subscriptions."},
			f(func(s BrokerStats) float64 { return float64(s.Subscribers) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mall_broker_topics", Help: "Topics with subscribers."},
			f(func(s BrokerStats) float64 { return float64(s.Topics) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mall_broker_pushes_total", Help: "States delivered into subscribers' mailboxes."},
			f(func(s BrokerStats) float64 { return float64(s.Pushes) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mall_broker_skipped_total", Help: "States replaced before their subscriber read them (conflated)."},
			f(func(s BrokerStats) float64 { return float64(s.Skipped) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mall_broker_loads_total", Help: "States built from the database (at most ten a second per topic)."},
			f(func(s BrokerStats) float64 { return float64(s.Loads) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mall_broker_load_errors_total", Help: "Failed state loads."},
			f(func(s BrokerStats) float64 { return float64(s.LoadErrors) })),
	)
}

// Multiplexed exports the shared subscription executions (internal/submux):
// groups open and states executed and encoded once for all of a group.
func (m *Metrics) Multiplexed(groups func() int, executions func() uint64) {
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mall_subscription_groups", Help: "Groups of subscribers sharing one execution of a public feed."},
			func() float64 { return float64(groups()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mall_subscription_executions_total", Help: "States of shared feeds executed and encoded (once per group, not per subscriber)."},
			func() float64 { return float64(executions()) }),
	)
}

// ResponseCache exports the public reads' cache (internal/respcache):
// answers served from it, which no operation metric counts, and answers
// computed for a cacheable request.
func (m *Metrics) ResponseCache(stats func() (hits, misses int64)) {
	m.Registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mall_response_cache_hits_total", Help: "Public reads answered from the response cache."},
			func() float64 { h, _ := stats(); return float64(h) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mall_response_cache_misses_total", Help: "Cacheable public reads computed (not in the cache, or stale)."},
			func() float64 { _, m := stats(); return float64(m) }),
	)
}

// StatementStats are the counts of the prepared statements on PostgreSQL
// (db.PreparedStats).
type StatementStats struct {
	Prepared, Unprepared, Preparations, Evictions uint64
	Held                                          int
}

// Statements exports the statements run through the prepared-statement
// cache (ent's and the hot paths' own SQL), so that a load run can tell
// what a request costs the database in statements.
func (m *Metrics) Statements(stats func() StatementStats) {
	f := func(pick func(StatementStats) float64) func() float64 { return func() float64 { return pick(stats()) } }
	m.Registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mall_db_statements_prepared_total", Help: "Statements run as prepared statements."},
			f(func(s StatementStats) float64 { return float64(s.Prepared) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mall_db_statements_unprepared_total", Help: "Statements run unprepared: in a transaction before their preparation finished, or not preparable."},
			f(func(s StatementStats) float64 { return float64(s.Unprepared) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mall_db_statement_preparations_total", Help: "Statements prepared (each is then prepared again on every pool connection it runs on)."},
			f(func(s StatementStats) float64 { return float64(s.Preparations) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mall_db_statement_evictions_total", Help: "Prepared statements closed: least recently used beyond the cache's bound, or with a stale plan."},
			f(func(s StatementStats) float64 { return float64(s.Evictions) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mall_db_prepared_statements", Help: "Prepared statements in the cache."},
			f(func(s StatementStats) float64 { return float64(s.Held) })),
	)
}

// Pool exports the database pool's figures (open, in use, idle, waits).
func (m *Metrics) Pool(db *sql.DB) {
	m.Registry.MustRegister(collectors.NewDBStatsCollector(db, "mall"))
}

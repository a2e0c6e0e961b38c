package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Payments counts payments (payments.Observer): their events, the
// provider's notifications by outcome, and the provider's calls.
type Payments struct {
	events        *prometheus.CounterVec
	notifications *prometheus.CounterVec
	calls         *prometheus.HistogramVec
	callErrors    *prometheus.CounterVec
}

// Payments returns the payment instruments, registered.
func (m *Metrics) Payments() *Payments {
	if m.payments != nil {
		return m.payments
	}
	p := &Payments{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mall_payments_total",
			Help: "Payment events: started, paid, closed, late (paid after its order closed), refund_asked, refunded, refund_failed.",
		}, []string{"event"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mall_payment_notifications_total",
			Help: "Provider notifications by kind (payment, refund) and outcome (accepted, duplicate, or why rejected: signature, stale, probe, unknown_key, unknown_order, amount, merchant, app, ...).",
		}, []string{"kind", "outcome"}),
		calls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mall_payment_provider_seconds",
			Help:    "Calls to the payment provider by operation (start, query, close, refund, query_refund).",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"op"}),
		callErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mall_payment_provider_errors_total",
			Help: "Failed calls to the payment provider by operation.",
		}, []string{"op"}),
	}
	m.Registry.MustRegister(p.events, p.notifications, p.calls, p.callErrors)
	m.payments = p
	return p
}

// Payment counts a payment event.
func (p *Payments) Payment(event string) { p.events.WithLabelValues(event).Inc() }

// Notification counts a notification.
func (p *Payments) Notification(kind, outcome string) {
	p.notifications.WithLabelValues(kind, outcome).Inc()
}

// ProviderCall times a provider call and counts its failure.
func (p *Payments) ProviderCall(op string, took time.Duration, err error) {
	p.calls.WithLabelValues(op).Observe(took.Seconds())
	if err != nil {
		p.callErrors.WithLabelValues(op).Inc()
	}
}

package server

import (
	"unionmall/internal/broker"
	"unionmall/internal/db"
	"unionmall/internal/metrics"
)

// instrument registers what the metrics read from the server's parts: the
// pool, its prepared statements (PostgreSQL), the brokers and submux.
func (s *Server) instrument(d *db.DB) {
	s.Metrics.Pool(d.Pool)
	if st := d.Statements; st != nil {
		s.Metrics.Statements(func() metrics.StatementStats { return metrics.StatementStats(st.Stats()) })
	}
	s.Metrics.Brokers(func() metrics.BrokerStats { return metrics.BrokerStats(s.brokerStats()) })
	s.Metrics.Multiplexed(s.Submux.Groups, s.Submux.Executions)
}

// brokerStats sums the live feeds' and the order subscriptions' brokers.
func (s *Server) brokerStats() broker.Stats {
	out, o := s.Live.BrokerStats(), s.OrderWatch.Stats()
	out.Pushes += o.Pushes
	out.Skipped += o.Skipped
	out.Loads += o.Loads
	out.LoadErrors += o.LoadErrors
	out.Subscribers += o.Subscribers
	out.Topics += o.Topics
	return out
}

package gateway

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the gateway's Prometheus collectors.
type Metrics struct {
	Connections prometheus.Gauge
	Frames      *prometheus.CounterVec
	ItemsSent   prometheus.Counter
	WriteErrors prometheus.Counter
}

// NewMetrics creates the collectors and registers them with reg (nil:
// not registered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "parley_gateway_connections", Help: "Open client connections on this node."}),
		Frames:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_gateway_frames_total", Help: "Client frames received, by type."}, []string{"type"}),
		ItemsSent:   prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_gateway_items_sent_total", Help: "Mailbox items written to connections."}),
		WriteErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_gateway_write_errors_total", Help: "Failed writes to connections (the connection is closed)."}),
	}
	if reg != nil {
		reg.MustRegister(m.Connections, m.Frames, m.ItemsSent, m.WriteErrors)
	}
	return m
}

package webhook

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the dispatcher's Prometheus collectors.
type Metrics struct {
	Delivered prometheus.Counter
	Retried   prometheus.Counter // failed attempts that will be retried
	Dead      prometheus.Counter
	Latency   prometheus.Histogram // POST round trips, successful or not
	Open      prometheus.Gauge     // open events in the outbox (all nodes), sampled
	DeadStock prometheus.Gauge     // dead events waiting for the operator, sampled
}

// NewMetrics creates the collectors and registers them with reg (nil:
// not registered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Delivered: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_webhook_delivered_total", Help: "Webhook events delivered (2xx) by this node."}),
		Retried:   prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_webhook_retried_total", Help: "Failed webhook attempts scheduled for a retry."}),
		Dead:      prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_webhook_dead_total", Help: "Webhook events given up on (dead letters)."}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parley_webhook_post_seconds", Help: "Webhook POST round-trip time.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8)}),
		Open:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "parley_webhook_queue_depth", Help: "Open webhook events in the outbox (every node's)."}),
		DeadStock: prometheus.NewGauge(prometheus.GaugeOpts{Name: "parley_webhook_dead_events", Help: "Dead webhook events waiting for replay or purge."}),
	}
	if reg != nil {
		reg.MustRegister(m.Delivered, m.Retried, m.Dead, m.Latency, m.Open, m.DeadStock)
	}
	return m
}

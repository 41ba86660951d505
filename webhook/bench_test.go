package webhook_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/parley-chat/parley/bench"
)

// BenchmarkDispatchSQLite measures events per second from a SQLite
// outbox to a bare net/http receiver on loopback (in this process); b.N
// events over 2,000 keys. `parley bench webhooks` is the full benchmark,
// with the receiver in its own process and the baseline in the same run.
func BenchmarkDispatchSQLite(b *testing.B) {
	rcv := httptest.NewServer(bench.WebhookReceiver())
	defer rcv.Close()
	s := openSQLite(b)
	b.ResetTimer()
	r, err := bench.WebhookDispatch(b.Context(), s, rcv.URL+"/hook", bench.StatusBody(), max(b.N, 1000), 2000, 64, 8)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(r.DrainPerSec, "events/s")
	b.ReportMetric(r.EnqueuePerSec, "enqueued/s")
}

// BenchmarkBaselinePosts is the baseline: a plain net/http client posting
// the same body to the same kind of receiver.
func BenchmarkBaselinePosts(b *testing.B) {
	rcv := httptest.NewServer(bench.WebhookReceiver())
	defer rcv.Close()
	perSec, err := bench.BaselinePosts(b.Context(), rcv.URL+"/hook", bench.StatusBody(), 64, 3*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(perSec, "req/s")
}

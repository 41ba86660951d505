package app_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/app"
)

// BenchmarkCloudAPISend measures the acceptance path of
// POST /{phone-number-id}/messages end to end over HTTP on one node
// (SQLite): authentication, validation, policy, the outbound queue's
// group commit, the answer. It reports accepted messages per second and
// the 99th percentile latency. Run it alone, for example:
//
//	go test -run '^$' -bench CloudAPISend -benchtime 100000x ./app/
//
// The target is 20,000 messages/s with p99 ≤ 25 ms on the 2-core
// machine; the load generator shares the machine here, so this is a
// lower bound of what a node does.
func BenchmarkCloudAPISend(b *testing.B) {
	for _, clients := range []int{64, 256} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchmarkCloudAPISend(b, clients) })
	}
}

func benchmarkCloudAPISend(b *testing.B, clients int) {
	n := startNode(b, app.Config{})
	biz := createBusiness(b, n, map[string]any{"throughput": 100_000})
	url := n.base + "/v24.0/" + biz.PhoneNumberID + "/messages"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	var seq atomic.Int64
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	b.SetParallelism(max(1, clients/2))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		mine := make([]time.Duration, 0, 1024)
		for pb.Next() {
			i := seq.Add(1)
			body := fmt.Appendf(nil, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+1650%07d","type":"text","text":{"body":"Your order %d has shipped"}}`, i%50_000, i)
			req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+biz.AccessToken)
			req.Header.Set("Content-Type", "application/json")
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mine = append(mine, time.Since(t0))
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}

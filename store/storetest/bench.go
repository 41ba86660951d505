package storetest

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley"
)

// BenchmarkDeliver measures Deliver with many parallel senders, each call
// one message to one device with an idempotency key, the shape of a chat
// under load. It reports durable messages per second and the process's
// CPU time per message, which unlike the rate does not depend on what
// else the machine is doing.
func BenchmarkDeliver(b *testing.B, open func(tb testing.TB) parley.Store) {
	// Group commit makes batches as large as the number of senders
	// waiting, so throughput depends on it; a node has thousands of
	// connections.
	for _, senders := range []int{16, 128, 1024} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) { benchmarkDeliver(b, open, senders) })
	}
}

func benchmarkDeliver(b *testing.B, open func(tb testing.TB) parley.Store, senders int) {
	s := open(b)
	const devices = 1000
	sender := mustAccount(b, s)
	senderDev := mustDevice(b, s, sender)
	type dst struct {
		account string
		id      uint32
	}
	dsts := make([]dst, devices)
	for i := range dsts {
		a := mustAccount(b, s)
		dsts[i] = dst{a, mustDevice(b, s, a)}
	}
	body := make([]byte, 256) // a short text message after encryption
	var n atomic.Uint64
	b.SetParallelism(max(1, senders/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			to := dsts[i%devices]
			id := fmt.Sprint(i)
			d := &parley.Delivery{From: sender, FromDevice: senderDev, ClientID: id, MessageID: "m" + id, Timestamp: t0,
				Items: []parley.Item{{Account: to.account, Device: to.id, Kind: parley.KindMessage, MessageID: "m" + id, ClientID: id,
					From: sender, FromDevice: senderDev, To: to.account, Timestamp: t0, Body: body}}}
			if err := s.Deliver(b.Context(), d); err != nil {
				b.Error(err)
				return
			}
		}
	})
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
	}
}

package storetest

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/cpuclock"
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
	runParallel(b, senders, func(i uint64) error {
		to := dsts[i%devices]
		id := fmt.Sprint(i)
		d := &parley.Delivery{From: sender, FromDevice: senderDev, ClientID: id, MessageID: "m" + id, Timestamp: t0,
			Items: []parley.Item{{Account: to.account, Device: to.id, Kind: parley.KindMessage, MessageID: "m" + id, ClientID: id,
				From: sender, FromDevice: senderDev, To: to.account, Timestamp: t0, Body: body}}}
		return s.Deliver(b.Context(), d)
	})
}

// runParallel calls op b.N times (i from 1) from callers goroutines at
// once and reports messages per second and the process's CPU time per
// message, which unlike the rate does not depend on what else the
// machine is doing.
func runParallel(b *testing.B, callers int, op func(i uint64) error) {
	var n atomic.Uint64
	b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	cpu0 := cpuclock.Process()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(n.Add(1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	cpu := cpuclock.Process() - cpu0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
	}
}

// BenchmarkRoundTrip measures the store's whole work for a 1:1 message:
// Deliver it, the recipient's AckWith (deleting it and making a delivery
// receipt for the sender's device), the sender's Ack of that receipt.
// Recipients acknowledge perAck messages at a time, as clients batch
// their acks; 64 pairs run at once, so batches fill as on a busy node.
func BenchmarkRoundTrip(b *testing.B, open func(tb testing.TB) parley.Store) {
	for _, perAck := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("perAck=%d", perAck), func(b *testing.B) { benchmarkRoundTrip(b, open, perAck) })
	}
}

func benchmarkRoundTrip(b *testing.B, open func(tb testing.TB) parley.Store, perAck int) {
	s := open(b)
	const pairs = 64
	type pair struct {
		from, to       string
		fromDev, toDev uint32
	}
	ps := make([]pair, pairs)
	for i := range ps {
		p := &ps[i]
		p.from, p.to = mustAccount(b, s), mustAccount(b, s)
		p.fromDev, p.toDev = mustDevice(b, s, p.from), mustDevice(b, s, p.to)
	}
	body := make([]byte, 256)
	var next atomic.Int64
	var n atomic.Uint64
	b.ResetTimer()
	cpu0 := cpuclock.Process()
	var wg sync.WaitGroup
	for i := range ps {
		p := ps[i]
		wg.Go(func() {
			ctx := b.Context()
			for next.Add(int64(perAck)) <= int64(b.N)+int64(perAck)-1 {
				seqs := make([]uint64, 0, perAck)
				for range perAck {
					id := fmt.Sprint(n.Add(1))
					d := &parley.Delivery{From: p.from, FromDevice: p.fromDev, ClientID: id, MessageID: "m" + id, Timestamp: t0,
						Items: []parley.Item{{Account: p.to, Device: p.toDev, Kind: parley.KindMessage, MessageID: "m" + id, ClientID: id,
							From: p.from, FromDevice: p.fromDev, To: p.to, Timestamp: t0, Body: body}}}
					if err := s.Deliver(ctx, d); err != nil {
						b.Error(err)
						return
					}
					seqs = append(seqs, d.Items[0].Seq)
				}
				receipts, err := s.AckWith(ctx, p.to, p.toDev, seqs, func(deleted []parley.Item) []parley.Item {
					out := make([]parley.Item, 0, len(deleted))
					for _, it := range deleted {
						out = append(out, parley.Item{Account: it.From, Kind: parley.KindDelivered, MessageID: it.MessageID,
							From: p.to, FromDevice: p.toDev, To: it.From, Timestamp: t0})
					}
					return out
				})
				if err != nil || len(receipts) != len(seqs) {
					b.Errorf("AckWith: %d receipts, %v; want %d", len(receipts), err, len(seqs))
					return
				}
				if err := s.Ack(ctx, p.from, p.fromDev, seqsOf(receipts), nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	cpu := cpuclock.Process() - cpu0
	msgs := n.Load()
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
	if cpu > 0 && msgs > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(msgs), "cpu-µs/msg")
	}
}

// BenchmarkEnqueue measures the Cloud API's outbound queue: Enqueue of a
// text message of one business number from many callers at once (the
// request handlers of POST /messages), through the group commit. It
// reports messages per second and the process's CPU time per message.
func BenchmarkEnqueue(b *testing.B, open func(tb testing.TB) parley.Store) {
	for _, callers := range []int{8, 64} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			s := open(b)
			f := mustBusiness(b, s)
			runParallel(b, callers, func(i uint64) error { return s.Enqueue(b.Context(), outboundMsg(f, int(i))) })
		})
	}
}

// BenchmarkWebhookOutbox measures the outbox's share of webhook dispatch:
// b.N events over 2,000 ordering keys are enqueued (not timed), then
// claimed (128 queues at a time) and settled as delivered, one round
// after another, until none is left, as a dispatcher does with no HTTP in
// between. It reports the process's CPU time per event and, on Linux, the
// bytes it wrote per event (WAL and checkpoints on SQLite).
func BenchmarkWebhookOutbox(b *testing.B, open func(tb testing.TB) parley.Store) {
	for _, perQueue := range []int{8, 32} {
		b.Run(fmt.Sprintf("perQueue=%d", perQueue), func(b *testing.B) { benchmarkWebhookOutbox(b, open, perQueue) })
	}
}

func benchmarkWebhookOutbox(b *testing.B, open func(tb testing.TB) parley.Store, perQueue int) {
	s := open(b)
	ctx := b.Context()
	body := make([]byte, 515)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	now := time.Now()
	const keys, batch = 2000, 500
	for i := 0; i < b.N; i += batch {
		evs := make([]parley.WebhookEvent, 0, batch)
		for j := i; j < min(i+batch, b.N); j++ {
			evs = append(evs, parley.WebhookEvent{Endpoint: "bench", Key: fmt.Sprint("k", j%keys), Body: body, CreatedAt: now})
		}
		if err := s.EnqueueWebhooks(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	written := bytesWritten()
	cpu := cpuclock.Process()
	done, round := 0, 0
	for done < b.N {
		round++
		at := time.Now()
		qs, err := s.ClaimWebhooks(ctx, parley.WebhookClaim{Now: at, LeaseUntil: at.Add(time.Minute),
			Lease: fmt.Sprint("bench-", round), Queues: 128, PerQueue: perQueue})
		if err != nil {
			b.Fatal(err)
		}
		if len(qs) == 0 {
			b.Fatalf("nothing due with %d of %d events settled", done, b.N)
		}
		rs := make([]parley.WebhookResult, len(qs))
		for i, q := range qs {
			rs[i] = parley.WebhookResult{Endpoint: q.Endpoint, Key: q.Key, Lease: q.Lease, At: at}
			for _, e := range q.Events {
				rs[i].Delivered = append(rs[i].Delivered, e.ID)
			}
			done += len(q.Events)
		}
		if err := s.SettleWebhooks(ctx, rs); err != nil {
			b.Fatal(err)
		}
	}
	cpu = cpuclock.Process() - cpu
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N), "cpu-µs/event")
	}
	if w := bytesWritten(); w > 0 {
		b.ReportMetric(float64(w-written)/float64(b.N), "written-B/event")
	}
}

// bytesWritten is what this process has written so far (Linux's
// /proc/self/io wchar), or 0.
func bytesWritten() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

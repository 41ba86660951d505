package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/sdk"
)

// MessagesResult is the outcome of a throughput run.
type MessagesResult struct {
	Pairs     int
	Duration  time.Duration
	Received  int64   // messages received by recipients in the window
	PerSecond float64 // Received / Duration
	P50, P99  time.Duration
	Errors    int64
}

// Messages drives pairs of clients: senders[i] sends to receivers[i],
// keeping at most window sends outstanding per sender. With servers a
// and b the same node, every client connects to it; with two nodes of a
// cluster, the two ends of every pair are on different nodes, the sender
// of even pairs on a and of odd ones on b, so that each node's writer
// handles sends and the receipts of acks alike. Receivers
// acknowledge in batches, as real clients do; senders acknowledge the
// delivery receipts.
//
// With rate 0 (a closed loop) senders send as fast as the server
// acknowledges, and latency is from just before the send frame is written
// to when the recipient reads the item. With a rate (messages per second,
// all pairs together; an open loop) each sender sends on a fixed
// schedule, and latency is from the moment the schedule gave a message to
// when the recipient reads it: a sender held back by its window or by its
// own pacing (it sleeps at least a millisecond) counts against the
// server, so a server that cannot keep up shows it in the latency instead
// of slowing the load down.
func Messages(ctx context.Context, a, b string, senders, receivers []Cred, window int, rate float64, warmup, measure time.Duration) (*MessagesResult, error) {
	if len(senders) != len(receivers) {
		return nil, fmt.Errorf("senders and receivers differ in number")
	}
	if rate < 0 || window < 1 {
		return nil, fmt.Errorf("rate %v, window %d: want a rate of 0 or more and a window of 1 or more", rate, window)
	}
	// The load generator shares the machine with the server: a fifth of
	// the garbage collections for a few more MB of heap.
	defer debug.SetGCPercent(debug.SetGCPercent(500))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var measuring atomic.Bool
	var received, errs atomic.Int64
	lat := make([][]time.Duration, len(receivers))
	var wg sync.WaitGroup
	conns := make([]*benchConn, 0, 2*len(senders))
	for i := range receivers {
		r, err := dialBench(ctx, pick(i, b, a), receivers[i])
		if err != nil {
			return nil, err
		}
		conns = append(conns, r)
		wg.Go(func() {
			r.readLoop(func(kind string, body []byte) {
				if kind != "msg" || len(body) < 8 {
					return
				}
				if measuring.Load() {
					sent := int64(binary.BigEndian.Uint64(body))
					lat[i] = append(lat[i], time.Duration(time.Now().UnixNano()-sent))
					received.Add(1)
				}
			}, nil, &errs)
		})
	}
	for i := range senders {
		s, err := dialBench(ctx, pick(i, a, b), senders[i])
		if err != nil {
			return nil, err
		}
		conns = append(conns, s)
		credits := make(chan struct{}, window)
		for range window {
			credits <- struct{}{}
		}
		wg.Go(func() { s.readLoop(nil, credits, &errs) })
		to := receivers[i].Account
		// WriteFrames keeps neither the frames nor their bodies: one of
		// each per credit serves every send.
		frames := make([]*sdk.Frame, window)
		for i := range frames {
			frames[i] = &sdk.Frame{Type: "send", To: to, Copies: []sdk.Copy{{Account: to, Device: 1, Body: make([]byte, 100)}}}
		}
		if rate > 0 {
			// The senders' schedules are offset from each other by an
			// even share of the interval.
			interval := max(time.Duration(float64(time.Second)*float64(len(senders))/rate), 1)
			first := time.Now().Add(interval * time.Duration(i) / time.Duration(len(senders)))
			wg.Go(func() { s.paced(ctx, frames, credits, first, interval) })
			continue
		}
		wg.Go(func() {
			for {
				// The credits that came meanwhile go out in the same write.
				k, ok := takeCredits(ctx, credits, window)
				if !ok {
					return
				}
				now := uint64(time.Now().UnixNano())
				for _, f := range frames[:k] {
					binary.BigEndian.PutUint64(f.Copies[0].Body, now)
					// Client ids as the SDK's Send makes them: the server's
					// cost for them depends on their order (NewClientID).
					f.ID = sdk.NewClientID()
				}
				if err := s.c.WriteFrames(ctx, frames[:k]); err != nil {
					return
				}
			}
		})
	}
	// One ticker flushes every connection's acks each 5 ms: a ticker per
	// connection cost the load generator a timer wake-up per connection
	// and tick (20,000/s for 50 pairs).
	wg.Go(func() {
		t := time.NewTicker(ackInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				for _, c := range conns {
					c.flushAcks()
				}
			}
		}
	})
	select {
	case <-time.After(warmup):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	measuring.Store(true)
	start := time.Now()
	time.Sleep(measure)
	measuring.Store(false)
	elapsed := time.Since(start)
	n := received.Load()
	cancel()
	for _, c := range conns {
		c.c.Close()
	}
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	res := &MessagesResult{Pairs: len(senders), Duration: elapsed, Received: n, PerSecond: float64(n) / elapsed.Seconds(), Errors: errs.Load()}
	if len(all) > 0 {
		res.P50 = all[len(all)/2]
		res.P99 = all[len(all)*99/100]
	}
	return res, nil
}

// takeCredits waits for a credit, then takes up to limit-1 more that are
// there already, and returns how many it took; false when ctx ended.
func takeCredits(ctx context.Context, credits chan struct{}, limit int) (int, bool) {
	select {
	case <-ctx.Done():
		return 0, false
	case <-credits:
	}
	k := 1
	for k < limit {
		select {
		case <-credits:
			k++
		default:
			return k, true
		}
	}
	return k, true
}

// paced sends frames' messages on a schedule, one every interval from
// first on, each carrying the time the schedule gave it; at most
// len(frames) are outstanding (credits). It returns when ctx ends.
func (b *benchConn) paced(ctx context.Context, frames []*sdk.Frame, credits chan struct{}, first time.Time, interval time.Duration) {
	var sent int64 // messages of the schedule sent so far
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		due := int64(0)
		if !now.Before(first) {
			due = int64(now.Sub(first)/interval) + 1 - sent
		}
		if due <= 0 {
			// Sleep until the next message is due, a millisecond at
			// least: faster schedules send several per wake-up.
			next := first.Add(time.Duration(sent) * interval)
			timer.Reset(max(next.Sub(now), time.Millisecond))
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
			continue
		}
		k, ok := takeCredits(ctx, credits, int(min(due, int64(len(frames)))))
		if !ok {
			return
		}
		for j, f := range frames[:k] {
			at := first.Add(time.Duration(sent+int64(j)) * interval)
			binary.BigEndian.PutUint64(f.Copies[0].Body, uint64(at.UnixNano()))
			f.ID = sdk.NewClientID()
		}
		sent += int64(k)
		if err := b.c.WriteFrames(ctx, frames[:k]); err != nil {
			return
		}
	}
}

type benchConn struct {
	c    *sdk.Conn
	mu   sync.Mutex
	acks []uint64
}

func dialBench(ctx context.Context, server string, cred Cred) (*benchConn, error) {
	c, err := sdk.Dial(ctx, server, cred.Token, nil)
	if err != nil {
		return nil, err
	}
	return &benchConn{c: c}, nil
}

// ackInterval is how often acks are flushed (when fewer than 64 items
// came in since the last flush).
const ackInterval = 5 * time.Millisecond

// flushAcks writes the acks gathered so far.
func (b *benchConn) flushAcks() {
	b.mu.Lock()
	if len(b.acks) == 0 {
		b.mu.Unlock()
		return
	}
	f := &sdk.Frame{Type: "ack", Seqs: slices.Clone(b.acks)}
	b.acks = b.acks[:0]
	b.mu.Unlock()
	b.c.Write(context.Background(), f)
}

// readLoop reads frames until the connection closes: items go to onItem
// and are acknowledged in batches, as real clients do (every 64 items, or
// every ackInterval by Messages's ticker); each "sent" returns a credit.
func (b *benchConn) readLoop(onItem func(kind string, body []byte), credits chan struct{}, errs *atomic.Int64) {
	ctx := context.Background()
	f := new(sdk.Frame)
	for {
		if err := b.c.ReadInto(ctx, f); err != nil {
			return
		}
		switch f.Type {
		case "item":
			if onItem != nil {
				onItem(f.Kind, f.Body)
			}
			b.mu.Lock()
			b.acks = append(b.acks, f.Seq)
			n := len(b.acks)
			b.mu.Unlock()
			if n >= 64 {
				b.flushAcks()
			}
		case "sent":
			if credits != nil {
				credits <- struct{}{}
			}
		case "error":
			errs.Add(1)
			if credits != nil {
				credits <- struct{}{}
			}
		}
	}
}

// pick returns even for an even pair index, else odd.
func pick(i int, even, odd string) string {
	if i%2 == 0 {
		return even
	}
	return odd
}

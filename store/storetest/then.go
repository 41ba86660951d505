package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/parley-chat/parley"
)

// thenMailbox is the callback interface of service.ThenMailbox (not
// imported: storetest stays below service).
type thenMailbox interface {
	DeliverThen(ctx context.Context, d *parley.Delivery, then func(b *parley.Burst, err error)) error
	AckWithThen(ctx context.Context, account string, device uint32, seqs []uint64, followUps func(deleted []parley.Item) []parley.Item, then func(b *parley.Burst, sent []parley.Item, err error)) error
}

// testThen checks the callback variants of Deliver and AckWith, for
// stores that have them: each callback runs once with the result Deliver
// and AckWith would return, duplicates included, and what a callback
// hands to its burst's Finally runs after every callback of that burst.
func testThen(t *testing.T, open func(t *testing.T) parley.Store) {
	s := open(t)
	tm, ok := s.(thenMailbox)
	if !ok {
		t.Skip("this store has no callback variants")
	}
	p := newPair(t, s)
	const n = 200
	var mu sync.Mutex
	var events []string               // in the order callbacks and Finally functions ran
	ended := map[*parley.Burst]bool{} // bursts whose Finally ran
	var wg, bursts sync.WaitGroup     // callbacks; bursts whose Finally has not run yet
	ds := make([]*parley.Delivery, n+1)
	for i := range n + 1 {
		id := fmt.Sprint(i)
		if i == n {
			id = "0" // the first key again: a duplicate
		}
		d := p.delivery(id)
		ds[i] = d
		if i == n {
			wg.Wait() // the duplicate after the first commit, not in the same batch
		}
		wg.Add(1)
		err := tm.DeliverThen(ctxT(t), d, func(b *parley.Burst, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("DeliverThen(%s): %v", id, err)
			}
			if ended[b] {
				t.Errorf("callback of %s ran after its burst ended", id)
			}
			events = append(events, "cb")
			if b.Finally("k", func() {
				mu.Lock()
				defer mu.Unlock()
				ended[b] = true
				events = append(events, "end")
				bursts.Done()
			}) {
				bursts.Add(1) // before this callback returns, so before wg.Wait does
			}
		})
		if err != nil {
			t.Fatalf("DeliverThen(%s) queued nothing: %v", id, err)
		}
	}
	wg.Wait()
	bursts.Wait() // a burst's Finally runs after its last callback has returned
	seqs := make([]uint64, 0, n)
	for i, d := range ds[:n] {
		if d.Duplicate || d.Items[0].Seq == 0 {
			t.Fatalf("delivery %d: duplicate %v, seq %d", i, d.Duplicate, d.Items[0].Seq)
		}
		seqs = append(seqs, d.Items[0].Seq)
	}
	if dup := ds[n]; !dup.Duplicate || dup.MessageID != ds[0].MessageID {
		t.Errorf("second delivery of key 0: duplicate %v, message %s; want the first's %s", dup.Duplicate, dup.MessageID, ds[0].MessageID)
	}
	slices.Sort(seqs)
	if seqs[0] != 1 || seqs[n-1] != n {
		t.Errorf("seqs run %d…%d, want 1…%d", seqs[0], seqs[n-1], n)
	}
	mu.Lock()
	cbs, ends := 0, 0
	for _, e := range events {
		if e == "cb" {
			cbs++
		} else {
			ends++
		}
	}
	mu.Unlock()
	if cbs != n+1 || ends < 2 || ends > cbs || events[len(events)-1] != "end" {
		t.Errorf("%d callbacks and %d burst ends (last %q); want %d callbacks, at least two bursts, the last event an end", cbs, ends, events[len(events)-1], n+1)
	}

	// AckWithThen: the receipts its follow-ups made, with their seqs.
	done := make(chan struct{})
	err := tm.AckWithThen(ctxT(t), p.to, p.toA, seqs[:3], func(deleted []parley.Item) []parley.Item {
		out := make([]parley.Item, 0, len(deleted))
		for _, it := range deleted {
			out = append(out, parley.Item{Account: it.From, Device: p.fromDev, Kind: parley.KindDelivered, MessageID: it.MessageID,
				From: p.to, FromDevice: p.toA, To: it.From, Timestamp: t0})
		}
		return out
	}, func(b *parley.Burst, sent []parley.Item, err error) {
		defer close(done)
		if err != nil || len(sent) != 3 || sent[0].Seq == 0 || sent[0].Device != p.fromDev {
			t.Errorf("AckWithThen: %+v, %v; want three receipts for device %d with seqs", sent, err, p.fromDev)
		}
	})
	if err != nil {
		t.Fatalf("AckWithThen queued nothing: %v", err)
	}
	<-done
	if got := fetchAll(t, s, p.to, p.toA); len(got) != n-3 {
		t.Errorf("after acking 3 of %d: %d items left", n, len(got))
	}
}

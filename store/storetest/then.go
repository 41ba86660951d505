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
	AckWithThen(ctx context.Context, account string, device uint32, seqs []uint64, known []parley.Item, followUps func(deleted []parley.Item) []parley.Item, then func(b *parley.Burst, sent []parley.Item, err error)) error
}

// openThen opens a store with the callback variants and a pair on it;
// the test is skipped for a store without them.
func openThen(t *testing.T, open func(t *testing.T) parley.Store) (parley.Store, thenMailbox, *pair) {
	s := open(t)
	tm, ok := s.(thenMailbox)
	if !ok {
		t.Skip("this store has no callback variants")
	}
	return s, tm, newPair(t, s)
}

// testThen checks the callback variants of Deliver and AckWith, for
// stores that have them: each callback runs once with the result Deliver
// and AckWith would return, duplicates included, and what a callback
// hands to its burst's Finally runs after every callback of that burst.
func testThen(t *testing.T, open func(t *testing.T) parley.Store) {
	s, tm, p := openThen(t, open)
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
	err := tm.AckWithThen(ctxT(t), p.to, p.toA, seqs[:3], nil, func(deleted []parley.Item) []parley.Item {
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

// testAckKnown checks AckWithThen with the items known: followUps gets
// them when every one was there, the items the store still had when some
// were gone already (read back in a careful run), and known is ignored
// when it does not match seqs. Receipts stored as one span row (span.go)
// are acknowledged with known items too.
func testAckKnown(t *testing.T, open func(t *testing.T) parley.Store) {
	s, tm, p := openThen(t, open)
	for i := range 6 {
		p.deliver(t, fmt.Sprint(i))
	}
	items := fetchAll(t, s, p.to, p.toA) // seqs 1…6, as the device was sent them
	if len(items) != 6 {
		t.Fatalf("device has %d items, want 6", len(items))
	}
	receipts := func(deleted []parley.Item) []parley.Item {
		out := make([]parley.Item, 0, len(deleted))
		for _, it := range deleted {
			if it.Kind == parley.KindMessage {
				out = append(out, parley.Item{Account: it.From, Device: it.FromDevice, Kind: parley.KindDelivered,
					MessageID: it.MessageID, From: p.to, FromDevice: p.toA, To: it.From, Timestamp: t0})
			}
		}
		return out
	}
	ack := func(name string, acct string, dev uint32, seqs []uint64, known []parley.Item) (saw, sent []parley.Item) {
		t.Helper()
		done := make(chan struct{})
		err := tm.AckWithThen(ctxT(t), acct, dev, seqs, known, func(deleted []parley.Item) []parley.Item {
			saw = slices.Clone(deleted)
			return receipts(deleted)
		}, func(_ *parley.Burst, got []parley.Item, err error) {
			defer close(done)
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			sent = got
		})
		if err != nil {
			t.Fatalf("%s queued nothing: %v", name, err)
		}
		<-done
		return saw, sent
	}
	ids := func(items []parley.Item) []string {
		var out []string
		for _, it := range items {
			out = append(out, fmt.Sprintf("%d:%s", it.Seq, it.MessageID))
		}
		return out
	}

	// All there: the known items, in seq order whatever order they came in.
	saw, sent := ack("AllThere", p.to, p.toA, []uint64{2, 1, 3}, []parley.Item{items[2], items[0], items[1]})
	if got, want := ids(saw), ids(items[:3]); !slices.Equal(got, want) {
		t.Errorf("AllThere: followUps got %v, want %v", got, want)
	}
	if len(sent) != 3 || sent[0].Seq == 0 {
		t.Errorf("AllThere: %d receipts sent (%+v), want 3 with seqs", len(sent), sent)
	}
	// The known items themselves, not rows read back (which carry no
	// client id).
	if len(saw) > 0 && (saw[0].ClientID == "" || saw[0].ClientID != items[0].ClientID) {
		t.Errorf("AllThere: followUps got client id %q, want the known item's %q", saw[0].ClientID, items[0].ClientID)
	}
	// Seq 4 acknowledged before: the careful run hands over 5 and 6 only.
	ack("Before", p.to, p.toA, []uint64{4}, items[3:4])
	saw, sent = ack("SomeGone", p.to, p.toA, []uint64{4, 5, 6}, items[3:6])
	if got, want := ids(saw), ids(items[4:6]); !slices.Equal(got, want) {
		t.Errorf("SomeGone: followUps got %v, want %v (4 was gone)", got, want)
	}
	if len(sent) != 2 {
		t.Errorf("SomeGone: %d receipts, want 2", len(sent))
	}
	if left := fetchAll(t, s, p.to, p.toA); len(left) != 0 {
		t.Errorf("items %v left after acking all", seqsOf(left))
	}
	// Known items for other seqs than those acked: ignored, the rows are
	// read back.
	other := fetchAll(t, s, p.to, p.toB)
	saw, _ = ack("Mismatch", p.to, p.toB, []uint64{1, 2}, other[2:4])
	if got, want := ids(saw), ids(other[:2]); !slices.Equal(got, want) {
		t.Errorf("Mismatch: followUps got %v, want %v (the stored items)", got, want)
	}

	// The sender's device has the receipts of the first ack as one span
	// row (seqs 1…3) and those of the other four acks after it (1, 2
	// and 2 receipts); acknowledging
	// them with the items known empties its mailbox, and a second ack of
	// the same ones finds them gone.
	rs := fetchAll(t, s, p.from, p.fromDev)
	if len(rs) != 8 || rs[0].Kind != parley.KindDelivered {
		t.Fatalf("sender has %d items (%v), want 8 receipts", len(rs), ids(rs))
	}
	seqs := seqsOf(rs)
	saw, sent = ack("Receipts", p.from, p.fromDev, seqs, rs)
	if got, want := ids(saw), ids(rs); !slices.Equal(got, want) || len(sent) != 0 {
		t.Errorf("Receipts: followUps got %v, sent %d; want %v, none sent", got, len(sent), want)
	}
	if left := fetchAll(t, s, p.from, p.fromDev); len(left) != 0 {
		t.Errorf("receipts %v left after acking all", ids(left))
	}
	saw, _ = ack("ReceiptsAgain", p.from, p.fromDev, seqs, rs)
	if len(saw) != 0 {
		t.Errorf("ReceiptsAgain: followUps got %v, want nothing (all gone)", ids(saw))
	}

	// Acks that name the same items, queued at once (so usually in one
	// batch, where the first op to name a row counts it; one by one the
	// outcome is the same): known and unknown ones in turn.
	for i := range 8 {
		p.deliver(t, fmt.Sprint("overlap", i))
	}
	more := fetchAll(t, s, p.to, p.toA)
	if len(more) != 8 {
		t.Fatalf("device has %d new items, want 8", len(more))
	}
	pick := func(idx ...int) (seqs []uint64, known []parley.Item) {
		for _, i := range idx {
			seqs = append(seqs, more[i].Seq)
			known = append(known, more[i])
		}
		return seqs, known
	}
	type ackOp struct {
		name  string
		idx   []int
		known bool
		want  []int // the items its followUps get
	}
	acks := []ackOp{
		{"A", []int{0, 1}, true, []int{0, 1}},
		{"B", []int{1, 2}, false, []int{2}},
		{"C", []int{2, 3}, true, []int{3}},
		{"D", []int{4}, true, []int{4}},
		{"E", []int{4, 5}, true, []int{5}},
		{"F", []int{6}, false, []int{6}},
		{"G", []int{6, 7}, true, []int{7}},
	}
	got := make([][]parley.Item, len(acks))
	var wg sync.WaitGroup
	for i, a := range acks {
		seqs, known := pick(a.idx...)
		if !a.known {
			known = nil
		}
		wg.Add(1)
		err := tm.AckWithThen(ctxT(t), p.to, p.toA, seqs, known, func(deleted []parley.Item) []parley.Item {
			got[i] = slices.Clone(deleted)
			return nil
		}, func(_ *parley.Burst, _ []parley.Item, err error) {
			defer wg.Done()
			if err != nil {
				t.Errorf("Overlap %s: %v", a.name, err)
			}
		})
		if err != nil {
			t.Fatalf("Overlap %s queued nothing: %v", a.name, err)
		}
	}
	wg.Wait()
	for i, a := range acks {
		_, want := pick(a.want...)
		if g, w := ids(got[i]), ids(want); !slices.Equal(g, w) {
			t.Errorf("Overlap %s: followUps got %v, want %v", a.name, g, w)
		}
	}
	if left := fetchAll(t, s, p.to, p.toA); len(left) != 0 {
		t.Errorf("items %v left after the overlapping acks", ids(left))
	}

	// A span row of receipts acknowledged in two parts, the items known:
	// the first ack empties two of its lines, the second deletes it.
	for i := range 3 {
		p.deliver(t, fmt.Sprint("span", i))
	}
	msgs := fetchAll(t, s, p.to, p.toA)
	ack("SpanSource", p.to, p.toA, seqsOf(msgs), msgs)
	spanned := fetchAll(t, s, p.from, p.fromDev)
	if len(spanned) != 3 {
		t.Fatalf("sender has %d receipts (%v), want 3", len(spanned), ids(spanned))
	}
	saw, _ = ack("SpanFirst", p.from, p.fromDev, seqsOf(spanned[:2]), spanned[:2])
	if got, want := ids(saw), ids(spanned[:2]); !slices.Equal(got, want) {
		t.Errorf("SpanFirst: followUps got %v, want %v", got, want)
	}
	if got, want := ids(fetchAll(t, s, p.from, p.fromDev)), ids(spanned[2:]); !slices.Equal(got, want) {
		t.Errorf("after SpanFirst: sender has %v, want %v", got, want)
	}
	saw, _ = ack("SpanRest", p.from, p.fromDev, seqsOf(spanned[2:]), spanned[2:])
	if got, want := ids(saw), ids(spanned[2:]); !slices.Equal(got, want) {
		t.Errorf("SpanRest: followUps got %v, want %v", got, want)
	}
	if left := fetchAll(t, s, p.from, p.fromDev); len(left) != 0 {
		t.Errorf("receipts %v left after acking all in two parts", ids(left))
	}
}

package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// pair is a sender with one device and a recipient with two.
type pair struct {
	s          parley.Store
	from, to   string
	fromDev    uint32
	toA, toB   uint32
	fromOther  uint32 // the sender's second device, for sent-sync copies
	nextClient int
}

func newPair(t testing.TB, s parley.Store) *pair {
	p := &pair{s: s, from: mustAccount(t, s), to: mustAccount(t, s)}
	p.fromDev, p.fromOther = mustDevice(t, s, p.from), mustDevice(t, s, p.from)
	p.toA, p.toB = mustDevice(t, s, p.to), mustDevice(t, s, p.to)
	return p
}

// delivery is a message from p.from to both recipient devices and the
// sender's other device.
func (p *pair) delivery(clientID string) *parley.Delivery {
	d := &parley.Delivery{From: p.from, FromDevice: p.fromDev, ClientID: clientID, MessageID: "m-" + clientID, Timestamp: t0}
	for _, dst := range []struct {
		account string
		dev     uint32
	}{{p.to, p.toA}, {p.to, p.toB}, {p.from, p.fromOther}} {
		it := item(p.from, dst.account, dst.dev, clientID)
		it.FromDevice, it.MessageID, it.ClientID, it.To = p.fromDev, d.MessageID, clientID, p.to
		d.Items = append(d.Items, it)
	}
	return d
}

func (p *pair) deliver(t testing.TB, clientID string) *parley.Delivery {
	t.Helper()
	d := p.delivery(clientID)
	if err := p.s.Deliver(ctxT(t), d); err != nil {
		t.Fatalf("Deliver(%s): %v", clientID, err)
	}
	return d
}

func testMailbox(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("DeliverAndFetch", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		d := p.deliver(t, "a")
		if d.Duplicate {
			t.Errorf("first Deliver: Duplicate = true")
		}
		if got := seqsOf(d.Items); !slices.Equal(got, []uint64{1, 1, 1}) {
			t.Errorf("first delivery seqs = %v, want [1 1 1]", got)
		}
		d = p.deliver(t, "b")
		if got := seqsOf(d.Items); !slices.Equal(got, []uint64{2, 2, 2}) {
			t.Errorf("second delivery seqs = %v, want [2 2 2]", got)
		}
		got := fetchAll(t, s, p.to, p.toA)
		want := []parley.Item{
			{Account: p.to, Device: p.toA, Seq: 1, Kind: parley.KindMessage, MessageID: "m-a", ClientID: "a", From: p.from, FromDevice: p.fromDev, To: p.to, Timestamp: at(0), Body: []byte("a")},
			{Account: p.to, Device: p.toA, Seq: 2, Kind: parley.KindMessage, MessageID: "m-b", ClientID: "b", From: p.from, FromDevice: p.fromDev, To: p.to, Timestamp: at(0), Body: []byte("b")},
		}
		if !equalItems(got, want) {
			t.Errorf("Fetch = %+v, want %+v", got, want)
		}
		if got[0].Timestamp.Location() != time.UTC {
			t.Errorf("item Timestamp location = %v, want UTC", got[0].Timestamp.Location())
		}
		if sync := fetchAll(t, s, p.from, p.fromOther); len(sync) != 2 || sync[1].To != p.to {
			t.Errorf("sent-sync copies = %+v, want 2 items to %s", sync, p.to)
		}
		if own := fetchAll(t, s, p.from, p.fromDev); len(own) != 0 {
			t.Errorf("sending device got %d items, want none", len(own))
		}
	})
	t.Run("FetchPaging", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		for i := range 7 {
			p.deliver(t, fmt.Sprint(i))
		}
		tests := []struct {
			name  string
			after uint64
			limit int
			want  []uint64
		}{
			{"FirstPage", 0, 3, []uint64{1, 2, 3}},
			{"SecondPage", 3, 3, []uint64{4, 5, 6}},
			{"LastPage", 6, 3, []uint64{7}},
			{"PastEnd", 7, 3, []uint64{}},
			{"All", 0, 100, []uint64{1, 2, 3, 4, 5, 6, 7}},
		}
		for _, tt := range tests {
			items, err := s.Fetch(ctxT(t), p.to, p.toB, tt.after, tt.limit, t0)
			if err != nil {
				t.Fatalf("%s: Fetch: %v", tt.name, err)
			}
			if got := seqsOf(items); !slices.Equal(got, tt.want) {
				t.Errorf("%s: Fetch(after %d, limit %d) seqs = %v, want %v", tt.name, tt.after, tt.limit, got, tt.want)
			}
		}
		_, err := s.Fetch(ctxT(t), p.to, p.toB, 0, 0, t0)
		wantCode(t, "Fetch with limit 0", err, parley.EINVALID)
	})
	t.Run("AckWithFollowUps", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		for i := range 4 {
			p.deliver(t, fmt.Sprint(i))
		}
		receipt := func(msg string) parley.Item {
			return parley.Item{Account: p.from, Device: p.fromDev, Kind: parley.KindDelivered, MessageID: msg, From: p.to, FromDevice: p.toA, To: p.to, Timestamp: t0.Add(time.Minute)}
		}
		followUps := []parley.Item{receipt("m-0"), receipt("m-2")}
		if err := s.Ack(ctxT(t), p.to, p.toA, []uint64{1, 3}, followUps); err != nil {
			t.Fatalf("Ack: %v", err)
		}
		if got := seqsOf(followUps); !slices.Equal(got, []uint64{1, 2}) {
			t.Errorf("follow-up seqs = %v, want [1 2]", got)
		}
		if got := seqsOf(fetchAll(t, s, p.to, p.toA)); !slices.Equal(got, []uint64{2, 4}) {
			t.Errorf("acking device keeps %v, want [2 4]", got)
		}
		if got := seqsOf(fetchAll(t, s, p.to, p.toB)); !slices.Equal(got, []uint64{1, 2, 3, 4}) {
			t.Errorf("other device keeps %v, want all four", got)
		}
		got := fetchAll(t, s, p.from, p.fromDev)
		want := []parley.Item{receipt("m-0"), receipt("m-2")}
		want[0].Seq, want[1].Seq = 1, 2
		want[0].Timestamp, want[1].Timestamp = at(time.Minute), at(time.Minute)
		if !equalItems(got, want) {
			t.Errorf("receipts = %+v, want %+v", got, want)
		}
		// Acking again, or acking nothing, is harmless; the next item
		// continues the sequence.
		if err := s.Ack(ctxT(t), p.to, p.toA, []uint64{1, 3}, nil); err != nil {
			t.Errorf("repeated Ack: %v", err)
		}
		if err := s.Ack(ctxT(t), p.to, p.toA, nil, nil); err != nil {
			t.Errorf("empty Ack: %v", err)
		}
		if d := p.deliver(t, "next"); d.Items[0].Seq != 5 {
			t.Errorf("seq after acks = %d, want 5 (seqs are never reused)", d.Items[0].Seq)
		}
	})
	t.Run("AckFollowUpToRevokedDeviceDropped", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		p.deliver(t, "x")
		if err := s.RevokeDevice(ctxT(t), p.from, p.fromDev, t0); err != nil {
			t.Fatalf("RevokeDevice: %v", err)
		}
		followUps := []parley.Item{
			{Account: p.from, Device: p.fromDev, Kind: parley.KindDelivered, MessageID: "m-x", From: p.to, FromDevice: p.toA, Timestamp: t0},
			{Account: p.from, Device: p.fromOther, Kind: parley.KindDelivered, MessageID: "m-x", From: p.to, FromDevice: p.toA, Timestamp: t0},
		}
		if err := s.Ack(ctxT(t), p.to, p.toA, []uint64{1}, followUps); err != nil {
			t.Fatalf("Ack: %v", err)
		}
		if got := seqsOf(followUps); !slices.Equal(got, []uint64{0, 2}) {
			t.Errorf("follow-up seqs = %v, want [0 2] (dropped, then after the sent-sync copy)", got)
		}
		if got := fetchAll(t, s, p.to, p.toA); len(got) != 0 {
			t.Errorf("acked items remain: %v", seqsOf(got))
		}
	})
	t.Run("AckWithMakesFollowUpsFromDeleted", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		for i := range 3 {
			p.deliver(t, fmt.Sprint(i))
		}
		if err := s.RevokeDevice(ctxT(t), p.from, p.fromOther, t0); err != nil {
			t.Fatalf("RevokeDevice: %v", err)
		}
		var saw []parley.Item
		// Seq 9 does not exist and seq 1 is named twice: only rows that were
		// really deleted reach the function, once each.
		got, err := s.AckWith(ctxT(t), p.to, p.toA, []uint64{1, 3, 9, 1}, func(deleted []parley.Item) []parley.Item {
			saw = deleted
			var out []parley.Item
			for _, d := range deleted {
				out = append(out, parley.Item{Account: d.From, Kind: parley.KindDelivered, MessageID: d.MessageID, From: p.to, FromDevice: p.toA, Timestamp: t0})
			}
			return out
		})
		if err != nil {
			t.Fatalf("AckWith: %v", err)
		}
		if len(saw) != 2 || saw[0].Seq != 1 || saw[1].Seq != 3 || saw[0].MessageID != "m-0" || saw[1].From != p.from || saw[0].Kind != parley.KindMessage {
			t.Fatalf("followUps saw %+v, want the items with seqs 1 and 3", saw)
		}
		// Device 0 went to every active device of the sender: only fromDev.
		if len(got) != 2 || got[0].Device != p.fromDev || got[1].Device != p.fromDev || got[0].Seq != 1 || got[1].Seq != 2 {
			t.Fatalf("follow-ups = %+v, want two receipts for device %d with seqs 1, 2", got, p.fromDev)
		}
		if rest := seqsOf(fetchAll(t, s, p.to, p.toA)); !slices.Equal(rest, []uint64{2}) {
			t.Errorf("acking device keeps %v, want [2]", rest)
		}
		// A second AckWith of the same items deletes nothing and makes nothing.
		again, err := s.AckWith(ctxT(t), p.to, p.toA, []uint64{1, 3}, func(deleted []parley.Item) []parley.Item {
			if len(deleted) != 0 {
				t.Errorf("repeated ack deleted %d items", len(deleted))
			}
			return nil
		})
		if err != nil || len(again) != 0 {
			t.Errorf("repeated AckWith = %v, %v", again, err)
		}
		// More seqs than one statement takes; only existing rows come back, in order.
		many := make([]uint64, 0, 300)
		for i := range 300 {
			many = append(many, uint64(300-i))
		}
		var deleted []uint64
		if _, err := s.AckWith(ctxT(t), p.to, p.toB, many, func(d []parley.Item) []parley.Item {
			deleted = seqsOf(d)
			return nil
		}); err != nil || !slices.Equal(deleted, []uint64{1, 2, 3}) {
			t.Errorf("AckWith(300 seqs) deleted %v, %v; want [1 2 3]", deleted, err)
		}
	})
	t.Run("ReceiptsOfOneAck", func(t *testing.T) {
		// The receipts one ack makes for one device may be stored together
		// (sqlstore keeps them in one row); every one of them still has
		// its own seq, is fetched and acknowledged on its own.
		s := open(t)
		p := newPair(t, s)
		for i := range 5 {
			p.deliver(t, fmt.Sprint(i))
		}
		at := t0.Add(time.Second).UTC().Truncate(time.Microsecond) // as stored
		receipts := func(deleted []parley.Item) []parley.Item {
			var out []parley.Item
			for _, d := range deleted {
				out = append(out, parley.Item{Account: d.From, Kind: parley.KindDelivered, MessageID: d.MessageID, From: p.to, FromDevice: p.toA, To: d.From, Timestamp: at})
			}
			return out
		}
		got, err := s.AckWith(ctxT(t), p.to, p.toA, []uint64{1, 2, 3, 4, 5}, receipts)
		if err != nil {
			t.Fatalf("AckWith: %v", err)
		}
		if len(got) != 10 {
			t.Fatalf("AckWith made %d receipts, want 10 (5 for each of the sender's devices)", len(got))
		}
		items := fetchAll(t, s, p.from, p.fromDev)
		if seqs := seqsOf(items); !slices.Equal(seqs, []uint64{1, 2, 3, 4, 5}) {
			t.Fatalf("sender's receipts have seqs %v, want [1 2 3 4 5]", seqs)
		}
		for i, it := range items {
			want := parley.Item{Account: p.from, Device: p.fromDev, Seq: uint64(i + 1), Kind: parley.KindDelivered, MessageID: fmt.Sprintf("m-%d", i),
				From: p.to, FromDevice: p.toA, To: p.from, Timestamp: at}
			if !equalItems([]parley.Item{it}, []parley.Item{want}) {
				t.Errorf("receipt %d = %+v, want %+v", i, it, want)
			}
		}
		// From the middle, and fewer than there are.
		part, err := s.Fetch(ctxT(t), p.from, p.fromDev, 2, 2, t0)
		if err != nil || !slices.Equal(seqsOf(part), []uint64{3, 4}) || part[0].MessageID != "m-2" {
			t.Errorf("Fetch(after 2, limit 2) = %v (%+v), %v; want seqs [3 4] starting with m-2", seqsOf(part), part, err)
		}
		// The other device got its receipts after its five sent-sync copies.
		if seqs := seqsOf(fetchAll(t, s, p.from, p.fromOther)); !slices.Equal(seqs, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) {
			t.Errorf("sender's other device has %v, want seqs 1 to 10", seqs)
		}
		var saw []parley.Item
		keep := func(d []parley.Item) []parley.Item { saw = d; return nil }
		if _, err := s.AckWith(ctxT(t), p.from, p.fromDev, []uint64{4, 2, 9}, keep); err != nil {
			t.Fatalf("AckWith(some receipts): %v", err)
		}
		if len(saw) != 2 || saw[0].Seq != 2 || saw[1].Seq != 4 || saw[0].MessageID != "m-1" || saw[1].MessageID != "m-3" || saw[0].Kind != parley.KindDelivered {
			t.Errorf("acking receipts 2 and 4 deleted %+v", saw)
		}
		if seqs := seqsOf(fetchAll(t, s, p.from, p.fromDev)); !slices.Equal(seqs, []uint64{1, 3, 5}) {
			t.Errorf("after acking 2 and 4 the sender has %v, want [1 3 5]", seqs)
		}
		if _, err := s.AckWith(ctxT(t), p.from, p.fromDev, []uint64{2, 4}, keep); err != nil || len(saw) != 0 {
			t.Errorf("acking 2 and 4 again deleted %v, %v; want nothing", seqsOf(saw), err)
		}
		// An ack naming a message and a receipt (and a receipt twice).
		if _, err := s.AckWith(ctxT(t), p.from, p.fromOther, []uint64{5, 6, 6, 10}, keep); err != nil {
			t.Fatalf("AckWith(mixed): %v", err)
		}
		if seqs := seqsOf(saw); !slices.Equal(seqs, []uint64{5, 6, 10}) || saw[0].Kind != parley.KindMessage || saw[1].MessageID != "m-0" {
			t.Errorf("mixed ack deleted %v (%+v), want [5 6 10]: the message and two receipts", seqs, saw)
		}
		if seqs := seqsOf(fetchAll(t, s, p.from, p.fromOther)); !slices.Equal(seqs, []uint64{1, 2, 3, 4, 7, 8, 9}) {
			t.Errorf("the other device keeps %v, want [1 2 3 4 7 8 9]", seqs)
		}
		if _, err := s.AckWith(ctxT(t), p.from, p.fromDev, []uint64{1, 3, 5}, keep); err != nil || len(saw) != 3 {
			t.Fatalf("acking the rest deleted %v, %v", seqsOf(saw), err)
		}
		if rest := fetchAll(t, s, p.from, p.fromDev); len(rest) != 0 {
			t.Errorf("every receipt acked, but %v remain", seqsOf(rest))
		}
		// Seqs are never reused.
		d := &parley.Delivery{From: p.to, FromDevice: p.toA, Timestamp: t0, Items: []parley.Item{
			{Account: p.from, Device: p.fromDev, Kind: parley.KindRead, MessageID: "m-0", From: p.to, FromDevice: p.toA, To: p.from, Timestamp: t0}}}
		if err := s.Deliver(ctxT(t), d); err != nil || d.Items[0].Seq != 6 {
			t.Errorf("next item's seq = %d, %v; want 6", d.Items[0].Seq, err)
		}
	})
	t.Run("Stale", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		p.deliver(t, "before")
		if err := s.RevokeDevice(ctxT(t), p.to, p.toB, t0); err != nil {
			t.Fatalf("RevokeDevice: %v", err)
		}
		if got := fetchAll(t, s, p.to, p.toB); len(got) != 0 {
			t.Errorf("revoked device's mailbox has %d items, want none", len(got))
		}
		tests := []struct {
			name   string
			mutate func(d *parley.Delivery)
		}{
			{"RevokedDevice", func(d *parley.Delivery) {}},
			{"UnknownDevice", func(d *parley.Delivery) { d.Items[1].Device = 99 }},
			{"UnknownAccount", func(d *parley.Delivery) { d.Items[1].Account = newPhone() }},
		}
		for _, tt := range tests {
			d := p.delivery("stale-" + tt.name)
			tt.mutate(d)
			err := s.Deliver(ctxT(t), d)
			wantCode(t, tt.name, err, parley.ESTALE)
			var e *parley.Error
			if errors.As(err, &e) && !slices.Equal(e.Devices[p.to], []uint32{p.toA}) {
				t.Errorf("%s: ESTALE Devices[%s] = %v, want [%d]", tt.name, p.to, e.Devices[p.to], p.toA)
			}
		}
		// Nothing of the failed deliveries was written: no item, no seq
		// taken, no idempotency key.
		if got := seqsOf(fetchAll(t, s, p.to, p.toA)); !slices.Equal(got, []uint64{1}) {
			t.Errorf("after stale deliveries device A has %v, want [1]", got)
		}
		d := p.delivery("stale-RevokedDevice")
		d.Items = slices.Delete(d.Items, 1, 2)
		if err := s.Deliver(ctxT(t), d); err != nil || d.Duplicate {
			t.Fatalf("retry with the same key after ESTALE = %v, duplicate=%v; want a fresh delivery", err, d.Duplicate)
		}
		if got := seqsOf(d.Items); !slices.Equal(got, []uint64{2, 2}) {
			t.Errorf("retry seqs = %v, want [2 2]", got)
		}
		err := s.Ack(ctxT(t), p.to, p.toB, []uint64{1}, nil)
		wantCode(t, "Ack by revoked device", err, parley.ESTALE)
		err = s.Ack(ctxT(t), p.to, 99, nil, nil)
		wantCode(t, "Ack by unknown device", err, parley.ESTALE)
	})
	t.Run("StaleAmongConcurrent", func(t *testing.T) {
		// Stale deliveries and acks in the same batches as good ones fail
		// alone; the good ones keep contiguous seqs.
		s := open(t)
		p := newPair(t, s)
		p.deliver(t, "first")
		if err := s.RevokeDevice(ctxT(t), p.to, p.toB, t0); err != nil {
			t.Fatalf("RevokeDevice: %v", err)
		}
		const n = 60
		var wg sync.WaitGroup
		good := make(chan uint64, n)
		for i := range n {
			wg.Go(func() {
				d := p.delivery(fmt.Sprintf("c%d", i))
				switch i % 3 {
				case 0: // to the revoked device: stale
					if err := s.Deliver(ctxT(t), d); !parley.Match(err, parley.ESTALE) {
						t.Errorf("Deliver to revoked device = %v, want %s", err, parley.ESTALE)
					}
				case 1: // an ack by the revoked device: stale
					if err := s.Ack(ctxT(t), p.to, p.toB, nil, []parley.Item{d.Items[0]}); !parley.Match(err, parley.ESTALE) {
						t.Errorf("Ack by revoked device = %v, want %s", err, parley.ESTALE)
					}
				default:
					d.Items = slices.Delete(d.Items, 1, 2)
					if err := s.Deliver(ctxT(t), d); err != nil {
						t.Errorf("Deliver: %v", err)
						return
					}
					good <- d.Items[0].Seq
				}
			})
		}
		wg.Wait()
		close(good)
		var got []uint64
		for seq := range good {
			got = append(got, seq)
		}
		slices.Sort(got)
		want := make([]uint64, 0, n/3)
		for i := range n / 3 {
			want = append(want, uint64(i+2))
		}
		if !slices.Equal(got, want) {
			t.Errorf("seqs of good deliveries = %v, want %v", got, want)
		}
		if items := fetchAll(t, s, p.to, p.toA); !slices.Equal(seqsOf(items), append([]uint64{1}, want...)) {
			t.Errorf("device A stores seqs %v, want 1 and then %v", seqsOf(items), want)
		}
	})
	t.Run("PipelinedInOrder", func(t *testing.T) {
		// Stores that queue commits (DeliverAsync) commit the deliveries
		// one goroutine queued in the order it queued them.
		s := open(t)
		async := pipelined(t, s)
		p := newPair(t, s)
		var waits []func() error
		var ds []*parley.Delivery
		for i := range 200 {
			d := p.delivery(fmt.Sprint(i))
			ds = append(ds, d)
			waits = append(waits, async.DeliverAsync(ctxT(t), d))
		}
		for i, wait := range waits {
			if err := wait(); err != nil {
				t.Fatalf("delivery %d: %v", i, err)
			}
			if got := ds[i].Items[0].Seq; got != uint64(i+1) {
				t.Fatalf("delivery %d got seq %d, want %d (queue order)", i, got, i+1)
			}
		}
	})
	t.Run("IdempotentPipelined", func(t *testing.T) {
		// Deliveries with the same new key queued back to back (most
		// likely in one batch): the first wins, the others are its
		// duplicates, and only the first's items are stored.
		s := open(t)
		async := pipelined(t, s)
		p := newPair(t, s)
		const rounds = 20
		var waits []func() error
		var ds []*parley.Delivery
		for r := range rounds {
			for i := range 3 {
				d := p.delivery(fmt.Sprintf("k%d", r))
				d.MessageID, d.Timestamp = fmt.Sprintf("m-%d-%d", r, i), at(time.Duration(i)*time.Second)
				for j := range d.Items {
					d.Items[j].MessageID, d.Items[j].Timestamp = d.MessageID, d.Timestamp
				}
				ds = append(ds, d)
				waits = append(waits, async.DeliverAsync(ctxT(t), d))
			}
		}
		for i, wait := range waits {
			if err := wait(); err != nil {
				t.Fatalf("delivery %d: %v", i, err)
			}
		}
		for i, d := range ds {
			r, first := i/3, i%3 == 0
			wantID := fmt.Sprintf("m-%d-0", r)
			if d.Duplicate == first || d.MessageID != wantID || !d.Timestamp.Equal(at(0)) {
				t.Errorf("delivery %d: duplicate %v, %q, %v; want %v, %q, %v", i, d.Duplicate, d.MessageID, d.Timestamp, !first, wantID, at(0))
			}
		}
		items := fetchAll(t, s, p.to, p.toA)
		if len(items) != rounds {
			t.Fatalf("device has %d items, want %d", len(items), rounds)
		}
		for i, it := range items {
			if want := fmt.Sprintf("m-%d-0", i); it.MessageID != want || it.Seq != uint64(i+1) {
				t.Errorf("item %d = %q seq %d, want %q seq %d", i, it.MessageID, it.Seq, want, i+1)
			}
		}
	})
	t.Run("IdempotentSequential", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		first := p.deliver(t, "same")
		again := p.delivery("same")
		again.MessageID, again.Timestamp = "m-other", t0.Add(time.Hour)
		if err := s.Deliver(ctxT(t), again); err != nil {
			t.Fatalf("duplicate Deliver: %v", err)
		}
		if !again.Duplicate || again.MessageID != first.MessageID || !again.Timestamp.Equal(at(0)) {
			t.Errorf("duplicate = %v, %q, %v; want true, %q, %v", again.Duplicate, again.MessageID, again.Timestamp, first.MessageID, at(0))
		}
		if got := len(fetchAll(t, s, p.to, p.toA)); got != 1 {
			t.Errorf("device has %d items, want 1", got)
		}
		// The key is per sending device.
		other := p.delivery("same")
		other.FromDevice = p.fromOther
		other.Items = other.Items[:2]
		if err := s.Deliver(ctxT(t), other); err != nil || other.Duplicate {
			t.Errorf("same client id from another device = %v, duplicate=%v; want new", err, other.Duplicate)
		}
	})
	t.Run("SentByClientID", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		first := p.deliver(t, "c-sent")
		id, sentAt, err := s.Sent(ctxT(t), p.from, p.fromDev, "c-sent")
		if err != nil || id != first.MessageID || !sentAt.Equal(at(0)) {
			t.Errorf("Sent = %q, %v, %v; want %q, %v", id, sentAt, err, first.MessageID, at(0))
		}
		_, _, err = s.Sent(ctxT(t), p.from, p.fromOther, "c-sent") // the key is per device
		wantCode(t, "Sent from another device", err, parley.ENOTFOUND)
		_, _, err = s.Sent(ctxT(t), p.from, p.fromDev, "c-unknown")
		wantCode(t, "Sent of an unknown client id", err, parley.ENOTFOUND)
	})
	t.Run("EmptyClientIDNotIdempotent", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		for range 2 {
			d := p.deliver(t, "")
			if d.Duplicate {
				t.Errorf("delivery without client id marked duplicate")
			}
		}
		if got := seqsOf(fetchAll(t, s, p.to, p.toA)); !slices.Equal(got, []uint64{1, 2}) {
			t.Errorf("seqs = %v, want [1 2]", got)
		}
	})
	t.Run("IdempotentConcurrent", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		const n = 30
		ds := make([]*parley.Delivery, n)
		var wg sync.WaitGroup
		for i := range n {
			ds[i] = p.delivery("race")
			ds[i].MessageID = fmt.Sprintf("m-%d", i)
			for j := range ds[i].Items {
				ds[i].Items[j].MessageID = ds[i].MessageID
			}
			wg.Go(func() {
				if err := s.Deliver(ctxT(t), ds[i]); err != nil {
					t.Errorf("Deliver %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		var winners []string
		for _, d := range ds {
			if !d.Duplicate {
				winners = append(winners, d.MessageID)
			}
		}
		if len(winners) != 1 {
			t.Fatalf("%d deliveries were not duplicates (%v), want exactly 1", len(winners), winners)
		}
		for i, d := range ds {
			if d.MessageID != winners[0] {
				t.Errorf("delivery %d has MessageID %q, want the winner's %q", i, d.MessageID, winners[0])
			}
		}
		for _, dev := range []uint32{p.toA, p.toB} {
			items := fetchAll(t, s, p.to, dev)
			if len(items) != 1 || items[0].MessageID != winners[0] || items[0].Seq != 1 {
				t.Errorf("device %d items = %+v, want one item %q with seq 1", dev, items, winners[0])
			}
		}
	})
	t.Run("SeqsContiguousUnderConcurrency", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		const senders, each = 50, 8
		var wg sync.WaitGroup
		returned := make(chan uint64, senders*each)
		for g := range senders {
			wg.Go(func() {
				for i := range each {
					d := p.delivery(fmt.Sprintf("g%d-%d", g, i))
					if err := s.Deliver(ctxT(t), d); err != nil {
						t.Errorf("Deliver: %v", err)
						return
					}
					returned <- d.Items[0].Seq
				}
			})
		}
		// The recipient's device B fetches and acks while deliveries go on.
		acked := map[uint64]bool{}
		wg.Go(func() {
			for range 20 {
				items, err := s.Fetch(ctxT(t), p.to, p.toB, 0, 5, t0)
				if err != nil {
					t.Errorf("Fetch: %v", err)
					return
				}
				for _, seq := range seqsOf(items) {
					acked[seq] = true
				}
				if err := s.Ack(ctxT(t), p.to, p.toB, seqsOf(items), nil); err != nil {
					t.Errorf("Ack: %v", err)
				}
			}
		})
		wg.Wait()
		close(returned)
		const n = senders * each
		want := make([]uint64, n)
		for i := range want {
			want[i] = uint64(i + 1)
		}
		var got []uint64
		for seq := range returned {
			got = append(got, seq)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("seqs returned by Deliver are not 1..%d without gaps or duplicates", n)
		}
		for _, dev := range []struct {
			account string
			id      uint32
			acked   map[uint64]bool
		}{{p.to, p.toA, nil}, {p.to, p.toB, acked}, {p.from, p.fromOther, nil}} {
			items := fetchAll(t, s, dev.account, dev.id)
			w := slices.DeleteFunc(slices.Clone(want), func(seq uint64) bool { return dev.acked[seq] })
			if got := seqsOf(items); !slices.Equal(got, w) {
				t.Errorf("device %s: stored seqs are not 1..%d less the acked: %d items, first %v", parley.DeviceAddress(dev.account, dev.id), n, len(got), got[:min(5, len(got))])
			}
			bodies := map[string]bool{}
			for _, it := range items {
				bodies[string(it.Body)] = true
			}
			if len(bodies) != len(w) {
				t.Errorf("device %s: %d distinct messages, want %d", parley.DeviceAddress(dev.account, dev.id), len(bodies), len(w))
			}
		}
		if len(acked) == 0 {
			t.Logf("the acker ran before any delivery; acks were not interleaved")
		}
	})
	t.Run("Purge", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		old := p.delivery("old")
		old.Timestamp = t0.Add(-48 * time.Hour)
		for i := range old.Items {
			old.Items[i].Timestamp = old.Timestamp
		}
		if err := s.Deliver(ctxT(t), old); err != nil {
			t.Fatalf("Deliver: %v", err)
		}
		p.deliver(t, "new")
		n, err := s.Purge(ctxT(t), t0.Add(-24*time.Hour))
		if err != nil {
			t.Fatalf("Purge: %v", err)
		}
		if n != 4 {
			t.Errorf("Purge removed %d rows, want 4 (3 items and 1 key)", n)
		}
		if got := fetchAll(t, s, p.to, p.toA); len(got) != 1 || got[0].ClientID != "new" {
			t.Errorf("after Purge device has %+v, want only the new item", got)
		}
		// The old key is gone: the same client id is a new message now.
		again := p.delivery("old")
		if err := s.Deliver(ctxT(t), again); err != nil || again.Duplicate {
			t.Errorf("Deliver with a purged key = %v, duplicate=%v; want new", err, again.Duplicate)
		}
		if n, err := s.Purge(ctxT(t), t0.Add(-24*time.Hour)); err != nil || n != 0 {
			t.Errorf("second Purge = %d, %v; want 0", n, err)
		}
	})
	// Old items well past one purge slice (1,000 rows), then items within
	// retention, some older than others: every old item goes, and each
	// recent one stays, whichever way the store finds them.
	t.Run("PurgeAcrossSlices", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		at := func(clientID string, ts time.Time) {
			d := p.delivery(clientID)
			d.Timestamp = ts
			for i := range d.Items {
				d.Items[i].Timestamp = ts
			}
			if err := s.Deliver(ctxT(t), d); err != nil {
				t.Fatalf("Deliver(%s): %v", clientID, err)
			}
		}
		const old = 500 // 1,500 items
		for i := range old {
			at(fmt.Sprintf("old-%d", i), t0.Add(-48*time.Hour-time.Duration(old-i)*time.Second))
		}
		at("recent", t0.Add(-12*time.Hour))
		at("borderline", t0.Add(-24*time.Hour))
		p.deliver(t, "new")
		n, err := s.Purge(ctxT(t), t0.Add(-24*time.Hour))
		if err != nil {
			t.Fatalf("Purge: %v", err)
		}
		if n != old*4 {
			t.Errorf("Purge removed %d rows, want %d (%d items and %d keys)", n, old*4, old*3, old)
		}
		var got []string
		for _, it := range fetchAll(t, s, p.to, p.toB) {
			got = append(got, it.ClientID)
		}
		if want := []string{"recent", "borderline", "new"}; !slices.Equal(got, want) {
			t.Errorf("after Purge device has %q, want %q", got, want)
		}
		if n, err := s.Purge(ctxT(t), t0.Add(-24*time.Hour)); err != nil || n != 0 {
			t.Errorf("second Purge = %d, %v; want 0", n, err)
		}
	})
	t.Run("PurgeMany", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		var wg sync.WaitGroup
		for g := range 10 {
			wg.Go(func() {
				for i := range 150 {
					p.deliver(t, fmt.Sprintf("%d-%d", g, i))
				}
			})
		}
		wg.Wait()
		n, err := s.Purge(ctxT(t), t0.Add(time.Second))
		if err != nil || n != 1500*4 {
			t.Errorf("Purge = %d, %v; want %d", n, err, 1500*4)
		}
	})
	t.Run("CanceledContext", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		ctx, cancel := context.WithCancel(ctxT(t))
		cancel()
		err := s.Deliver(ctx, p.delivery("canceled"))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Deliver with canceled ctx = %v, want context.Canceled", err)
		}
		err = s.Ack(ctx, p.to, p.toA, nil, nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Ack with canceled ctx = %v, want context.Canceled", err)
		}
		if got := fetchAll(t, s, p.to, p.toA); len(got) != 0 {
			t.Errorf("canceled delivery was written: %+v", got)
		}
		if d := p.deliver(t, "after"); d.Items[0].Seq != 1 {
			t.Errorf("seq after a canceled delivery = %d, want 1", d.Items[0].Seq)
		}
	})
	t.Run("LargeDelivery", func(t *testing.T) {
		s := open(t)
		from, to := mustAccount(t, s), mustAccount(t, s)
		fromDev := mustDevice(t, s, from)
		d := &parley.Delivery{From: from, FromDevice: fromDev, ClientID: "big", MessageID: "m-big", Timestamp: t0}
		body := bytes.Repeat([]byte{0x5a}, parley.MaxBodySize)
		for range parley.MaxCopies {
			dev := mustDevice(t, s, to)
			d.Items = append(d.Items, parley.Item{Account: to, Device: dev, Kind: parley.KindMessage, MessageID: "m-big",
				ClientID: "big", From: from, FromDevice: fromDev, To: to, Timestamp: t0, Body: body})
		}
		if err := s.Deliver(ctxT(t), d); err != nil {
			t.Fatalf("Deliver: %v", err)
		}
		items := fetchAll(t, s, to, parley.MaxCopies)
		if len(items) != 1 || !bytes.Equal(items[0].Body, body) {
			t.Errorf("last device got %d items, want one with the %d-byte body", len(items), len(body))
		}
	})
}

func equalItems(a, b []parley.Item) bool {
	return slices.EqualFunc(a, b, func(x, y parley.Item) bool {
		return x.Account == y.Account && x.Device == y.Device && x.Seq == y.Seq && x.Kind == y.Kind &&
			x.MessageID == y.MessageID && x.ClientID == y.ClientID && x.From == y.From && x.FromDevice == y.FromDevice &&
			x.To == y.To && x.Timestamp.Equal(y.Timestamp) && bytes.Equal(x.Body, y.Body)
	})
}

// asyncDeliverer is a store that queues commits (DeliverAsync).
type asyncDeliverer interface {
	DeliverAsync(context.Context, *parley.Delivery) func() error
}

// pipelined returns s as an asyncDeliverer, or skips the test when s
// does not pipeline deliveries.
func pipelined(t *testing.T, s parley.Store) asyncDeliverer {
	t.Helper()
	async, ok := s.(asyncDeliverer)
	if !ok {
		t.Skipf("%T does not pipeline deliveries", s)
	}
	return async
}

package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley"
)

func testLifecycle(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("Ping", func(t *testing.T) {
		if err := open(t).Ping(ctxT(t)); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})
	t.Run("CloseDrainsQueue", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		const n = 200
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs <- s.Deliver(ctxT(t), p.delivery(fmt.Sprint(i))) })
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		wg.Wait() // would hang if Close stranded a queued delivery
		close(errs)
		for err := range errs {
			if err != nil && !parley.Match(err, parley.EUNAVAILABLE) {
				t.Errorf("Deliver racing Close = %v, want nil or %s", err, parley.EUNAVAILABLE)
			}
		}
		err := s.Deliver(ctxT(t), p.delivery("late"))
		wantCode(t, "Deliver after Close", err, parley.EUNAVAILABLE)
		if err := s.Close(); err != nil {
			t.Errorf("second Close = %v, want nil", err)
		}
	})
	t.Run("Reopen", func(t *testing.T) {
		s := open(t)
		r, ok := s.(Reopener)
		if !ok {
			t.Fatalf("%T does not implement storetest.Reopener; the backend's test must wrap its store", s)
		}
		p := newPair(t, s)
		p.deliver(t, "kept")
		s2, err := r.Reopen(ctxT(t))
		if err != nil {
			t.Fatalf("Reopen of a current schema: %v", err)
		}
		defer s2.Close()
		if got := fetchAll(t, s2, p.to, p.toA); len(got) != 1 || got[0].ClientID != "kept" {
			t.Errorf("reopened store has %+v, want the delivered item", got)
		}
		if id := mustDevice(t, s2, p.to); id != 3 {
			t.Errorf("next device id after reopening = %d, want 3", id)
		}
	})
	t.Run("NewerSchemaRefused", func(t *testing.T) {
		s := open(t)
		r, ok := s.(Reopener)
		if !ok {
			t.Fatalf("%T does not implement storetest.Reopener; the backend's test must wrap its store", s)
		}
		if err := r.Exec(ctxT(t), `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`); err != nil {
			t.Fatalf("Exec: %v", err)
		}
		s2, err := r.Reopen(ctxT(t))
		if err == nil {
			s2.Close()
			t.Fatalf("Reopen of a database at schema version 9999 succeeded, want an error")
		}
		if !strings.Contains(err.Error(), "9999") {
			t.Errorf("error %q does not name the database's schema version 9999", err)
		}
	})
}

// testTwoNodes runs deliveries through two stores on one database, as two
// nodes (or processes) would, with every message sent to both at once
// (a client retrying on the other node): each device must still see
// 1..N once each.
func testTwoNodes(t *testing.T, open func(t *testing.T) parley.Store) {
	s := open(t)
	r, ok := s.(Reopener)
	if !ok {
		t.Fatalf("%T does not implement storetest.Reopener; the backend's test must wrap its store", s)
	}
	s2, err := r.Reopen(ctxT(t))
	if err != nil {
		t.Fatalf("Reopen: %v", err)
	}
	defer s2.Close()
	p := newPair(t, s)
	const senders, each = 20, 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := map[string]int{}
	for g := range senders {
		for _, node := range []parley.Store{s, s2} {
			wg.Go(func() {
				for i := range each {
					d := p.delivery(fmt.Sprintf("g%d-%d", g, i))
					if err := node.Deliver(ctxT(t), d); err != nil {
						t.Errorf("Deliver: %v", err)
						return
					}
					if !d.Duplicate {
						mu.Lock()
						winners[d.ClientID]++
						mu.Unlock()
					}
				}
			})
		}
	}
	wg.Wait()
	const n = senders * each
	if len(winners) != n {
		t.Errorf("%d messages were delivered, want %d", len(winners), n)
	}
	for id, c := range winners {
		if c != 1 {
			t.Errorf("message %s was delivered %d times, want once", id, c)
		}
	}
	for _, dev := range []uint32{p.toA, p.toB} {
		items := fetchAll(t, s2, p.to, dev)
		for i, it := range items {
			if it.Seq != uint64(i+1) {
				t.Fatalf("device %d: item %d has seq %d, want %d (no gaps)", dev, i, it.Seq, i+1)
			}
		}
		if len(items) != n {
			t.Errorf("device %d has %d items, want %d", dev, len(items), n)
		}
	}
}

package webhook_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/store/postgres"
	"github.com/parley-chat/parley/store/postgres/pgtest"
	"github.com/parley-chat/parley/webhook"
)

// Two nodes sharing PostgreSQL, each running a dispatcher: every event
// is delivered once (no lease ends here), never by both at once (the
// receiver checks), and each key in order.
func TestTwoNodesDeliverEachEventOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	var stores []parley.Store
	for range 2 {
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	rcv := newReceiver(t)
	want := enqueue(t, stores[0], time.Now(), 50, 20)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for i, s := range stores {
		d := webhook.New(webhook.Options{Outbox: s, Resolver: endpoints(rcv.srv.URL), AllowPrivate: true,
			Concurrency: 8, PerQueue: 3, Poll: 10 * time.Millisecond, UserAgent: fmt.Sprint("node", i+1)})
		wg.Go(func() { d.Run(ctx) })
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, ids := rcv.delivered()
		if len(ids) == 50*20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivered %d of %d events in 30s", len(ids), 50*20)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	got, ids := rcv.delivered()
	for id, n := range ids {
		if n != 1 {
			t.Errorf("event %s delivered %d times, want once", id, n)
		}
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("key %s: got %v, want %v", k, got[k], w)
		}
	}
	rcv.mu.Lock()
	a, b := rcv.agents["node1"], rcv.agents["node2"]
	rcv.mu.Unlock()
	t.Logf("node 1 delivered %d, node 2 %d", a, b)
	if a == 0 || b == 0 {
		t.Errorf("one node delivered nothing (%d, %d): the test did not exercise two nodes", a, b)
	}
	if open, dead, _ := stores[1].WebhookDepth(t.Context()); open != 0 || dead != 0 {
		t.Errorf("depth after draining: %d open, %d dead", open, dead)
	}
}

package storetest

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func webhookEvent(endpoint, key, id string, d time.Duration) parley.WebhookEvent {
	return parley.WebhookEvent{ID: id, Endpoint: endpoint, Key: key, Body: []byte(`{"id":"` + id + `"}`), CreatedAt: t0.Add(d)}
}

func mustEnqueue(t *testing.T, s parley.Store, events ...parley.WebhookEvent) {
	t.Helper()
	if err := s.EnqueueWebhooks(ctxT(t), events); err != nil {
		t.Fatalf("EnqueueWebhooks: %v", err)
	}
}

var leaseSeq int

func claim(t *testing.T, s parley.Store, now time.Duration, queues, perQueue int) []parley.WebhookQueue {
	t.Helper()
	leaseSeq++
	qs, err := s.ClaimWebhooks(ctxT(t), parley.WebhookClaim{Now: t0.Add(now), LeaseUntil: t0.Add(now + time.Minute),
		Lease: fmt.Sprintf("lease-%d", leaseSeq), Queues: queues, PerQueue: perQueue})
	if err != nil {
		t.Fatalf("ClaimWebhooks: %v", err)
	}
	return qs
}

func settle(t *testing.T, s parley.Store, rs ...parley.WebhookResult) {
	t.Helper()
	if err := s.SettleWebhooks(ctxT(t), rs); err != nil {
		t.Fatalf("SettleWebhooks: %v", err)
	}
}

func eventIDs(q parley.WebhookQueue) []string {
	var ids []string
	for _, e := range q.Events {
		ids = append(ids, e.ID)
	}
	return ids
}

func delivered(q parley.WebhookQueue, at time.Duration) parley.WebhookResult {
	return parley.WebhookResult{Endpoint: q.Endpoint, Key: q.Key, Lease: q.Lease, Delivered: eventIDs(q), At: t0.Add(at)}
}

func wantDepth(t *testing.T, s parley.Store, open, dead int64) {
	t.Helper()
	o, d, err := s.WebhookDepth(ctxT(t))
	if err != nil {
		t.Fatalf("WebhookDepth: %v", err)
	}
	if o != open || d != dead {
		t.Errorf("WebhookDepth = %d open, %d dead; want %d, %d", o, d, open, dead)
	}
}

func testWebhooks(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("ClaimInOrderAndSettle", func(t *testing.T) {
		s := open(t)
		mustEnqueue(t, s, webhookEvent("app1", "a", "a1", 0), webhookEvent("app1", "b", "b1", 0),
			webhookEvent("app1", "a", "a2", 0), webhookEvent("app1", "a", "a3", 0), webhookEvent("app2", "a", "x1", 0))
		wantDepth(t, s, 5, 0)
		if qs := claim(t, s, -time.Second, 10, 10); len(qs) != 0 {
			t.Errorf("claim before the events were due = %d queues, want 0", len(qs))
		}
		qs := claim(t, s, 0, 10, 2)
		got := map[string][]string{}
		for _, q := range qs {
			got[q.Endpoint+"/"+q.Key] = eventIDs(q)
			for _, e := range q.Events {
				if e.Endpoint != q.Endpoint || e.Key != q.Key || string(e.Body) != `{"id":"`+e.ID+`"}` || !e.CreatedAt.Equal(at(0)) {
					t.Errorf("claimed event %+v does not match what was enqueued", e)
				}
			}
		}
		want := map[string][]string{"app1/a": {"a1", "a2"}, "app1/b": {"b1"}, "app2/a": {"x1"}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("claimed %v, want %v (per queue, in order, at most 2)", got, want)
		}
		if again := claim(t, s, 0, 10, 10); len(again) != 0 {
			t.Errorf("second claim while leased = %d queues, want 0", len(again))
		}
		for _, q := range qs {
			settle(t, s, delivered(q, time.Second))
		}
		wantDepth(t, s, 1, 0)
		qs = claim(t, s, time.Second, 10, 10)
		if len(qs) != 1 || fmt.Sprint(eventIDs(qs[0])) != "[a3]" {
			t.Fatalf("claim after settling = %+v, want app1/a with a3", qs)
		}
		settle(t, s, delivered(qs[0], 2*time.Second))
		wantDepth(t, s, 0, 0)
		if qs := claim(t, s, time.Hour, 10, 10); len(qs) != 0 {
			t.Errorf("claim of an empty outbox = %d queues", len(qs))
		}
	})
	t.Run("FailureHoldsTheQueue", func(t *testing.T) {
		s := open(t)
		mustEnqueue(t, s, webhookEvent("app", "k", "e1", 0), webhookEvent("app", "k", "e2", 0), webhookEvent("app", "other", "o1", 0))
		qs := claim(t, s, 0, 10, 10)
		for _, q := range qs {
			if q.Key == "k" {
				settle(t, s, parley.WebhookResult{Endpoint: q.Endpoint, Key: q.Key, Lease: q.Lease,
					Failed: "e1", Error: "HTTP 500", RetryAt: t0.Add(10 * time.Second), At: t0})
			} else {
				settle(t, s, delivered(q, 0))
			}
		}
		if qs := claim(t, s, 9*time.Second, 10, 10); len(qs) != 0 {
			t.Errorf("claim before the retry time = %+v, want none", qs)
		}
		qs = claim(t, s, 10*time.Second, 10, 10)
		if len(qs) != 1 || fmt.Sprint(eventIDs(qs[0])) != "[e1 e2]" {
			t.Fatalf("claim at the retry time = %+v, want e1 e2", qs)
		}
		if e := qs[0].Events[0]; e.Attempts != 1 || e.LastError != "HTTP 500" {
			t.Errorf("retried event has attempts %d, last error %q; want 1, HTTP 500", e.Attempts, e.LastError)
		}
		// e1 goes through, e2 dies: it no longer holds the queue, and is listed.
		q := qs[0]
		settle(t, s, parley.WebhookResult{Endpoint: q.Endpoint, Key: q.Key, Lease: q.Lease, Delivered: []string{"e1"},
			Failed: "e2", Error: "gone", Dead: true, At: t0.Add(11 * time.Second)})
		wantDepth(t, s, 0, 1)
		dead, err := s.DeadWebhooks(ctxT(t), parley.WebhookFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) != 1 || dead[0].ID != "e2" || dead[0].State != parley.WebhookDead || dead[0].Attempts != 1 ||
			dead[0].LastError != "gone" || !dead[0].NextAttempt.Equal(at(11*time.Second)) || string(dead[0].Body) != `{"id":"e2"}` {
			t.Errorf("DeadWebhooks = %+v, want e2 dead at +11s after 1 attempt", dead)
		}
	})
	t.Run("LeaseExpires", func(t *testing.T) {
		s := open(t)
		mustEnqueue(t, s, webhookEvent("app", "k", "e1", 0), webhookEvent("app", "k", "e2", 0))
		old := claim(t, s, 0, 10, 10)
		if qs := claim(t, s, 59*time.Second, 10, 10); len(qs) != 0 {
			t.Errorf("claim within the lease = %+v", qs)
		}
		qs := claim(t, s, 61*time.Second, 10, 10)
		if len(qs) != 1 || len(old) != 1 || fmt.Sprint(eventIDs(qs[0])) != "[e1 e2]" {
			t.Fatalf("claim after the lease ended = %+v, want e1 e2 again", qs)
		}
		// The old holder delivered e1 and failed e2 late: e1 is gone, the
		// failure and the lease are not its to change.
		settle(t, s, parley.WebhookResult{Endpoint: "app", Key: "k", Lease: old[0].Lease, Delivered: []string{"e1"},
			Failed: "e2", Error: "late", Dead: true, At: t0.Add(62 * time.Second)})
		wantDepth(t, s, 1, 0)
		if again := claim(t, s, 62*time.Second, 10, 10); len(again) != 0 {
			t.Errorf("the new lease was released by the old holder: claimed %+v", again)
		}
		settle(t, s, delivered(qs[0], 63*time.Second))
		wantDepth(t, s, 0, 0)
	})
	t.Run("EnqueueIsIdempotentByID", func(t *testing.T) {
		s := open(t)
		mustEnqueue(t, s, webhookEvent("app", "k", "same", 0), webhookEvent("app", "k", "same", 0))
		mustEnqueue(t, s, webhookEvent("app", "k", "same", time.Second))
		wantDepth(t, s, 1, 0)
		e := parley.WebhookEvent{Endpoint: "app", Key: "k", Body: []byte("{}"), CreatedAt: t0}
		mustEnqueue(t, s, e, e) // no id: each gets its own
		wantDepth(t, s, 3, 0)
		// Ids are unique per queue: the same id in another queue is another
		// event, settled on its own.
		mustEnqueue(t, s, webhookEvent("app", "k2", "same", 0), webhookEvent("app2", "k", "same", 0))
		wantDepth(t, s, 5, 0)
		var other parley.WebhookQueue
		for _, q := range claim(t, s, time.Second, 10, 10) {
			if q.Endpoint == "app" && q.Key == "k2" {
				other = q
			}
		}
		if fmt.Sprint(eventIDs(other)) != "[same]" {
			t.Fatalf("claimed app/k2 = %+v, want the event same", other)
		}
		settle(t, s, delivered(other, time.Second))
		wantDepth(t, s, 4, 0)
		err := s.EnqueueWebhooks(ctxT(t), []parley.WebhookEvent{{Endpoint: "app", Key: "k"}})
		wantCode(t, "EnqueueWebhooks without a body", err, parley.EINVALID)
		err = s.EnqueueWebhooks(ctxT(t), []parley.WebhookEvent{{Key: "k", Body: []byte("{}")}})
		wantCode(t, "EnqueueWebhooks without an endpoint", err, parley.EINVALID)
	})
	t.Run("WithDelivery", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		d := p.delivery("m1")
		d.Webhooks = []parley.WebhookEvent{{Endpoint: "app", Key: "conv", Body: []byte(`{"status":"sent"}`), CreatedAt: t0}}
		if err := s.Deliver(ctxT(t), d); err != nil {
			t.Fatalf("Deliver: %v", err)
		}
		if d.Webhooks[0].ID == "" {
			t.Errorf("Deliver did not fill in the webhook's id")
		}
		dup := p.delivery("m1")
		dup.Webhooks = []parley.WebhookEvent{{Endpoint: "app", Key: "conv", Body: []byte(`{"status":"sent"}`), CreatedAt: t0}}
		if err := s.Deliver(ctxT(t), dup); err != nil || !dup.Duplicate {
			t.Fatalf("Deliver again = %v, duplicate %v", err, dup.Duplicate)
		}
		wantDepth(t, s, 1, 0)
		qs := claim(t, s, 0, 10, 10)
		if len(qs) != 1 || len(qs[0].Events) != 1 || qs[0].Events[0].ID != d.Webhooks[0].ID {
			t.Errorf("claimed %+v, want the delivery's one event", qs)
		}
		// A delivery to a revoked device commits nothing, webhooks included.
		stale := p.delivery("m2")
		stale.Items[0].Device = 99
		stale.Webhooks = []parley.WebhookEvent{{Endpoint: "app", Key: "conv", Body: []byte(`{}`), CreatedAt: t0}}
		err := s.Deliver(ctxT(t), stale)
		wantCode(t, "Deliver to an unknown device", err, parley.ESTALE)
		wantDepth(t, s, 1, 0)
	})
	t.Run("ReplayAndPurge", func(t *testing.T) {
		s := open(t)
		for i := range 5 {
			mustEnqueue(t, s, webhookEvent("app", fmt.Sprint("k", i), fmt.Sprint("e", i), 0))
		}
		for _, q := range claim(t, s, 0, 10, 10) {
			settle(t, s, parley.WebhookResult{Endpoint: q.Endpoint, Key: q.Key, Lease: q.Lease, Failed: q.Events[0].ID,
				Error: "refused", Dead: true, At: t0.Add(time.Duration(len(q.Key)) * time.Hour)})
		}
		wantDepth(t, s, 0, 5)
		n, err := s.ReplayWebhooks(ctxT(t), []string{"e1", "nope"}, t0.Add(time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("ReplayWebhooks(e1, nope) = %d, %v; want 1", n, err)
		}
		wantDepth(t, s, 1, 4)
		qs := claim(t, s, time.Hour, 10, 10)
		if len(qs) != 1 || qs[0].Events[0].ID != "e1" || qs[0].Events[0].Attempts != 0 || !qs[0].Events[0].EnqueuedAt.Equal(at(time.Hour)) {
			t.Fatalf("claim after replay = %+v, want e1 with no attempts, enqueued anew", qs)
		}
		settle(t, s, delivered(qs[0], time.Hour))
		page, err := s.DeadWebhooks(ctxT(t), parley.WebhookFilter{Limit: 2})
		if err != nil || len(page) != 2 {
			t.Fatalf("DeadWebhooks(limit 2) = %d, %v", len(page), err)
		}
		rest, err := s.DeadWebhooks(ctxT(t), parley.WebhookFilter{After: page[1].Seq})
		if err != nil || len(rest) != 2 || rest[0].Seq <= page[1].Seq {
			t.Fatalf("DeadWebhooks(after) = %+v, %v", rest, err)
		}
		if none, _ := s.DeadWebhooks(ctxT(t), parley.WebhookFilter{Endpoint: "other"}); len(none) != 0 {
			t.Errorf("DeadWebhooks(endpoint other) = %d events", len(none))
		}
		if n, err := s.PurgeWebhooks(ctxT(t), t0.Add(time.Hour)); err != nil || n != 0 {
			t.Errorf("PurgeWebhooks(before they died) = %d, %v", n, err)
		}
		n, err = s.ReplayWebhooks(ctxT(t), nil, t0.Add(2*time.Hour))
		if err != nil || n != 4 {
			t.Fatalf("ReplayWebhooks(all) = %d, %v; want 4", n, err)
		}
		wantDepth(t, s, 4, 0)
		for _, q := range claim(t, s, 2*time.Hour, 10, 10) {
			settle(t, s, parley.WebhookResult{Endpoint: q.Endpoint, Key: q.Key, Lease: q.Lease, Failed: q.Events[0].ID,
				Error: "refused", Dead: true, At: t0.Add(3 * time.Hour)})
		}
		if n, err := s.PurgeWebhooks(ctxT(t), t0.Add(4*time.Hour)); err != nil || n != 4 {
			t.Errorf("PurgeWebhooks = %d, %v; want 4", n, err)
		}
		wantDepth(t, s, 0, 0)
	})
	t.Run("TwoNodesClaim", func(t *testing.T) { testWebhookTwoNodes(t, open) })
}

// testWebhookTwoNodes drains one outbox through two stores on one
// database, as two nodes would: every event is handed out once, never to
// both at once, and each key's events in order.
func testWebhookTwoNodes(t *testing.T, open func(t *testing.T) parley.Store) {
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
	const keys, each = 40, 15
	want := map[string][]string{}
	var events []parley.WebhookEvent
	for i := range each {
		for k := range keys {
			id := fmt.Sprintf("k%d-%d", k, i)
			events = append(events, webhookEvent("app", fmt.Sprint("k", k), id, 0))
			want[fmt.Sprint("k", k)] = append(want[fmt.Sprint("k", k)], id)
		}
	}
	mustEnqueue(t, s, events...)

	var mu sync.Mutex
	inFlight := map[string]bool{}
	got := map[string][]string{}
	var wg sync.WaitGroup
	for n, node := range []parley.Store{s, s2} {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(n), 1))
			deadline := time.Now().Add(60 * time.Second)
			for round := 0; time.Now().Before(deadline); round++ {
				qs, err := node.ClaimWebhooks(ctxT(t), parley.WebhookClaim{Now: t0, LeaseUntil: t0.Add(time.Hour),
					Lease: fmt.Sprintf("node%d-%d", n, round), Queues: 1 + rng.IntN(8), PerQueue: 1 + rng.IntN(4)})
				if err != nil {
					t.Errorf("node %d: ClaimWebhooks: %v", n, err)
					return
				}
				if len(qs) == 0 {
					mu.Lock()
					done := len(inFlight) == 0 && total(got) == keys*each
					mu.Unlock()
					if done {
						return
					}
					runtime.Gosched() // the other node holds the rest; let it settle
					continue
				}
				mu.Lock()
				for _, q := range qs {
					for _, e := range q.Events {
						if inFlight[e.ID] {
							t.Errorf("event %s handed to both nodes at once", e.ID)
						}
						inFlight[e.ID] = true
						got[q.Key] = append(got[q.Key], e.ID)
					}
				}
				mu.Unlock()
				var rs []parley.WebhookResult
				for _, q := range qs {
					rs = append(rs, delivered(q, 0))
				}
				if err := node.SettleWebhooks(ctxT(t), rs); err != nil {
					t.Errorf("node %d: SettleWebhooks: %v", n, err)
					return
				}
				mu.Lock()
				for _, q := range qs {
					for _, e := range q.Events {
						delete(inFlight, e.ID)
					}
				}
				mu.Unlock()
			}
			t.Errorf("node %d: outbox not drained within 60s", n)
		})
	}
	wg.Wait()
	for k, ids := range want {
		if !slices.Equal(got[k], ids) {
			t.Errorf("key %s delivered %v, want %v (each once, in order)", k, got[k], ids)
		}
	}
	wantDepth(t, s, 0, 0)
}

func total(m map[string][]string) int {
	n := 0
	for _, v := range m {
		n += len(v)
	}
	return n
}

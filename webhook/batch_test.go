package webhook_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/webhook"
)

// batchReceiver records batched POSTs: per key, the changes' n in
// arrival order and the number of POSTs; it checks the signature over the
// exact body and that the event-id header names one id per entry.
type batchReceiver struct {
	t     *testing.T
	srv   *httptest.Server
	mu    sync.Mutex
	ns    map[string][]int    // key → n of the changes received
	ids   map[string][]string // key → event ids received
	posts map[string]int      // key → POSTs answered 2xx
	fail  func(key string, firstN int) bool
}

func newBatchReceiver(t *testing.T) *batchReceiver {
	r := &batchReceiver{t: t, ns: map[string][]int{}, ids: map[string][]string{}, posts: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		if !webhook.Verify([]byte(secret), raw, req.Header.Get(webhook.SignatureHeader)) {
			t.Errorf("signature does not verify over %s", raw)
		}
		var env struct {
			Object string `json:"object"`
			Entry  []struct {
				ID      string `json:"id"`
				Changes []struct {
					Value struct{ N int } `json:"value"`
				} `json:"changes"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(raw, &env); err != nil || env.Object != "whatsapp_business_account" || len(env.Entry) == 0 {
			t.Errorf("body %s: %v", raw, err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		ids := strings.Split(req.Header.Get(webhook.EventIDHeader), ",")
		if len(ids) != len(env.Entry) {
			t.Errorf("%d event ids (%v) for %d entries", len(ids), ids, len(env.Entry))
		}
		key := env.Entry[0].ID
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.fail != nil && r.fail(key, env.Entry[0].Changes[0].Value.N) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		r.posts[key]++
		for i, e := range env.Entry {
			if e.ID != key {
				t.Errorf("one POST holds entries of keys %s and %s", key, e.ID)
			}
			r.ns[key] = append(r.ns[key], e.Changes[0].Value.N)
			r.ids[key] = append(r.ids[key], ids[min(i, len(ids)-1)])
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// enqueueEnvelopes commits keys × each Meta-shaped events (the entry id
// is the key, the change's value {"n":n}) and returns their ids per key.
func enqueueEnvelopes(t *testing.T, s parley.WebhookOutbox, keys, each int) map[string][]string {
	t.Helper()
	want := map[string][]string{}
	var events []parley.WebhookEvent
	for n := range each {
		for k := range keys {
			key := fmt.Sprint("k", k)
			body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"%s","changes":[{"value":{"n":%d},"field":"messages"}]}]}`, key, n)
			e := parley.WebhookEvent{ID: parley.NewWebhookID(), Endpoint: "app", Key: key, Body: []byte(body), CreatedAt: t0}
			events = append(events, e)
			want[key] = append(want[key], e.ID)
		}
	}
	if err := s.EnqueueWebhooks(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	return want
}

func batchEndpoint(url string, maxChanges int) *webhook.Endpoints {
	var eps webhook.Endpoints
	eps.Set("app", webhook.Endpoint{URL: url, Secret: []byte(secret), MaxChanges: maxChanges})
	return &eps
}

// An endpoint that takes up to 4 changes per POST gets a claim of 10
// events of a key as POSTs of 4, 4 and 2 entries, in order, each event
// once.
func TestBatchedDelivery(t *testing.T) {
	s := openSQLite(t)
	rcv := newBatchReceiver(t)
	d := webhook.New(webhook.Options{Outbox: s, Resolver: batchEndpoint(rcv.srv.URL, 4), AllowPrivate: true,
		Clock: &fakeClock{t: t0}, PerQueue: 10})
	want := enqueueEnvelopes(t, s, 3, 10)
	if n, err := d.RunOnce(t.Context()); err != nil || n != 30 {
		t.Fatalf("RunOnce = %d, %v; want 30 events attempted", n, err)
	}
	for k, w := range want {
		if got := rcv.ids[k]; !slices.Equal(got, w) {
			t.Errorf("key %s: ids %v, want %v", k, got, w)
		}
		if got := rcv.ns[k]; !slices.Equal(got, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
			t.Errorf("key %s: changes %v, want 0…9 in order", k, got)
		}
		if rcv.posts[k] != 3 {
			t.Errorf("key %s: %d POSTs, want 3 (4+4+2)", k, rcv.posts[k])
		}
	}
	if open, dead, _ := s.WebhookDepth(t.Context()); open != 0 || dead != 0 {
		t.Errorf("depth after delivering everything: %d open, %d dead", open, dead)
	}
}

// A failed batch holds its key and goes again as a whole at the retry;
// the batches after it wait. Other keys are not held up.
func TestBatchRetriedWhole(t *testing.T) {
	s := openSQLite(t)
	rcv := newBatchReceiver(t)
	failures := 0
	rcv.fail = func(key string, first int) bool {
		if key == "k1" && first == 3 && failures < 2 {
			failures++
			return true
		}
		return false
	}
	clock := &fakeClock{t: t0}
	d := webhook.New(webhook.Options{Outbox: s, Resolver: batchEndpoint(rcv.srv.URL, 3), AllowPrivate: true,
		Clock: clock, Jitter: noJitter, PerQueue: 9})
	want := enqueueEnvelopes(t, s, 2, 9)
	if _, err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := rcv.ns["k1"]; !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("k1 before the retry: %v, want the first batch only (0 1 2)", got)
	}
	if got := rcv.ns["k0"]; len(got) != 9 {
		t.Errorf("k0: %v, want all 9 changes", got)
	}
	for _, step := range []time.Duration{10 * time.Second, 20 * time.Second} {
		clock.Add(step)
		if _, err := d.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got := rcv.ns["k1"]; !slices.Equal(got, []int{0, 1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Errorf("k1 after the retries: %v, want 0…8 in order", got)
	}
	if !slices.Equal(rcv.ids["k1"], want["k1"]) {
		t.Errorf("k1 ids %v, want %v", rcv.ids["k1"], want["k1"])
	}
	if failures != 2 {
		t.Errorf("the failing batch was refused %d times, want 2", failures)
	}
}

// A batch that keeps failing kills only its head, at the head's
// deadline; the events after it are then sent (and they are not dead).
func TestBatchDeadLetterPerEvent(t *testing.T) {
	s := openSQLite(t)
	rcv := newBatchReceiver(t)
	rcv.fail = func(key string, first int) bool { return first == 0 }
	clock := &fakeClock{t: t0}
	d := webhook.New(webhook.Options{Outbox: s, Resolver: batchEndpoint(rcv.srv.URL, 5), AllowPrivate: true,
		Clock: clock, Jitter: noJitter, MaxAge: time.Minute})
	want := enqueueEnvelopes(t, s, 1, 3)
	for range 20 {
		if _, err := d.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		clock.Add(10 * time.Second)
	}
	dead, err := d.Failed(t.Context(), parley.WebhookFilter{})
	if err != nil || len(dead) != 1 || dead[0].ID != want["k0"][0] {
		t.Fatalf("Failed = %v, %v; want only the head %s", dead, err, want["k0"][0])
	}
	if got := rcv.ns["k0"]; !slices.Equal(got, []int{1, 2}) {
		t.Errorf("after the head died: %v, want 1 2", got)
	}
	if open, _, _ := s.WebhookDepth(t.Context()); open != 0 {
		t.Errorf("%d events open, want 0", open)
	}
}

// Without the opt-in, Meta-shaped events go one change per POST.
func TestUnbatchedByDefault(t *testing.T) {
	s := openSQLite(t)
	rcv := newBatchReceiver(t)
	d := webhook.New(webhook.Options{Outbox: s, Resolver: batchEndpoint(rcv.srv.URL, 0), AllowPrivate: true,
		Clock: &fakeClock{t: t0}, PerQueue: 10})
	want := enqueueEnvelopes(t, s, 2, 5)
	if n, err := d.RunOnce(t.Context()); err != nil || n != 10 {
		t.Fatalf("RunOnce = %d, %v; want 10 events attempted", n, err)
	}
	for k, w := range want {
		if !slices.Equal(rcv.ids[k], w) || rcv.posts[k] != 5 {
			t.Errorf("key %s: ids %v in %d POSTs; want %v in 5", k, rcv.ids[k], rcv.posts[k], w)
		}
	}
}

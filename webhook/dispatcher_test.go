package webhook_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/store/sqlite"
	"github.com/parley-chat/parley/webhook"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

const secret = "app-secret"

func openSQLite(t testing.TB) parley.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// receiver is a real HTTP receiver on loopback that checks what every
// webhook receiver needs and records the bodies per ordering key.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	got    map[string][]string // key (from the body) → event ids in arrival order
	ids    map[string]int      // event id → deliveries
	active map[string]bool     // event ids being handled now
	fail   func(key string, n int) int
	tries  map[string]int // key → requests seen
	agents map[string]int // User-Agent → deliveries
}

// body is what the tests enqueue: the key and a sequence number.
type body struct {
	Key string `json:"key"`
	N   int    `json:"n"`
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, got: map[string][]string{}, ids: map[string]int{}, active: map[string]bool{}, tries: map[string]int{}, agents: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	t := r.t
	raw, _ := io.ReadAll(req.Body)
	if req.ContentLength != int64(len(raw)) || len(req.TransferEncoding) != 0 {
		t.Errorf("Content-Length %d, Transfer-Encoding %v for a body of %d bytes; want an exact Content-Length, not chunked",
			req.ContentLength, req.TransferEncoding, len(raw))
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if !webhook.Verify([]byte(secret), raw, req.Header.Get(webhook.SignatureHeader)) {
		t.Errorf("signature %q does not verify over the bytes received", req.Header.Get(webhook.SignatureHeader))
	}
	if !webhook.IsASCII(raw) {
		t.Errorf("body is not ASCII: %q", raw)
	}
	id := req.Header.Get(webhook.EventIDHeader)
	key := string(raw)
	if i := strings.Index(key, `"key":"`); i >= 0 {
		key = key[i+7:]
		key = key[:strings.IndexByte(key, '"')]
	}
	r.mu.Lock()
	if r.active[id] {
		t.Errorf("event %s is being delivered twice at once", id)
	}
	r.active[id] = true
	r.tries[key]++
	n := r.tries[key]
	status := http.StatusOK
	if r.fail != nil {
		status = r.fail(key, n)
	}
	if status == http.StatusOK {
		r.got[key] = append(r.got[key], id)
		r.ids[id]++
		r.agents[req.UserAgent()]++
	}
	r.mu.Unlock()
	time.Sleep(time.Millisecond) // give overlapping deliveries a chance to show
	r.mu.Lock()
	delete(r.active, id)
	r.mu.Unlock()
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "120")
	}
	w.WriteHeader(status)
}

func (r *receiver) delivered() (map[string][]string, map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := map[string][]string{}
	for k, v := range r.got {
		got[k] = slices.Clone(v)
	}
	ids := map[string]int{}
	for k, v := range r.ids {
		ids[k] = v
	}
	return got, ids
}

func endpoints(url string) *webhook.Endpoints {
	var eps webhook.Endpoints
	eps.Set("app", webhook.Endpoint{URL: url, Secret: []byte(secret)})
	return &eps
}

// enqueue commits keys × each events, key k's n-th with body {"key":k,"n":n},
// and returns the ids per key in order.
func enqueue(t *testing.T, s parley.WebhookOutbox, at time.Time, keys, each int) map[string][]string {
	t.Helper()
	want := map[string][]string{}
	var events []parley.WebhookEvent
	for n := range each {
		for k := range keys {
			key := fmt.Sprint("k", k)
			// Non-ASCII in the body: stored and sent as escaped ASCII.
			b, err := webhook.Marshal(map[string]any{"key": key, "n": n, "text": "olá 😀"})
			if err != nil {
				t.Fatal(err)
			}
			e := parley.WebhookEvent{ID: parley.NewWebhookID(), Endpoint: "app", Key: key, Body: b, CreatedAt: at}
			events = append(events, e)
			want[key] = append(want[key], e.ID)
		}
	}
	if err := s.EnqueueWebhooks(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	return want
}

func noJitter(d time.Duration) time.Duration { return d }

func TestDeliversSignedInOrder(t *testing.T) {
	s := openSQLite(t)
	rcv := newReceiver(t)
	clock := &fakeClock{t: t0}
	d := webhook.New(webhook.Options{Outbox: s, Resolver: endpoints(rcv.srv.URL), AllowPrivate: true, Clock: clock, PerQueue: 3})
	want := enqueue(t, s, t0, 5, 7)
	for range 10 {
		if _, err := d.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	got, ids := rcv.delivered()
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("key %s: got %v, want %v", k, got[k], w)
		}
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
	if open, dead, _ := s.WebhookDepth(t.Context()); open != 0 || dead != 0 {
		t.Errorf("depth after delivering everything: %d open, %d dead", open, dead)
	}
}

// A receiver that fails one key's first attempts: that key waits (its
// later events are not sent ahead of the failed one) while the others
// go through; after the retries it is delivered complete and in order.
func TestOrderingUnderFailures(t *testing.T) {
	s := openSQLite(t)
	rcv := newReceiver(t)
	rcv.fail = func(key string, n int) int {
		if key == "k1" && n <= 3 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
	clock := &fakeClock{t: t0}
	d := webhook.New(webhook.Options{Outbox: s, Resolver: endpoints(rcv.srv.URL), AllowPrivate: true, Clock: clock, Jitter: noJitter})
	want := enqueue(t, s, t0, 4, 5)
	if _, err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, _ := rcv.delivered()
	if len(got["k1"]) != 0 {
		t.Errorf("k1 delivered %v while its first event fails", got["k1"])
	}
	for _, k := range []string{"k0", "k2", "k3"} {
		if !slices.Equal(got[k], want[k]) {
			t.Errorf("key %s: got %v, want %v", k, got[k], want[k])
		}
	}
	for _, step := range []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second} {
		clock.Add(step - time.Millisecond)
		if n, _ := d.RunOnce(t.Context()); n != 0 {
			t.Errorf("attempted %d events before the retry was due", n)
		}
		clock.Add(time.Millisecond)
		if n, err := d.RunOnce(t.Context()); err != nil || n == 0 {
			t.Fatalf("RunOnce at the retry time: %d, %v", n, err)
		}
	}
	got, _ = rcv.delivered()
	if !slices.Equal(got["k1"], want["k1"]) {
		t.Errorf("k1 after retries: got %v, want %v", got["k1"], want["k1"])
	}
}

// The retry schedule follows Backoff (without jitter here), honours a
// longer Retry-After, and the event is dead once 7 days have passed
// since it was enqueued, with a last attempt at the deadline.
func TestRetryScheduleAndDeath(t *testing.T) {
	s := openSQLite(t)
	rcv := newReceiver(t)
	rcv.fail = func(key string, n int) int {
		if n == 2 {
			return http.StatusTooManyRequests // Retry-After: 120
		}
		return http.StatusServiceUnavailable
	}
	clock := &fakeClock{t: t0}
	d := webhook.New(webhook.Options{Outbox: s, Resolver: endpoints(rcv.srv.URL), AllowPrivate: true, Clock: clock, Jitter: noJitter})
	enqueue(t, s, t0, 1, 1)
	// Every expected attempt time is a multiple of 10s, so 10s steps see
	// each at its exact time; from the fifth attempt on the gaps only grow,
	// so the clock skips ahead by the last gap (never past the deadline).
	var times []time.Duration
	for range 100_000 {
		n, err := d.RunOnce(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			times = append(times, clock.Now().Sub(t0))
		}
		if n > 0 {
			if _, dead, _ := s.WebhookDepth(t.Context()); dead == 1 {
				break
			}
			if k := len(times); k >= 5 {
				skip := min(times[k-1]-times[k-2], parley.WebhookMaxAge-times[k-1]) - 10*time.Second
				clock.Add(max(skip, 0))
			}
		}
		clock.Add(10 * time.Second)
	}
	// Attempt 1 at 0; retries after 10s, then max(20s, Retry-After 120s),
	// 40s, 80s, ...
	wantStart := []time.Duration{0, 10 * time.Second, 130 * time.Second, 170 * time.Second, 250 * time.Second, 410 * time.Second}
	if len(times) < len(wantStart) || !slices.Equal(times[:len(wantStart)], wantStart) {
		t.Errorf("attempt times %v…, want %v…", times[:min(len(times), 8)], wantStart)
	}
	if last := times[len(times)-1]; last != parley.WebhookMaxAge {
		t.Errorf("last attempt at %v, want at the deadline %v", last, parley.WebhookMaxAge)
	}
	for i := 1; i < len(times); i++ {
		if gap := times[i] - times[i-1]; gap > time.Hour+time.Second {
			t.Errorf("gap of %v between attempts %d and %d; the backoff caps at one hour", gap, i, i+1)
		}
	}
	dead, err := d.Failed(t.Context(), parley.WebhookFilter{})
	if err != nil || len(dead) != 1 {
		t.Fatalf("Failed = %v, %v", dead, err)
	}
	if dead[0].Attempts != len(times) || dead[0].LastError != "HTTP 503" {
		t.Errorf("dead event: %d attempts, last error %q; want %d, HTTP 503", dead[0].Attempts, dead[0].LastError, len(times))
	}
	t.Logf("%d attempts over 7 days", len(times))

	// Replay: delivered once the receiver works again.
	rcv.fail = nil
	if n, err := d.Replay(t.Context(), nil); err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v", n, err)
	}
	if n, err := d.RunOnce(t.Context()); err != nil || n != 1 {
		t.Fatalf("RunOnce after replay = %d, %v", n, err)
	}
	if open, dead, _ := s.WebhookDepth(t.Context()); open != 0 || dead != 0 {
		t.Errorf("after replay: %d open, %d dead", open, dead)
	}
}

// A body enqueued with raw UTF-8 is sent, and signed, in its ASCII-only
// form (the receiver checks both).
func TestRawUTF8BodyIsSentASCII(t *testing.T) {
	s := openSQLite(t)
	rcv := newReceiver(t)
	d := webhook.New(webhook.Options{Outbox: s, Resolver: endpoints(rcv.srv.URL), AllowPrivate: true, Clock: &fakeClock{t: t0}})
	e := parley.WebhookEvent{ID: "raw", Endpoint: "app", Key: "k", Body: []byte(`{"key":"k","text":"olá 😀"}`), CreatedAt: t0}
	if err := s.EnqueueWebhooks(t.Context(), []parley.WebhookEvent{e}); err != nil {
		t.Fatal(err)
	}
	if n, err := d.RunOnce(t.Context()); err != nil || n != 1 {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	if got, _ := rcv.delivered(); len(got["k"]) != 1 {
		t.Errorf("delivered %v, want the event", got)
	}
}

func TestUnknownEndpointIsDead(t *testing.T) {
	s := openSQLite(t)
	clock := &fakeClock{t: t0}
	d := webhook.New(webhook.Options{Outbox: s, Resolver: &webhook.Endpoints{}, Clock: clock})
	enqueue(t, s, t0, 1, 2)
	if _, err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Second)
	d.RunOnce(t.Context())
	if open, dead, _ := s.WebhookDepth(t.Context()); open != 0 || dead != 2 {
		t.Errorf("events for an unknown endpoint: %d open, %d dead; want both dead", open, dead)
	}
}

// Without AllowPrivate the client refuses loopback at dial time, also
// for a host name that resolves to it, and the event is retried.
func TestPrivateTargetsRefusedAtDial(t *testing.T) {
	var hits int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	}))
	defer srv.Close()
	_, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "http://"), ":")
	client := webhook.NewClient(webhook.ClientOptions{Timeout: 5 * time.Second})
	for _, url := range []string{srv.URL, "http://localhost:" + port + "/", "http://[::ffff:127.0.0.1]:" + port + "/"} {
		resp, err := client.Post(url, "application/json", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
			t.Errorf("POST %s succeeded; want the dial refused", url)
			continue
		}
		if !webhook.IsPrivateAddressError(err) {
			t.Errorf("POST %s: %v; want ErrPrivateAddress", url, err)
		}
	}
	if hits != 0 {
		t.Errorf("the loopback receiver got %d requests", hits)
	}

	s := openSQLite(t)
	clock := &fakeClock{t: t0}
	var eps webhook.Endpoints
	eps.Set("app", webhook.Endpoint{URL: "http://localhost:" + port + "/hook", Secret: []byte(secret)})
	d := webhook.New(webhook.Options{Outbox: s, Resolver: &eps, Clock: clock})
	enqueue(t, s, t0, 1, 1)
	if _, err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	qs, err := s.ClaimWebhooks(t.Context(), parley.WebhookClaim{Now: t0.Add(time.Hour), LeaseUntil: t0.Add(2 * time.Hour), Lease: "x", Queues: 1, PerQueue: 1})
	if err != nil || len(qs) != 1 {
		t.Fatalf("claim = %v, %v", qs, err)
	}
	if e := qs[0].Events[0]; e.Attempts != 1 || !strings.Contains(e.LastError, "not public") {
		t.Errorf("event after a refused dial: attempts %d, error %q", e.Attempts, e.LastError)
	}
	if hits != 0 {
		t.Errorf("the loopback receiver got %d requests", hits)
	}
}

func TestPublicAddr(t *testing.T) {
	tests := []struct {
		ip   string
		want bool
	}{
		{"8.8.8.8", true}, {"2606:4700::1111", true}, {"93.184.216.34", true},
		{"127.0.0.1", false}, {"10.1.2.3", false}, {"172.16.0.1", false}, {"192.168.1.1", false},
		{"169.254.169.254", false}, {"100.64.0.1", false}, {"0.0.0.0", false}, {"255.255.255.255", false},
		{"::1", false}, {"::", false}, {"fe80::1", false}, {"fc00::1", false}, {"fd12::1", false},
		{"::ffff:10.0.0.1", false}, {"::ffff:8.8.8.8", true}, {"64:ff9b::a00:1", false}, {"2002:a00:1::", false},
		{"224.0.0.1", false}, {"ff02::1", false}, {"198.18.0.1", false}, {"192.0.2.1", false},
	}
	for _, tt := range tests {
		if got := webhook.PublicAddr(mustAddr(t, tt.ip)); got != tt.want {
			t.Errorf("PublicAddr(%s) = %v, want %v", tt.ip, got, tt.want)
		}
	}
}

// Run on a real clock: events enqueued through Enqueue are delivered
// promptly (Wake), and Run returns when its context ends.
func TestRunAndShutdown(t *testing.T) {
	s := openSQLite(t)
	rcv := newReceiver(t)
	d := webhook.New(webhook.Options{Outbox: s, Resolver: endpoints(rcv.srv.URL), AllowPrivate: true, Poll: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var want []string
	for i := range 20 {
		b, _ := webhook.Marshal(body{Key: "k", N: i})
		id, err := d.Enqueue(t.Context(), "app", "k", b)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := rcv.delivered()
		if len(got["k"]) == len(want) {
			if !slices.Equal(got["k"], want) {
				t.Errorf("got %v, want %v", got["k"], want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivered %d of %d within 10s (poll is an hour: Wake must work)", len(got["k"]), len(want))
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestParseRetryAfterForms(t *testing.T) {
	// Exercised through a receiver: an HTTP-date Retry-After an hour ahead.
	s := openSQLite(t)
	clock := &fakeClock{t: time.Now().UTC().Truncate(time.Second)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", clock.Now().Add(time.Hour).Format(http.TimeFormat))
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	d := webhook.New(webhook.Options{Outbox: s, Resolver: endpoints(srv.URL), AllowPrivate: true, Clock: clock, Jitter: noJitter})
	enqueue(t, s, clock.Now(), 1, 1)
	d.RunOnce(t.Context())
	clock.Add(time.Hour - time.Second)
	if n, _ := d.RunOnce(t.Context()); n != 0 {
		t.Errorf("retried before the Retry-After date")
	}
	clock.Add(time.Second)
	if n, _ := d.RunOnce(t.Context()); n != 1 {
		t.Errorf("not retried at the Retry-After date")
	}
}

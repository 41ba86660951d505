package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley"
)

// EventIDHeader carries the event id, stable across redeliveries.
const EventIDHeader = "X-Parley-Event-Id"

// Options configure a Dispatcher. Zero values take the defaults noted.
type Options struct {
	Outbox   parley.WebhookOutbox
	Resolver EndpointResolver
	// Client sends the POSTs; nil: NewClient with AllowPrivate, Timeout
	// and Concurrency.
	Client       *http.Client
	AllowPrivate bool
	Concurrency  int           // queues delivered at once, one POST each (64)
	Timeout      time.Duration // one POST (10s)
	PerQueue     int           // events of one key taken per claim (32, the largest batch worth a POST)
	Lease        time.Duration // how long a claim holds its queues (2m; must exceed PerQueue POSTs)
	Poll         time.Duration // how often an idle dispatcher looks for due events (1s)
	MaxAge       time.Duration // retries stop this long after an event was enqueued (parley.WebhookMaxAge)
	// Backoff is the delay before retry number n (n ≥ 1), before jitter;
	// nil: Backoff.
	Backoff func(n int) time.Duration
	// Jitter scales a delay by a random factor; nil: uniform in [0.8, 1.2).
	Jitter    func(d time.Duration) time.Duration
	Clock     parley.Clock // nil: the system clock
	Metrics   *Metrics     // nil: unregistered collectors
	Logger    *slog.Logger
	UserAgent string // "Parley-Webhooks/1.0"
}

// Backoff is the default retry schedule: 10 s after the first failure,
// doubling up to one hour between attempts; with the 7-day deadline that
// is about 180 attempts.
func Backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 20 {
		return time.Hour
	}
	return min(10*time.Second<<(n-1), time.Hour)
}

func defaultJitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*mrand.Float64()))
}

// Dispatcher delivers the outbox's events. See the package doc.
type Dispatcher struct {
	o       Options
	log     *slog.Logger
	m       *Metrics
	wake    chan struct{}
	leases  atomic.Uint64
	node    string
	cacheMu sync.Mutex
	cache   map[string]resolved
	// userAgent is Options.UserAgent as a header value, shared by every
	// request.
	userAgent []string
}

type resolved struct {
	ep  Endpoint
	err error
	at  time.Time
}

const (
	resolveTTL  = 5 * time.Second
	maxClaim    = 256 // queues per claim
	maxSettle   = 512 // results per settle transaction
	maxErrorLen = 512
	maxRetryAft = 24 * time.Hour
	// settleLinger is how long the settler waits for more results to
	// join a small batch.
	settleLinger = 2 * time.Millisecond
)

// New returns a dispatcher; Run starts it.
func New(o Options) *Dispatcher {
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.PerQueue <= 0 {
		o.PerQueue = DefaultPerQueue
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.MaxAge <= 0 {
		o.MaxAge = parley.WebhookMaxAge
	}
	if o.Backoff == nil {
		o.Backoff = Backoff
	}
	if o.Jitter == nil {
		o.Jitter = defaultJitter
	}
	if o.Clock == nil {
		o.Clock = parley.SystemClock{}
	}
	if o.Client == nil {
		o.Client = NewClient(ClientOptions{AllowPrivate: o.AllowPrivate, Timeout: o.Timeout, MaxConnsPerHost: o.Concurrency})
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.UserAgent == "" {
		o.UserAgent = "Parley-Webhooks/1.0"
	}
	m := o.Metrics
	if m == nil {
		m = NewMetrics(nil)
	}
	var b [6]byte
	rand.Read(b[:])
	return &Dispatcher{o: o, log: o.Logger.With("component", "webhooks"), m: m, wake: make(chan struct{}, 1),
		node: hex.EncodeToString(b[:]), cache: make(map[string]resolved), userAgent: []string{o.UserAgent}}
}

// Enqueue commits one event outside any other transaction (group-committed
// with whatever else the store is writing) and wakes the dispatcher. It
// returns the event's id. Producers that change state in the same
// operation put the event into that transaction instead
// (parley.Delivery.Webhooks) and call Wake after the commit.
func (d *Dispatcher) Enqueue(ctx context.Context, endpoint, key string, body []byte) (string, error) {
	e := parley.WebhookEvent{ID: parley.NewWebhookID(), Endpoint: endpoint, Key: key, Body: body, CreatedAt: d.o.Clock.Now()}
	if err := d.o.Outbox.EnqueueWebhooks(ctx, []parley.WebhookEvent{e}); err != nil {
		return "", err
	}
	d.Wake()
	return e.ID, nil
}

// Wake makes the dispatcher look for due events now instead of at its
// next poll. It never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Failed lists dead events, oldest first, for the operator.
func (d *Dispatcher) Failed(ctx context.Context, f parley.WebhookFilter) ([]parley.WebhookEvent, error) {
	return d.o.Outbox.DeadWebhooks(ctx, f)
}

// Replay makes dead events pending again (all of them when ids is nil)
// and wakes the dispatcher; it returns how many.
func (d *Dispatcher) Replay(ctx context.Context, ids []string) (int, error) {
	// The operator has likely fixed an endpoint: forget cached answers.
	d.cacheMu.Lock()
	clear(d.cache)
	d.cacheMu.Unlock()
	n, err := d.o.Outbox.ReplayWebhooks(ctx, ids, d.o.Clock.Now())
	if n > 0 {
		d.Wake()
	}
	return n, err
}

// claimed is a queue with its lease's end.
type claimed struct {
	parley.WebhookQueue
	until time.Time
}

func (d *Dispatcher) claim(ctx context.Context, n int) ([]claimed, error) {
	now := d.o.Clock.Now()
	until := now.Add(d.o.Lease)
	lease := fmt.Sprintf("%s-%d", d.node, d.leases.Add(1))
	qs, err := d.o.Outbox.ClaimWebhooks(ctx, parley.WebhookClaim{Now: now, LeaseUntil: until, Lease: lease,
		Queues: min(n, maxClaim), PerQueue: d.o.PerQueue})
	if err != nil {
		return nil, err
	}
	out := make([]claimed, len(qs))
	for i, q := range qs {
		out[i] = claimed{q, until}
	}
	return out, nil
}

// RunOnce claims what is due now, delivers it and settles the results,
// then returns how many events it attempted. Run does the same
// continuously; tests with a fake clock call RunOnce after moving it.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	qs, err := d.claim(ctx, maxClaim)
	if err != nil || len(qs) == 0 {
		return 0, err
	}
	results := make([]parley.WebhookResult, len(qs))
	var attempted atomic.Int64
	sem := make(chan struct{}, d.o.Concurrency)
	var wg sync.WaitGroup
	for i, q := range qs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = d.deliver(ctx, ctx, q)
			attempted.Add(int64(len(results[i].Delivered)))
			if results[i].Failed != "" {
				attempted.Add(1)
			}
		})
	}
	wg.Wait()
	err = d.settle(context.WithoutCancel(ctx), results)
	return int(attempted.Load()), err
}

// DefaultPerQueue is how many events of one queue a claim takes unless
// Options.PerQueue says otherwise. It bounds a batched POST
// (Endpoint.MaxChanges), so it is as large as a useful batch: with 8, a
// batched endpoint got at most 8 changes a POST and the dispatcher
// settled 8 events per queue and round; with 32, 66,000–85,000 instead
// of 51,000–55,000 events/s batched, no change one per POST
// (docs/BENCHMARKS.md, session 6). A claim holds at most four times
// Concurrency queues, so this many times that many events in memory.
const DefaultPerQueue = 32

// ShutdownGrace is how long Run lets POSTs in flight finish after its
// context ends; then they are cancelled and their queues released
// without counting an attempt.
const ShutdownGrace = 5 * time.Second

// Run delivers until ctx ends, then lets POSTs in flight finish (at most
// ShutdownGrace), settles every result and returns nil. One claimer keeps
// up to four times Concurrency queues claimed, Concurrency workers deliver
// them, and one settler commits results in batches.
func (d *Dispatcher) Run(ctx context.Context) error {
	postCtx, cancelPosts := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelPosts()
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(ShutdownGrace, cancelPosts)
		context.AfterFunc(postCtx, func() { t.Stop() })
	})
	defer stop()

	// A queue stays in flight from its claim through its POSTs to its
	// settle, and claims and settles wait for each other on SQLite's
	// single writer: with twice Concurrency in flight the workers ran out
	// of claimed queues while results waited to be settled (benchmark in
	// docs/BENCHMARKS.md, session 6). The lease (2 minutes) is far longer
	// than a queue waits here.
	capacity := 4 * d.o.Concurrency
	work := make(chan claimed, capacity)
	results := make(chan parley.WebhookResult, capacity)
	settled := make(chan struct{}, 1)
	var inflight atomic.Int64

	var workers sync.WaitGroup
	for range d.o.Concurrency {
		workers.Go(func() {
			for q := range work {
				results <- d.deliver(ctx, postCtx, q)
			}
		})
	}
	settlerDone := make(chan struct{})
	go func() {
		defer close(settlerDone)
		batch := make([]parley.WebhookResult, 0, maxSettle)
		linger := time.NewTimer(0)
		<-linger.C
		for r := range results {
			batch = append(batch[:0], r)
			// Take what is ready; while a small batch has more results on
			// the way, wait up to settleLinger for them: every settle is a
			// commit, and one commit for many results writes each page
			// they share once.
			lingering := false
		fill:
			for len(batch) < maxSettle {
				select {
				case r, ok := <-results:
					if !ok {
						break fill
					}
					batch = append(batch, r)
					continue
				default:
				}
				if lingering || len(batch) >= capacity/4 || inflight.Load() <= int64(len(batch)) {
					break
				}
				lingering = true
				linger.Reset(settleLinger)
			wait:
				for len(batch) < capacity/4 {
					select {
					case r, ok := <-results:
						if !ok {
							break fill
						}
						batch = append(batch, r)
					case <-linger.C:
						break wait
					}
				}
			}
			if lingering && !linger.Stop() {
				select {
				case <-linger.C:
				default:
				}
			}
			d.settleRetrying(context.WithoutCancel(ctx), batch)
			inflight.Add(-int64(len(batch)))
			select {
			case settled <- struct{}{}:
			default:
			}
		}
	}()

	poll := time.NewTimer(0)
	defer poll.Stop()
	depthAt := time.Time{}
	for ctx.Err() == nil {
		if time.Since(depthAt) > 10*time.Second {
			d.sampleDepth(ctx)
			depthAt = time.Now()
		}
		// Claim in sizeable batches (each claim is a write transaction),
		// or whatever is free once the workers run out of work.
		if free := capacity - int(inflight.Load()); free >= capacity/4 || (free > 0 && len(work) == 0) {
			qs, err := d.claim(ctx, free)
			if err != nil && ctx.Err() == nil {
				d.log.Warn("claiming webhooks", "err", err)
			}
			for _, q := range qs {
				inflight.Add(1)
				work <- q // capacity slots: never blocks
			}
			if len(qs) > 0 {
				continue
			}
		}
		poll.Reset(d.o.Poll)
		select {
		case <-ctx.Done():
		case <-d.wake:
		case <-settled:
		case <-poll.C:
		}
	}
	close(work)
	workers.Wait()
	close(results)
	<-settlerDone
	return nil
}

func (d *Dispatcher) sampleDepth(ctx context.Context) {
	open, dead, err := d.o.Outbox.WebhookDepth(ctx)
	if err != nil {
		return
	}
	d.m.Open.Set(float64(open))
	d.m.DeadStock.Set(float64(dead))
}

// settleRetrying settles, trying a few times: an unsettled result leaves
// its queue leased until the lease ends, and its delivered events are
// sent again.
func (d *Dispatcher) settleRetrying(ctx context.Context, rs []parley.WebhookResult) {
	var err error
	for i := range 3 {
		if err = d.settle(ctx, rs); err == nil {
			return
		}
		time.Sleep(time.Duration(i+1) * 100 * time.Millisecond)
	}
	d.log.Error("settling webhook results; their events will be sent again when the lease ends", "queues", len(rs), "err", err)
}

func (d *Dispatcher) settle(ctx context.Context, rs []parley.WebhookResult) error {
	for len(rs) > 0 {
		n := min(len(rs), maxSettle)
		if err := d.o.Outbox.SettleWebhooks(ctx, rs[:n]); err != nil {
			return err
		}
		rs = rs[n:]
	}
	return nil
}

// deliver sends q's events in order until one fails, the lease is about
// to end, or the dispatcher stops (ctx); postCtx cancels POSTs in flight.
func (d *Dispatcher) deliver(ctx, postCtx context.Context, q claimed) (res parley.WebhookResult) {
	res = parley.WebhookResult{Endpoint: q.Endpoint, Key: q.Key, Lease: q.Lease}
	defer func() { res.At = d.o.Clock.Now() }()
	ep, err := d.resolve(postCtx, q.Endpoint)
	for evs := q.Events; len(evs) > 0; {
		if ctx.Err() != nil || d.o.Clock.Now().Add(d.o.Timeout).After(q.until) {
			return res // released: the rest is due again at once
		}
		e := &evs[0]
		if err != nil {
			d.fail(&res, e, err, 0)
			return res
		}
		// One POST: the head alone, or the head and the events after it
		// that fit one batch. A failed batch is charged to its head, which
		// holds the queue: the same events go again, as a whole, at the
		// retry, and each event dies on its own deadline.
		n := batchLen(ep.MaxChanges, evs)
		var retryAfter time.Duration
		if n == 1 {
			retryAfter, err = d.send(postCtx, ep, asciiBody(e.Body), e.ID)
		} else {
			retryAfter, err = d.postBatch(postCtx, ep, evs[:n])
		}
		if err == nil {
			d.m.Delivered.Add(float64(n))
			for i := range n {
				res.Delivered = append(res.Delivered, evs[i].ID)
			}
			evs = evs[n:]
			continue
		}
		if postCtx.Err() != nil {
			return res // cut short by shutdown: not the receiver's failure
		}
		d.fail(&res, e, err, retryAfter)
		return res
	}
	return res
}

// fail records e's failure in res: dead when the endpoint is gone or the
// deadline has passed, else a retry after the backoff (or Retry-After).
func (d *Dispatcher) fail(res *parley.WebhookResult, e *parley.WebhookEvent, err error, retryAfter time.Duration) {
	now := d.o.Clock.Now()
	msg := err.Error()
	if len(msg) > maxErrorLen {
		msg = msg[:maxErrorLen]
	}
	res.Failed, res.Error = e.ID, msg
	deadline := e.EnqueuedAt.Add(d.o.MaxAge)
	if parley.Match(err, parley.ENOTFOUND) || !now.Before(deadline) {
		res.Dead = true
		d.m.Dead.Inc()
		d.log.Warn("webhook event is dead", "id", e.ID, "endpoint", e.Endpoint, "attempts", e.Attempts+1, "err", msg)
		return
	}
	wait := d.o.Jitter(d.o.Backoff(e.Attempts + 1))
	wait = max(wait, min(retryAfter, maxRetryAft))
	res.RetryAt = now.Add(wait)
	if res.RetryAt.After(deadline) {
		res.RetryAt = deadline // one last attempt at the deadline
	}
	d.m.Retried.Inc()
	d.log.Debug("webhook attempt failed", "id", e.ID, "endpoint", e.Endpoint, "attempt", e.Attempts+1, "retry_at", res.RetryAt, "err", msg)
}

// resolve asks the resolver, caching answers for resolveTTL.
func (d *Dispatcher) resolve(ctx context.Context, id string) (Endpoint, error) {
	d.cacheMu.Lock()
	r, ok := d.cache[id]
	d.cacheMu.Unlock()
	if ok && time.Since(r.at) < resolveTTL {
		return r.ep, r.err
	}
	ep, err := d.o.Resolver.ResolveEndpoint(ctx, id)
	if err == nil {
		err = ValidateURL(ep.URL)
		if err != nil {
			err = parley.Errorf(parley.ENOTFOUND, "endpoint %q has no valid callback URL", id)
		}
	}
	d.cacheMu.Lock()
	if len(d.cache) > 10000 {
		clear(d.cache)
	}
	d.cache[id] = resolved{ep, err, time.Now()}
	d.cacheMu.Unlock()
	return ep, err
}

// errStatus is a delivery refused by the receiver.
type errStatus struct{ code int }

func (e errStatus) Error() string { return "HTTP " + strconv.Itoa(e.code) }

// asciiBody is body as it is sent and signed: a producer that did not
// use Marshal gets the ASCII-only form, which decodes to the same JSON.
func asciiBody(body []byte) []byte {
	if IsASCII(body) {
		return body
	}
	return AppendASCII(make([]byte, 0, len(body)+len(body)/4), body)
}

// jsonType is every POST's Content-Type; the transport only reads header
// values, so one slice serves all requests.
var jsonType = []string{"application/json"}

// send POSTs body, signed, with ids (one event id, or a batch's ids) in
// the event-id header; a nil error means a 2xx answer. retryAfter is the
// receiver's Retry-After, if it gave one.
func (d *Dispatcher) send(ctx context.Context, ep Endpoint, body []byte, ids string) (retryAfter time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return 0, parley.Errorf(parley.ENOTFOUND, "callback URL: %v", err)
	}
	h := req.Header
	h["Content-Type"] = jsonType
	h[SignatureHeader] = []string{Sign(ep.Secret, body)}
	h[EventIDHeader] = []string{ids}
	h["User-Agent"] = d.userAgent
	start := time.Now()
	resp, err := d.o.Client.Do(req)
	d.m.Latency.Observe(time.Since(start).Seconds())
	if err != nil {
		return 0, err
	}
	// Drain a little so the connection is reused; receivers answer small.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	return parseRetryAfter(resp.Header.Get("Retry-After"), d.o.Clock.Now()), errStatus{resp.StatusCode}
}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(min(s, int(maxRetryAft/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// IsPrivateAddressError reports whether err is a refusal by the SSRF
// guard.
func IsPrivateAddressError(err error) bool { return errors.Is(err, ErrPrivateAddress) }

package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/cpuclock"
	"github.com/parley-chat/parley/webhook"
)

// WebhookReceiver is the local receiver both webhook measurements post
// to: a bare net/http handler that reads the body and answers 200, with
// /healthz for readiness and /count for the requests it has seen; webhooks
// go to POST /hook.
func WebhookReceiver() http.Handler {
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, n.Load()) })
	mux.HandleFunc("POST /hook", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n.Add(1)
	})
	return mux
}

// StatusBody is a realistic event: a "delivered" status webhook built by
// the payload builders (about 400 bytes).
func StatusBody() []byte {
	b, err := webhook.StatusUpdate("102290129340398", webhook.Metadata{DisplayPhoneNumber: "15550783881", PhoneNumberID: "106540352242922"},
		webhook.NewStatus(webhook.StatusChange{MessageID: "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA", Status: webhook.StatusDelivered,
			At: time.Unix(1749416383, 0), RecipientID: "16505551234", BizOpaqueCallbackData: "order-42", Category: "utility"}))
	if err != nil {
		panic(err)
	}
	return b
}

// BaselinePosts is the baseline: conc goroutines POST body to url with a
// plain net/http client (keep-alive, the same headers and signature
// computation a webhook has) for d. It returns requests per second.
func BaselinePosts(ctx context.Context, url string, body []byte, conc int, d time.Duration) (float64, error) {
	perSec, _, err := BaselinePostsCPU(ctx, url, body, conc, d)
	return perSec, err
}

// BaselinePostsCPU is BaselinePosts that also returns this process's CPU
// time per request (the client's side; zero where not measured).
func BaselinePostsCPU(ctx context.Context, url string, body []byte, conc int, d time.Duration) (perSec float64, cpuPerReq time.Duration, err error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc, DisableCompression: true}}
	defer client.CloseIdleConnections()
	secret := []byte("bench-secret")
	var n atomic.Int64
	var firstErr error
	var once sync.Once
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	cpu := cpuclock.Process()
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, body))
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						once.Do(func() { firstErr = err })
					}
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				n.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed, used := time.Since(start), cpuclock.Process()-cpu
	if n.Load() > 0 {
		cpuPerReq = used / time.Duration(n.Load())
	}
	return float64(n.Load()) / elapsed.Seconds(), cpuPerReq, firstErr
}

// WebhookRun is the outcome of WebhookDispatch.
type WebhookRun struct {
	Events        int
	Keys          int
	EnqueueTime   time.Duration // committing every event to the outbox
	DrainTime     time.Duration // from starting the dispatcher until the outbox is empty
	EnqueuePerSec float64
	DrainPerSec   float64
	// DrainCPU is this process's CPU time during the drain (dispatcher
	// and store; the receiver runs elsewhere), zero where not measured.
	DrainCPU  time.Duration
	Delivered int64 // counted by the receiver
}

// WebhookDispatch measures the real path: it commits events (over keys
// ordering keys, in batches of 500 through EnqueueWebhooks) to the
// store's outbox, then runs one dispatcher (Concurrency conc, PerQueue
// perQueue) that posts them to url until the outbox is empty.
func WebhookDispatch(ctx context.Context, s parley.Store, url string, body []byte, events, keys, conc, perQueue int) (WebhookRun, error) {
	return WebhookDispatchBatched(ctx, s, url, body, events, keys, conc, perQueue, 0)
}

// WebhookDispatchBatched is WebhookDispatch to an endpoint that takes up
// to maxChanges changes per POST (webhook.Endpoint.MaxChanges; 0 or 1:
// one change per POST, the default).
func WebhookDispatchBatched(ctx context.Context, s parley.Store, url string, body []byte, events, keys, conc, perQueue, maxChanges int) (WebhookRun, error) {
	r := WebhookRun{Events: events, Keys: keys}
	now := time.Now()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	sem := make(chan struct{}, 8) // enqueuers in flight: the batcher groups their batches
	const batch = 500
	for i := 0; i < events; i += batch {
		evs := make([]parley.WebhookEvent, 0, batch)
		for j := i; j < min(i+batch, events); j++ {
			evs = append(evs, parley.WebhookEvent{ID: parley.NewWebhookID(), Endpoint: "bench", Key: fmt.Sprint("k", j%keys), Body: body, CreatedAt: now})
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.EnqueueWebhooks(ctx, evs); err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return r, err
	default:
	}
	r.EnqueueTime = time.Since(start)

	var eps webhook.Endpoints
	eps.Set("bench", webhook.Endpoint{URL: url, Secret: []byte("bench-secret"), MaxChanges: maxChanges})
	m := webhook.NewMetrics(nil)
	d := webhook.New(webhook.Options{Outbox: s, Resolver: &eps, AllowPrivate: true, Concurrency: conc, PerQueue: perQueue,
		Metrics: m, Poll: 10 * time.Millisecond})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	start = time.Now()
	cpu := cpuclock.Process()
	go func() { done <- d.Run(runCtx) }()
	for {
		open, _, err := s.WebhookDepth(ctx)
		if err != nil {
			stop()
			<-done
			return r, err
		}
		if open == 0 {
			break
		}
		if ctx.Err() != nil {
			stop()
			<-done
			return r, ctx.Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.DrainTime = time.Since(start)
	r.DrainCPU = cpuclock.Process() - cpu
	stop()
	if err := <-done; err != nil {
		return r, err
	}
	r.EnqueuePerSec = float64(events) / r.EnqueueTime.Seconds()
	r.DrainPerSec = float64(events) / r.DrainTime.Seconds()
	return r, nil
}

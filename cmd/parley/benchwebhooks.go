package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/bench"
	"github.com/parley-chat/parley/store/postgres"
	"github.com/parley-chat/parley/store/sqlite"
	"github.com/parley-chat/parley/webhook"
)

func benchWebhooks(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench webhooks", flag.ContinueOnError)
	events := fs.Int("events", 200000, "events to enqueue and deliver")
	keys := fs.Int("keys", 2000, "ordering keys (conversations) the events are spread over")
	conc := fs.Int("concurrency", 64, "dispatcher concurrency (POSTs in flight); also the baseline's")
	perQueue := fs.Int("per-queue", webhook.DefaultPerQueue, "events of one key taken per claim (default: the dispatcher's)")
	changes := fs.Int("changes-per-post", 1, "changes per POST (the endpoint's opt-in batching; 1: one per POST, the default)")
	dur := fs.Duration("baseline", 5*time.Second, "how long the baseline posts")
	database := fs.String("database", "", "PostgreSQL URL for the outbox (default: SQLite in a temporary directory)")
	profile := fs.String("cpuprofile", "", "write this process's CPU profile during the dispatch to this file")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	dir, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	addr, err := bench.FreeAddr()
	if err != nil {
		return err
	}
	rcv, err := bench.Start(ctx, addr, exe, "bench", "webhook-receiver", "--addr", addr)
	if err != nil {
		return err
	}
	defer rcv.Stop()
	url := "http://" + addr + "/hook"
	body := bench.StatusBody()
	kind := "SQLite"
	if *database != "" {
		kind = "PostgreSQL"
	}
	fmt.Printf("## Webhook dispatch (events=%d over %d keys, concurrency=%d, per-queue=%d, changes per POST ≤ %d, body %d B, outbox on %s, %s, GOMAXPROCS=%d)\n\n",
		*events, *keys, *conc, *perQueue, *changes, len(body), kind, runtime.Version(), runtime.GOMAXPROCS(0))

	base, baseCPU, err := bench.BaselinePostsCPU(ctx, url, body, *conc, *dur)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	var s parley.Store
	if *database != "" {
		s, err = postgres.Open(ctx, *database)
	} else {
		s, err = sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	}
	if err != nil {
		return err
	}
	defer s.Close()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	r, err := bench.WebhookDispatchBatched(ctx, s, url, body, *events, *keys, *conc, *perQueue, *changes)
	if *profile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	fmt.Printf("| measure | value |\n|---|---|\n")
	fmt.Printf("| baseline: plain net/http client → bare handler (%d in flight, %s) | %.0f req/s |\n", *conc, *dur, base)
	fmt.Printf("| enqueue: events committed to the outbox (batches of 500) | %d in %s = %.0f events/s |\n", r.Events, r.EnqueueTime.Round(time.Millisecond), r.EnqueuePerSec)
	fmt.Printf("| dispatch: claimed, signed, POSTed, settled | %d in %s = **%.0f events/s** |\n", r.Events, r.DrainTime.Round(time.Millisecond), r.DrainPerSec)
	fmt.Printf("| dispatch / baseline | %.2f |\n", r.DrainPerSec/base)
	if baseCPU > 0 && r.DrainCPU > 0 {
		// CPU per item of the sending process: less skewed than wall time
		// when other work shares the machine (the receiver's is not counted).
		fmt.Printf("| sender CPU: baseline per request / dispatch per event | %.1f µs / %.1f µs |\n",
			float64(baseCPU)/1e3, float64(r.DrainCPU)/float64(r.Events)/1e3)
	}
	fmt.Printf("| end to end (enqueue then dispatch) | %.0f events/s |\n\n", float64(r.Events)/(r.EnqueueTime+r.DrainTime).Seconds())
	fmt.Println("target: ≥ 60,000 events/s (3 × 20,000 Cloud API sends/s)")
	return nil
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/atrest"
	"github.com/parley-chat/parley/bench"
	"github.com/parley-chat/parley/store/postgres"
)

const benchUsage = `usage: parley bench COMMAND [flags]

commands:
  conns       idle authenticated connections: server RSS per connection,
              against a bare goroutine-per-connection WebSocket echo server
  messages    durable 1:1 messages per second end-to-end with p50/p99 latency,
              against a raw SQLite insert loop; as fast as the window allows,
              or at a fixed offered rate with --rate (an open loop); with
              --database on PostgreSQL, in a schema of its own that it drops
              afterwards, against a raw PostgreSQL insert loop as well; with
              --nodes 2 on two servers sharing it and --nats
  webhooks    webhook events per second from the outbox to a local receiver
              (a bare net/http handler in a child process), against a plain
              net/http client posting to the same receiver
  all         conns, then messages, then webhooks

Each command starts its servers as child processes of this binary with a
temporary data directory and prints a report.
`

func benchCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, benchUsage)
		return errUsage
	}
	switch args[0] {
	case "conns":
		return benchConns(ctx, args[1:])
	case "messages":
		return benchMessages(ctx, args[1:])
	case "webhooks":
		return benchWebhooks(ctx, args[1:])
	case "all":
		if err := benchConns(ctx, nil); err != nil {
			return err
		}
		if err := benchMessages(ctx, nil); err != nil {
			return err
		}
		return benchWebhooks(ctx, nil)
	case "webhook-receiver": // the local receiver, run as a child process
		fs := flag.NewFlagSet("webhook-receiver", flag.ContinueOnError)
		addr := fs.String("addr", "127.0.0.1:0", "listen address")
		if err := fs.Parse(args[1:]); err != nil {
			return errUsage
		}
		srv := &http.Server{Addr: *addr, Handler: bench.WebhookReceiver()}
		go func() { <-ctx.Done(); srv.Close() }()
		if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	case "echo-server": // the baseline, run as a child process
		fs := flag.NewFlagSet("echo-server", flag.ContinueOnError)
		addr := fs.String("addr", "127.0.0.1:0", "listen address")
		if err := fs.Parse(args[1:]); err != nil {
			return errUsage
		}
		srv := &http.Server{Addr: *addr, Handler: bench.EchoHandler()}
		go func() { <-ctx.Done(); srv.Close() }()
		if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	case "-h", "--help":
		fmt.Print(benchUsage)
		return nil
	}
	fmt.Fprintf(os.Stderr, "parley bench: unknown command %q\n\n%s", args[0], benchUsage)
	return errUsage
}

func benchServer(ctx context.Context, dir string, extra ...string) (*bench.Proc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := bench.FreeAddr()
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--dev", "--log-level", "warn", "--addr", addr, "--data", dir,
		"--rate-ip", "100000000", "--rate-number", "100000000"}, extra...)
	return bench.Start(ctx, addr, exe, args...)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func benchConns(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench conns", flag.ContinueOnError)
	n := fs.Int("n", 19000, "connections (the per-process file limit here is 20,000)")
	spread := fs.Int("spread", 8, "source addresses 127.0.0.2 … to spread the clients over")
	settleFor := fs.Duration("settle", 5*time.Second, "wait after connecting before reading RSS")
	heapProfile := fs.String("heapprofile", "", "write the server's heap profile (after GC, with all connections open) to this file")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	dir, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Printf("## Idle connections (n=%d, %s, GOMAXPROCS=%d)\n\n", *n, runtime.Version(), runtime.GOMAXPROCS(0))
	t0 := time.Now()
	creds, err := bench.Seed(ctx, dir, *n, 4915000000000)
	if err != nil {
		return err
	}
	fmt.Printf("seeded %d accounts in %s\n", len(creds), time.Since(t0).Round(time.Millisecond))
	tokens := make([]string, len(creds))
	for i, c := range creds {
		tokens[i] = c.Token
	}
	type row struct {
		name                 string
		before, after, freed int64
		connect              time.Duration
	}
	var rows []row
	measure := func(name string, p *bench.Proc, url string, toks []string, freeURL, freeToken string) error {
		defer p.Stop()
		time.Sleep(time.Second)
		if err := bench.FreeMemory(freeURL, freeToken); err != nil {
			return err
		}
		before, err := p.RSS()
		if err != nil {
			return err
		}
		t := time.Now()
		conns, err := bench.OpenIdle(ctx, url, *n, *spread, toks)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		connect := time.Since(t)
		time.Sleep(*settleFor)
		after, err := p.RSS()
		if err != nil {
			return err
		}
		if err := bench.FreeMemory(freeURL, freeToken); err != nil {
			return err
		}
		time.Sleep(time.Second)
		if *heapProfile != "" && freeToken != "" {
			url := strings.Replace(freeURL, "free-memory", "pprof/heap", 1)
			if err := bench.Fetch(url, freeToken, *heapProfile); err != nil {
				fmt.Fprintln(os.Stderr, "heap profile:", err)
			}
		}
		freed, err := p.RSS()
		bench.CloseAll(conns)
		if err != nil {
			return err
		}
		rows = append(rows, row{name, before, after, freed, connect})
		return nil
	}
	p, err := benchServer(ctx, dir, "--admin-token", "bench-operator")
	if err != nil {
		return err
	}
	if err := measure("parley serve (authenticated)", p, "ws://"+p.Addr+"/v1/ws", tokens,
		"http://"+p.Addr+"/admin/v1/debug/free-memory", "bench-operator"); err != nil {
		return err
	}
	exe, _ := os.Executable()
	addr, _ := bench.FreeAddr()
	echo, err := bench.Start(ctx, addr, exe, "bench", "echo-server", "--addr", addr)
	if err != nil {
		return err
	}
	if err := measure("baseline: bare echo server (coder/websocket, goroutine per conn)", echo, "ws://"+addr+"/", nil,
		"http://"+addr+"/free-memory", ""); err != nil {
		return err
	}
	fmt.Printf("\n| server | RSS before | RSS with %d conns, after %s idle | per conn | same after GC | per conn after GC | connect time |\n|---|---|---|---|---|---|---|\n", *n, *settleFor)
	per := make([]float64, len(rows))
	for i, r := range rows {
		per[i] = float64(r.freed-r.before) / float64(*n)
		fmt.Printf("| %s | %s | %s | %.2f KiB | %s | **%.2f KiB** | %s |\n", r.name, mib(r.before), mib(r.after),
			float64(r.after-r.before)/float64(*n)/1024, mib(r.freed), per[i]/1024, r.connect.Round(time.Millisecond))
	}
	if len(per) == 2 && per[1] > 0 {
		fmt.Printf("\nparley / baseline per connection after GC: %.2f (target: ≤ 4 KiB per connection)\n", per[0]/per[1])
		fmt.Println("\"after GC\": the server collected garbage and returned free memory to the OS when asked, as parley serve does by itself about a second after it goes idle following a burst (and the Go runtime within about two minutes).")
		fmt.Println()
	}
	return nil
}

func benchMessages(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench messages", flag.ContinueOnError)
	pairs := fs.Int("pairs", 100, "sender/receiver pairs (one connection each)")
	window := fs.Int("window", 32, "outstanding sends per sender")
	rate := fs.Float64("rate", 0, "messages per second offered, all pairs together, on a fixed schedule (an open loop; latency counts from each message's scheduled time); 0: as fast as the window allows")
	warmup := fs.Duration("warmup", 3*time.Second, "load before measuring")
	dur := fs.Duration("duration", 10*time.Second, "measurement window")
	database := fs.String("database", "", "PostgreSQL URL for the server, which runs in a new schema of that database, dropped afterwards (default: SQLite)")
	nodes := fs.Int("nodes", 1, "servers: 1, or 2 sharing --database and --nats, with the two ends of every pair on different nodes")
	natsURL := fs.String("nats", "", "NATS URL for the servers (default: each its embedded NATS); needed by --nodes 2")
	profile := fs.String("cpuprofile", "", "write the server's CPU profile during the measurement to this file")
	clientProfile := fs.String("client-cpuprofile", "", "write the load generator's (this process's) CPU profile during the measurement to this file")
	allocProfile := fs.String("allocprofile", "", "write the server's allocations during the measurement (a pprof delta profile) to this file")
	trace := fs.String("trace", "", "write a one-second execution trace of the server, from the middle of the measurement, to this file")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *pairs < 1 || *window < 1 || *rate < 0 {
		return fmt.Errorf("bench messages: --pairs %d, --window %d, --rate %v: want at least one pair, a window of 1 or more and a rate of 0 or more", *pairs, *window, *rate)
	}
	if *nodes != 1 && *nodes != 2 {
		return fmt.Errorf("bench messages: --nodes %d: want 1 or 2", *nodes)
	}
	if *nodes == 2 && (*database == "" || *natsURL == "") {
		return errors.New("bench messages --nodes 2: the nodes share a PostgreSQL database and a NATS server; give --database and --nats")
	}
	dir, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	offered := strconv.FormatFloat(*rate, 'f', -1, 64) // msg/s, when *rate > 0
	load := "closed loop"
	if *rate > 0 {
		load = "offered " + offered + " msg/s"
	}
	fmt.Printf("## Durable 1:1 messages (pairs=%d, window=%d, %s, %s measured after %s warm-up, %s, GOMAXPROCS=%d)\n\n",
		*pairs, *window, load, *dur, *warmup, runtime.Version(), runtime.GOMAXPROCS(0))
	if *nodes == 2 {
		fmt.Printf("nodes: 2, the two ends of every pair on different nodes (half the senders on each); every message crosses NATS\n\n")
	}
	// The per-connection send limit (200/s by default) would cap 50 pairs
	// at 10,000 msg/s and answer the rest rate_limited: this measures the
	// server, not that limit.
	serverArgs := []string{"--admin-token", "bench-operator", "--send-rate", "1e9", "--send-burst", "1e9"}
	var creds []bench.Cred
	if *database == "" {
		creds, err = bench.Seed(ctx, dir, 2**pairs, 4916000000000)
	} else {
		// A schema of its own, dropped afterwards, so the run neither
		// meets nor leaves anything in the database.
		var scratch *postgres.Scratch
		if scratch, err = postgres.NewScratch(ctx, *database, "parley_bench_"); err != nil {
			return fmt.Errorf("bench messages --database: %w", err)
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if err := scratch.Drop(ctx); err != nil {
				fmt.Fprintln(os.Stderr, "bench messages:", err)
			}
		}()
		*database = scratch.DSN
		fmt.Printf("store: PostgreSQL, schema %s (dropped afterwards)\n\n", scratch.Schema)
		creds, err = bench.SeedPostgres(ctx, *database, 2**pairs, 4916000000000)
		serverArgs = append(serverArgs, "--database", *database)
	}
	if *natsURL != "" {
		serverArgs = append(serverArgs, "--nats", *natsURL)
	}
	if err != nil {
		return err
	}
	p, err := benchServer(ctx, dir, serverArgs...)
	if err != nil {
		return err
	}
	// Stopped below before the baselines run; this one is for the
	// returns in between (Stop is idempotent), and runs before the
	// scratch schema is dropped.
	defer p.Stop()
	second := p // the other node, if any
	if *nodes == 2 {
		dir2, err := os.MkdirTemp("", "parley-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir2)
		// Nodes of one cluster share the at-rest key: the one the first
		// generated in its data directory.
		args := append(slices.Clip(serverArgs), "--at-rest-key-file", filepath.Join(dir, atrest.KeyFile))
		if second, err = benchServer(ctx, dir2, args...); err != nil {
			return err
		}
		defer second.Stop()
	}
	// fetch saves the server's pprof endpoint path (after /debug/pprof/)
	// to file once after has passed, in the background.
	fetch := func(after time.Duration, path, file, what string) {
		go func() {
			time.Sleep(after)
			url := fmt.Sprintf("http://%s/admin/v1/debug/pprof/%s", p.Addr, path)
			if err := bench.Fetch(url, "bench-operator", file); err != nil {
				fmt.Fprintln(os.Stderr, what+":", err)
			}
		}()
	}
	seconds := int(dur.Seconds())
	if *profile != "" {
		fetch(*warmup, fmt.Sprintf("profile?seconds=%d", seconds), *profile, "cpu profile")
		fetch(*warmup+*dur/2, "goroutine?debug=1", *profile+".goroutines", "goroutine profile")
	}
	if *allocProfile != "" {
		fetch(*warmup, fmt.Sprintf("allocs?seconds=%d", seconds), *allocProfile, "alloc profile")
	}
	if *trace != "" {
		fetch(*warmup+*dur/2, "trace?seconds=1", *trace, "execution trace")
	}
	if *clientProfile != "" {
		stop, err := profileWindow(*clientProfile, *warmup, *dur)
		if err != nil {
			return err
		}
		defer stop()
	}
	res, err := bench.Messages(ctx, "http://"+p.Addr, "http://"+second.Addr, creds[:*pairs], creds[*pairs:], *window, *rate, *warmup, *dur)
	p.Stop()
	second.Stop()
	if err != nil {
		return err
	}
	base, err := bench.SQLiteInserts(ctx, dir, 200000, 1000)
	if err != nil {
		return err
	}
	var pgBase float64
	if *database != "" {
		if pgBase, err = bench.PostgresInserts(ctx, *database, 50000, 1000); err != nil {
			return err
		}
	}
	fmt.Printf("| measure | value |\n|---|---|\n")
	if *rate > 0 {
		fmt.Printf("| offered load (open loop) | %s msg/s |\n", offered)
	}
	fmt.Printf("| messages received end-to-end | %d in %s |\n", res.Received, res.Duration.Round(time.Millisecond))
	fmt.Printf("| throughput | %s msg/s |\n", strconv.FormatFloat(res.PerSecond, 'f', 0, 64))
	fmt.Printf("| latency p50 / p99 | %s / %s |\n", res.P50.Round(10*time.Microsecond), res.P99.Round(10*time.Microsecond))
	fmt.Printf("| error frames | %d |\n", res.Errors)
	fmt.Printf("| baseline: raw SQLite inserts (1000 rows/tx, 100 B) | %.0f rows/s |\n", base)
	if *database != "" {
		// The SQLite figure stays as the machine's pace; the ratio is to
		// the store the server ran on.
		fmt.Printf("| baseline: raw PostgreSQL inserts (1000 rows/tx, 100 B, one connection) | %.0f rows/s |\n", pgBase)
		base = pgBase
	}
	fmt.Printf("| parley / baseline | %.3f |\n\n", res.PerSecond/base)
	fmt.Println("targets: ≥ 50,000 msg/s with p99 ≤ 50 ms")
	return nil
}

// profileWindow writes this process's CPU profile from after warmup for
// d to path; stop (called once) ends it early and waits for the file.
func profileWindow(path string, warmup, d time.Duration) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	end := make(chan struct{})
	go func() {
		defer close(done)
		defer f.Close()
		select {
		case <-time.After(warmup):
		case <-end:
			return
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "client cpu profile:", err)
			return
		}
		select {
		case <-time.After(d):
		case <-end:
		}
		pprof.StopCPUProfile()
	}()
	return func() { close(end); <-done }, nil
}

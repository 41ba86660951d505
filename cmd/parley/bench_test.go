package main

import (
	"context"
	"database/sql"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/bus/natstest"
	"github.com/parley-chat/parley/store/postgres/pgtest"
)

// captureStdout runs fn with os.Stdout sent to a pipe and returns what it
// printed.
func captureStdout(t *testing.T, fn func() error) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	out := make(chan string)
	go func() { b, _ := io.ReadAll(r); out <- string(b) }()
	err = fn()
	w.Close()
	os.Stdout = old
	return <-out, err
}

// The benchmarks run end to end at a tiny size: servers start as child
// processes (this test binary acting as parley), clients connect, and the
// report carries measured numbers.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	t.Setenv("PARLEY_TEST_CHILD", "1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	out, err := captureStdout(t, func() error {
		return benchCmd(ctx, []string{"messages", "--pairs", "2", "--window", "2", "--warmup", "200ms", "--duration", "3s"}) // 3 s: under -race on a loaded machine 1 s was seen to pass with nothing exchanged yet
	})
	if err != nil {
		t.Fatalf("bench messages: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`\| throughput \| (\d+) msg/s \|`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no throughput in:\n%s", out)
	}
	if n, _ := strconv.Atoi(m[1]); n <= 0 {
		t.Fatalf("throughput %d msg/s; the pairs exchanged nothing:\n%s", n, out)
	}

	// An open loop sends on schedule: what arrives is near the offered
	// rate, and never much above it.
	out, err = captureStdout(t, func() error {
		return benchCmd(ctx, []string{"messages", "--pairs", "2", "--window", "8", "--rate", "100", "--warmup", "200ms", "--duration", "3s"})
	})
	if err != nil {
		t.Fatalf("bench messages --rate: %v\n%s", err, out)
	}
	m = regexp.MustCompile(`\| throughput \| (\d+) msg/s \|`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "| offered load (open loop) | 100 msg/s |") {
		t.Fatalf("no throughput or offered load in:\n%s", out)
	}
	if n, _ := strconv.Atoi(m[1]); n < 25 || n > 120 {
		t.Fatalf("throughput %d msg/s at 100 offered:\n%s", n, out)
	}
	if err := benchCmd(ctx, []string{"messages", "--pairs", "2", "--rate", "-1"}); err == nil || !strings.Contains(err.Error(), "rate") {
		t.Errorf("a negative rate: %v, want an error naming it", err)
	}

	out, err = captureStdout(t, func() error {
		return benchCmd(ctx, []string{"conns", "--n", "50", "--spread", "2", "--settle", "100ms"})
	})
	if err != nil {
		t.Fatalf("bench conns: %v\n%s", err, out)
	}
	if rows := regexp.MustCompile(`\*\*[0-9.]+ KiB\*\*`).FindAllString(out, -1); len(rows) != 2 {
		t.Fatalf("want a per-connection figure for parley and the baseline, got %v in:\n%s", rows, out)
	}
}

// On PostgreSQL the benchmark runs in a schema of its own, reports the
// PostgreSQL baseline beside the SQLite one, and drops the schema.
func TestBenchMessagesPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	base := pgtest.BaseDSN(t)
	t.Setenv("PARLEY_TEST_CHILD", "1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := captureStdout(t, func() error {
		return benchCmd(ctx, []string{"messages", "--database", base, "--pairs", "2", "--window", "2", "--warmup", "200ms", "--duration", "3s"})
	})
	if err != nil {
		t.Fatalf("bench messages --database: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`store: PostgreSQL, schema (parley_bench_[0-9a-f]{16}) `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no schema named in:\n%s", out)
	}
	if n := regexp.MustCompile(`\| throughput \| (\d+) msg/s \|`).FindStringSubmatch(out); n == nil || n[1] == "0" {
		t.Fatalf("no messages exchanged:\n%s", out)
	}
	if !regexp.MustCompile(`\| baseline: raw PostgreSQL inserts [^|]*\| [1-9]\d* rows/s \|`).MatchString(out) {
		t.Fatalf("no PostgreSQL baseline in:\n%s", out)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var left int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, m[1]).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("schema %s left behind", m[1])
	}
}

// With --nodes 2 the two ends of every pair are on different nodes, both
// on one PostgreSQL schema and one NATS server.
func TestBenchMessagesTwoNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := benchCmd(ctx, []string{"messages", "--nodes", "2", "--pairs", "1"}); err == nil || !strings.Contains(err.Error(), "--database and --nats") {
		t.Errorf("--nodes 2 alone: %v, want an error asking for --database and --nats", err)
	}
	if err := benchCmd(ctx, []string{"messages", "--nodes", "3", "--pairs", "1"}); err == nil || !strings.Contains(err.Error(), "want 1 or 2") {
		t.Errorf("--nodes 3: %v, want an error", err)
	}
	base, nats := pgtest.BaseDSN(t), natstest.URL(t)
	t.Setenv("PARLEY_TEST_CHILD", "1")
	out, err := captureStdout(t, func() error {
		return benchCmd(ctx, []string{"messages", "--nodes", "2", "--database", base, "--nats", nats,
			"--pairs", "2", "--window", "2", "--warmup", "200ms", "--duration", "3s"})
	})
	if err != nil {
		t.Fatalf("bench messages --nodes 2: %v\n%s", err, out)
	}
	if !strings.Contains(out, "nodes: 2, the two ends of every pair on different nodes") {
		t.Fatalf("no two-node line in:\n%s", out)
	}
	if n := regexp.MustCompile(`\| throughput \| (\d+) msg/s \|`).FindStringSubmatch(out); n == nil || n[1] == "0" {
		t.Fatalf("no messages crossed the nodes:\n%s", out)
	}
}

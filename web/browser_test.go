package web_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/service"
	"github.com/parley-chat/parley/web"
)

// TestBrowser boots a node on :0 and runs the Playwright tests in e2e/
// (node's test runner, Debian's Chromium) against it. Outside CI it skips
// when Chromium or the npm packages are missing; under CI=true it fails.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	ci := os.Getenv("CI") == "true"
	chromium := os.Getenv("PARLEY_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	need := func(ok bool, what string) {
		if ok {
			return
		}
		if ci {
			t.Fatalf("browser tests need %s (CI installs it in .ci/run)", what)
		}
		t.Skipf("skipping browser tests: %s is missing (CI=true makes this a failure)", what)
	}
	_, err := os.Stat(chromium)
	need(err == nil, "Chromium at "+chromium+" (apt-get install -y chromium)")
	node, err := exec.LookPath("node")
	need(err == nil, "node")
	_, err = os.Stat(filepath.Join("node_modules", "playwright-core"))
	need(err == nil, "web/node_modules (cd web && npm ci)")
	h, err := web.NewHandler()
	if err != nil || !h.Has() {
		t.Fatalf("the embedded web client is missing: %v (cd web && npm run build)", err)
	}

	dir := t.TempDir()
	const token = "browser-test-operator-token"
	cfg := app.Config{
		Addr: "127.0.0.1:0", DataDir: dir, Dev: true, AdminToken: token,
		Limits:          service.Limits{RequestsPerIP: 100000, CodesPerNumber: 1000, CodeInterval: time.Millisecond},
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		ShutdownTimeout: 5 * time.Second,
	}
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	m := app.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		m.Close()
	}()

	tctx, tcancel := context.WithTimeout(ctx, 8*time.Minute)
	defer tcancel()
	cmd := exec.CommandContext(tctx, node, "--test", "--test-concurrency=1", "e2e/")
	cmd.Env = append(os.Environ(), "PARLEY_URL=http://"+m.Addr(), "PARLEY_ADMIN_TOKEN="+token, "PARLEY_CHROMIUM="+chromium)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("browser tests failed: %v", err)
	}
}

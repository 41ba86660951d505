package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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

	n := &testNode{t: t, cfg: app.Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), Dev: true, AdminToken: adminToken,
		Limits:          service.Limits{RequestsPerIP: 100000, CodesPerNumber: 1000, CodeInterval: time.Millisecond},
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		ShutdownTimeout: 5 * time.Second,
	}}
	if testing.Verbose() {
		n.cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	n.start()
	defer n.stop()
	n.cfg.Addr = n.m.Addr() // a restart comes back on the same address
	url := "http://" + n.m.Addr()

	// The tests stop and start the node through this control server (to
	// show that the client survives a server restart) and drive a fake
	// business (business_test.go).
	mux := http.NewServeMux()
	mux.HandleFunc("POST /stop", func(http.ResponseWriter, *http.Request) { n.stop() })
	mux.HandleFunc("POST /start", func(http.ResponseWriter, *http.Request) { n.start() })
	serveInboxSeed(mux, func() *app.Main { n.mu.Lock(); defer n.mu.Unlock(); return n.m })
	stopBusiness := serveBusiness(t, mux, func() string { return url })
	defer stopBusiness()
	stopCloud := serveCloud(t, mux, func() string { return url })
	defer stopCloud()
	ctl := httptest.NewServer(mux)
	defer ctl.Close()

	ctx := context.Background()
	tctx, tcancel := context.WithTimeout(ctx, 12*time.Minute) // inside make test's 15
	defer tcancel()
	args := []string{"--test", "--test-concurrency=1", "e2e/"}
	if f := os.Getenv("PARLEY_E2E"); f != "" { // e.g. "e2e/links.test.mjs" or "--test-name-pattern=button e2e/links.test.mjs"
		args = append(args[:2], strings.Fields(f)...)
	}
	cmd := exec.CommandContext(tctx, node, args...)
	cmd.Env = append(os.Environ(), "PARLEY_URL="+url, "PARLEY_ADMIN_TOKEN="+adminToken, "PARLEY_CHROMIUM="+chromium,
		"PARLEY_CONTROL="+ctl.URL)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("browser tests failed: %v", err)
	}
}

const adminToken = "browser-test-operator-token"

// testNode is a node that the browser tests may stop and start again.
type testNode struct {
	t      *testing.T
	cfg    app.Config
	mu     sync.Mutex
	m      *app.Main
	cancel context.CancelFunc
	done   chan error
}

func (n *testNode) start() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m != nil {
		return
	}
	m := app.New(n.cfg)
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Start(ctx); err != nil {
		cancel()
		n.t.Errorf("start: %v", err)
		return
	}
	n.m, n.cancel, n.done = m, cancel, make(chan error, 1)
	go func() { n.done <- m.Run(ctx) }()
}

func (n *testNode) stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m == nil {
		return
	}
	n.cancel()
	if err := <-n.done; err != nil {
		n.t.Errorf("Run: %v", err)
	}
	n.m.Close()
	n.m = nil
}

package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/app"
)

// TestServedByNode checks the wiring: a node serves the web client at /
// and client routes, while unknown API paths keep their JSON errors.
func TestServedByNode(t *testing.T) {
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Dev: true, AdminToken: "t",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ShutdownTimeout: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done; m.Close() }()
	base := "http://" + m.Addr()

	tests := []struct {
		method, path string
		status       int
		ctype        string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8"},
		{"GET", "/some/client/route", 200, "text/html; charset=utf-8"},
		{"HEAD", "/parley.wasm", 200, "application/wasm"},
		{"GET", "/healthz", 200, "text/plain; charset=utf-8"},
		{"GET", "/v1/nope", 404, "application/json"},
		{"GET", "/admin/v1/nope", 404, "application/json"},
		{"GET", "/v1", 404, "application/json"},
		{"POST", "/", 404, "application/json"},
	}
	for _, tc := range tests {
		t.Run(tc.method+strings.ReplaceAll(tc.path, "/", "_"), func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tc.status)
			}
			if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, tc.ctype) {
				t.Errorf("Content-Type: got %q, want %q", got, tc.ctype)
			}
		})
	}
}

package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/webhook"
)

// parleyCmd runs this test binary as the parley command.
func parleyCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PARLEY_TEST_CHILD=1", "PARLEY_ADMIN_TOKEN=webhook-operator")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// A webhook whose endpoint is unknown dies; the operator lists it with
// `parley admin webhooks failed`, fixes the endpoint and replays it with
// `parley admin webhooks replay`, and the receiver gets it signed.
func TestAdminWebhooksFailedAndReplay(t *testing.T) {
	var mu sync.Mutex
	var got []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !webhook.Verify([]byte("s3cret"), b, r.Header.Get(webhook.SignatureHeader)) {
			t.Errorf("bad signature on %s", b)
		}
		mu.Lock()
		got = append(got, r.Header.Get(webhook.EventIDHeader))
		mu.Unlock()
	}))
	defer rcv.Close()
	var eps webhook.Endpoints
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Dev: true, AdminToken: "webhook-operator",
		WebhookResolver: &eps, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done; m.Close() }()
	server := "http://" + m.Addr()

	id, err := m.Webhooks().Enqueue(t.Context(), "app-1", "106540352242922/16505551234", []byte(`{"object":"whatsapp_business_account","entry":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the event to die", func() bool {
		_, dead, _ := m.Store().WebhookDepth(t.Context())
		return dead == 1
	})

	out, err := parleyCmd(t, "admin", "--server", server, "webhooks", "failed", "--json")
	if err != nil {
		t.Fatalf("webhooks failed --json: %v\n%s", err, out)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &line); err != nil {
		t.Fatalf("webhooks failed --json printed %q: %v", out, err)
	}
	if line["id"] != id || line["endpoint"] != "app-1" || line["key"] != "106540352242922/16505551234" ||
		!strings.Contains(line["last_error"].(string), "no webhook endpoint") {
		t.Errorf("webhooks failed --json = %v; want event %s for app-1, dead for its unknown endpoint", line, id)
	}
	if out, err := parleyCmd(t, "admin", "--server", server, "webhooks", "failed"); err != nil || !strings.Contains(out, id) || !strings.Contains(out, "LAST ERROR") {
		t.Errorf("webhooks failed: %v\n%s", err, out)
	}
	if out, err := parleyCmd(t, "admin", "--server", server, "webhooks", "replay"); err == nil {
		t.Errorf("webhooks replay without --id or --all succeeded: %s", out)
	}

	eps.Set("app-1", webhook.Endpoint{URL: rcv.URL + "/hook", Secret: []byte("s3cret")})
	out, err = parleyCmd(t, "admin", "--server", server, "webhooks", "replay", "--id", id)
	if err != nil || strings.TrimSpace(out) != "replayed 1" {
		t.Fatalf("webhooks replay --id: %v: %q", err, out)
	}
	waitFor(t, "the replayed event to arrive", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 1 && got[0] == id
	})
	if out, err := parleyCmd(t, "admin", "--server", server, "webhooks", "replay", "--all"); err != nil || strings.TrimSpace(out) != "replayed 0" {
		t.Errorf("webhooks replay --all with nothing dead: %v: %q", err, out)
	}
	if out, err := parleyCmd(t, "admin", "webhooks", "--help"); err != nil || !strings.Contains(out, "replay (--id ID ... | --all)") {
		t.Errorf("webhooks --help: %v: %q", err, out)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

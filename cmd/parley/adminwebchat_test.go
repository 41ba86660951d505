package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// `parley admin business webchat` sets, shows and clears the allowed
// website origins; a bad origin is refused.
func TestAdminBusinessWebchat(t *testing.T) {
	m, url := startNode(t)
	admin := func(args ...string) (string, error) {
		return captureStdout(t, func() error {
			return run(context.Background(), append([]string{"admin", "--server", url, "--data", m.DataDir()}, args...))
		})
	}
	out, err := admin("business", "create", "--name", "Web Inc", "--phone", "+1 555 078 3998", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	json.Unmarshal([]byte(out), &b)
	waba := b["waba_id"].(string)
	if out, err := admin("business", "webchat", "--waba", waba); err != nil || !strings.Contains(out, "no website") {
		t.Fatalf("webchat (none) = %q, %v", out, err)
	}
	if out, err := admin("business", "webchat", "--waba", waba, "--origin", "https://Shop.example", "--origin", "http://localhost:8080"); err != nil ||
		out != "http://localhost:8080\nhttps://shop.example\n" {
		t.Fatalf("webchat set = %q, %v", out, err)
	}
	if out, err := admin("business", "webchat", "--waba", waba); err != nil || !strings.Contains(out, "https://shop.example") {
		t.Fatalf("webchat show = %q, %v", out, err)
	}
	if _, err := admin("business", "webchat", "--waba", waba, "--origin", "http://shop.example"); err == nil {
		t.Error("a plain http origin was accepted")
	}
	if out, err := admin("business", "webchat", "--waba", waba, "--clear"); err != nil || !strings.Contains(out, "no website") {
		t.Fatalf("webchat --clear = %q, %v", out, err)
	}
	if _, err := admin("business", "webchat"); err == nil {
		t.Error("webchat without --waba succeeded")
	}
}

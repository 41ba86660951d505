package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// `parley admin business agent …` end to end: add (with a generated
// password that signs in), list, reset-password, remove, and usage errors.
func TestAdminBusinessAgent(t *testing.T) {
	m, url := startNode(t)
	admin := func(args ...string) (string, error) {
		return captureStdout(t, func() error {
			return run(context.Background(), append([]string{"admin", "--server", url, "--data", m.DataDir()}, args...))
		})
	}
	out, err := admin("business", "create", "--name", "Agents Inc", "--phone", "+1 555 078 3999", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	json.Unmarshal([]byte(out), &b)
	waba := b["waba_id"].(string)
	out, err = admin("business", "agent", "add", "--waba", waba, "--email", "Ann@Shop.example", "--name", "Ann", "--role", "owner")
	if err != nil || !strings.Contains(out, "ann@shop.example") || !strings.Contains(out, "owner") {
		t.Fatalf("agent add = %q, %v", out, err)
	}
	pw := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
	if pw == nil {
		t.Fatalf("no generated password in %q", out)
	}
	if _, err := m.Inbox().Login(context.Background(), "ann@shop.example", pw[1], "", "", "127.0.0.1", "test"); err != nil {
		t.Fatalf("login with the generated password: %v", err)
	}
	if out, err := admin("business", "agent", "list", "--waba", waba); err != nil || !strings.Contains(out, "ann@shop.example") || !strings.Contains(out, "owner") {
		t.Fatalf("agent list = %q, %v", out, err)
	}
	out, err = admin("business", "agent", "reset-password", "--waba", waba, "--email", "ann@shop.example")
	if err != nil || !strings.Contains(out, "sessions ended") {
		t.Fatalf("reset-password = %q, %v", out, err)
	}
	pw2 := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
	if _, err := m.Inbox().Login(context.Background(), "ann@shop.example", pw[1], "", "", "127.0.0.1", "test"); err == nil {
		t.Fatal("the old password still works")
	}
	if _, err := m.Inbox().Login(context.Background(), "ann@shop.example", pw2[1], "", "", "127.0.0.1", "test"); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
	if out, err := admin("business", "agent", "remove", "--waba", waba, "--email", "ann@shop.example"); err != nil || !strings.Contains(out, "removed") {
		t.Fatalf("agent remove = %q, %v", out, err)
	}
	if _, err := admin("business", "agent", "remove", "--waba", waba, "--email", "ann@shop.example"); err == nil {
		t.Error("removing a removed agent succeeded")
	}
	if out, err := admin("business", "agent", "--help"); err != nil || !strings.Contains(out, "reset-password") {
		t.Errorf("agent --help = %q, %v", out, err)
	}
	for _, args := range [][]string{{"business", "agent", "add", "--waba", waba}, {"business", "agent", "nope"}, {"business", "agent", "list"},
		{"business", "agent", "add", "--waba", waba, "--email", "x@shop.example", "--role", "boss"}} {
		if _, err := admin(args...); err == nil {
			t.Errorf("admin %v succeeded", args)
		}
	}
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// adminOut runs `parley admin --server URL --data DIR args…` and returns
// what it printed.
func adminOut(t *testing.T, url, data string, args ...string) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err = run(ctx, append([]string{"admin", "--server", url, "--data", data}, args...))
	w.Close()
	os.Stdout = old
	return <-done, err
}

func mustAdmin(t *testing.T, url, data string, args ...string) string {
	t.Helper()
	out, err := adminOut(t, url, data, args...)
	if err != nil {
		t.Fatalf("parley admin %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func inboxLines(t *testing.T, url, data, phone string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(mustAdmin(t, url, data, "customer", "inbox", "--phone", phone, "--json")))
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("inbox line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines
}

// waitInbox polls a sandbox customer's inbox until it has n lines.
func waitInbox(t *testing.T, url, data, phone string, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		lines := inboxLines(t, url, data, phone)
		if len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("inbox of %s has %d lines after 20s, want %d: %v", phone, len(lines), n, lines)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Sandbox customers talk to each other over the encrypted path; their
// inboxes show what they received, shaped like Cloud API messages.
func TestAdminSandboxCustomers(t *testing.T) {
	node, url := startNode(t)
	data := node.DataDir()
	const a, b = "+4915100000101", "+4915100000102"
	if lines := inboxLines(t, url, data, b); len(lines) != 0 {
		t.Fatalf("a new customer's inbox: %v", lines)
	}
	id := strings.TrimSpace(mustAdmin(t, url, data, "customer", "send", "--phone", a, "--to", b, "--text", "hello sandbox ✓"))
	if len(id) != 32 {
		t.Fatalf("send printed %q, want a message id", id)
	}
	got := waitInbox(t, url, data, b, 1)[0]
	text, _ := got["text"].(map[string]any)
	if got["id"] != id || got["from"] != "4915100000101" || got["type"] != "text" || text["body"] != "hello sandbox ✓" {
		t.Fatalf("inbox line %v", got)
	}
	if ts, _ := got["timestamp"].(string); ts == "" {
		t.Fatalf("timestamp %v, want Unix seconds as a string", got["timestamp"])
	}
	mustAdmin(t, url, data, "customer", "read", "--phone", b, "--message-id", id)
	mustAdmin(t, url, data, "customer", "react", "--phone", b, "--message-id", id, "--emoji", "👍")
	r := waitInbox(t, url, data, a, 1)[0]
	reaction, _ := r["reaction"].(map[string]any)
	if r["type"] != "reaction" || reaction["message_id"] != id || reaction["emoji"] != "👍" {
		t.Fatalf("reaction line %v", r)
	}
	if _, err := adminOut(t, url, data, "customer", "reply-button", "--phone", b, "--message-id", id, "--button-id", "x"); err == nil ||
		!strings.Contains(err.Error(), "no reply button") {
		t.Fatalf("reply-button on a text message: %v", err)
	}
	if _, err := adminOut(t, url, data, "customer", "read", "--phone", b, "--message-id", "wamid.unknown"); err == nil {
		t.Fatal("read of an unknown message passed")
	}
	if _, err := adminOut(t, url, data, "customer", "send", "--phone", b, "--to", "+15559990001", "--text", "hi"); err == nil ||
		!strings.Contains(err.Error(), "has no Parley account") {
		t.Fatalf("send to a number without an account: %v", err)
	}
}

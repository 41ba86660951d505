package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/sdk/profile"
	"github.com/parley-chat/parley/service"
)

// startNode boots a real node on 127.0.0.1 and returns its base URL.
func startNode(t *testing.T) (*app.Main, string) {
	t.Helper()
	m := app.New(app.Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), Dev: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Limits: service.Limits{RequestsPerIP: 10000, CodesPerNumber: 100, CodeInterval: time.Millisecond},
	})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
		m.Close()
	})
	return m, "http://" + m.Addr()
}

func lastCode(t *testing.T, m *app.Main, acct string) string {
	t.Helper()
	text, _, err := m.Store().LastSMS(context.Background(), acct)
	if err != nil {
		t.Fatalf("no SMS to %s: %v", acct, err)
	}
	return text[len(text)-6:]
}

// syncBuffer is a bytes.Buffer safe for a command writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// chatCmd runs `parley chat --profile dir args…` in-process and returns
// its standard output. Commands run one at a time (they share the
// swapped terminal), except where a test starts one in a goroutine.
func chatCmd(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	out := &syncBuffer{}
	err := chatInto(out, dir, args...)
	return out.String(), err
}

func chatInto(out io.Writer, dir string, args ...string) error {
	chatStdout, chatStderr = out, io.Discard
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return run(ctx, append([]string{"chat", "--profile", dir}, args...))
}

func mustChat(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out := &syncBuffer{}
	if err := chatInto(out, dir, args...); err != nil {
		t.Fatalf("parley chat %s: %v", strings.Join(args, " "), err)
	}
	return out.String()
}

func init() {
	// Tests never read a real terminal.
	chatStdin = strings.NewReader("")
}

// codeReader answers the registration prompt with the code the server
// sent, read when the command asks for it.
type codeReader struct {
	get func() string
	r   io.Reader
}

func (c *codeReader) Read(p []byte) (int, error) {
	if c.r == nil {
		c.r = strings.NewReader(c.get() + "\n")
	}
	return c.r.Read(p)
}

func TestChatEndToEnd(t *testing.T) {
	node, url := startNode(t)
	aliceDir := filepath.Join(t.TempDir(), "alice")
	bobDir := filepath.Join(t.TempDir(), "bob")

	// Alice registers like a script: request only, code from the operator, verify.
	if out := mustChat(t, aliceDir, "register", "--server", url, "--phone", "+4915100000001", "--request-only"); !strings.Contains(out, "+4915100000001") {
		t.Errorf("request-only printed %q", out)
	}
	out := mustChat(t, aliceDir, "register", "--server", url, "--phone", "+4915100000001", "--code", lastCode(t, node, "4915100000001"), "--name", "alice-cli")
	if out != "registered +4915100000001 device 1\n" {
		t.Fatalf("register printed %q", out)
	}
	// Bob registers interactively: the code is typed on the terminal.
	chatStdin = &codeReader{get: func() string { return lastCode(t, node, "4915100000002") }}
	out = mustChat(t, bobDir, "register", "--server", url, "--phone", "+49 151 00000002")
	chatStdin = strings.NewReader("")
	if out != "registered +4915100000002 device 1\n" {
		t.Fatalf("interactive register printed %q", out)
	}
	if fi, err := os.Stat(filepath.Join(bobDir, profile.CredentialsFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, %v", fi, err)
	}

	out = mustChat(t, aliceDir, "send", "--to", "+4915100000002", "--text", "hello bob")
	id := strings.TrimSpace(out)
	if len(id) != 32 || strings.Count(out, "\n") != 1 {
		t.Fatalf("send printed %q, want one message id line", out)
	}

	out = mustChat(t, bobDir, "listen", "--json", "--count", "1", "--timeout", "20s")
	var msg map[string]any
	if err := json.Unmarshal([]byte(out), &msg); err != nil {
		t.Fatalf("listen printed %q: %v", out, err)
	}
	if msg["id"] != id || msg["from"] != "4915100000001" || msg["type"] != "text" || msg["text"] != "hello bob" {
		t.Fatalf("listen printed %v", msg)
	}
	if ts, _ := msg["timestamp"].(float64); time.Since(time.Unix(int64(ts), 0)) > time.Minute {
		t.Errorf("timestamp %v is not unix seconds of now", msg["timestamp"])
	}

	// End-to-end encrypted: the keys are in the profile, readable by the owner only.
	if fi, err := os.Stat(filepath.Join(bobDir, profile.SignalFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("signal state file: %v, %v", fi, err)
	}
	// Both sides show the same safety number; a scanned QR payload verifies.
	an := mustChat(t, aliceDir, "safety-number", "--with", "+4915100000002")
	bn := mustChat(t, bobDir, "safety-number", "--with", "+4915100000001")
	aDigits, _, _ := strings.Cut(an, "\n")
	bDigits, _, _ := strings.Cut(bn, "\n")
	if aDigits != bDigits || len(strings.Fields(aDigits)) != 12 {
		t.Fatalf("safety numbers %q and %q, want the same twelve groups", an, bn)
	}
	qr := strings.TrimSpace(mustChat(t, aliceDir, "safety-number", "--with", "+4915100000002", "--qr"))
	if out := mustChat(t, bobDir, "safety-number", "--with", "+4915100000001", "--verify", qr); !strings.Contains(out, "verified") {
		t.Fatalf("verify printed %q", out)
	}
	if _, err := chatCmd(t, aliceDir, "safety-number", "--with", "+4915100000002", "--verify", qr); err == nil || !strings.Contains(err.Error(), "NO MATCH") {
		t.Fatalf("alice verifying her own QR payload (sides swapped): %v, want NO MATCH", err)
	}

	mustChat(t, bobDir, "read", "--message-id", id)
	if _, err := chatCmd(t, bobDir, "read", "--message-id", "0000"); err == nil || !strings.Contains(err.Error(), "not received") {
		t.Fatalf("read of an unknown id: %v", err)
	}

	// Alice sees the delivered and read receipts; without --count, --timeout ends listen with success.
	out = mustChat(t, aliceDir, "listen", "--json", "--timeout", "2s")
	var statuses []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("listen line %q: %v", sc.Text(), err)
		}
		if r["type"] != "receipt" || r["message_id"] != id || r["id"] != id || r["from"] != "4915100000002" {
			t.Fatalf("alice got %v, want receipts for %s from bob", r, id)
		}
		statuses = append(statuses, r["status"].(string))
	}
	if strings.Join(statuses, ",") != "delivered,read" {
		t.Fatalf("receipts %v, want delivered then read", statuses)
	}
	// Nothing comes twice.
	if out := mustChat(t, aliceDir, "listen", "--json", "--timeout", "500ms"); out != "" {
		t.Fatalf("second listen printed %q", out)
	}

	// --count with --timeout fails when too few messages arrive.
	_, err := chatCmd(t, bobDir, "listen", "--count", "1", "--timeout", "300ms")
	if err == nil || !strings.Contains(err.Error(), "0 of 1") {
		t.Fatalf("listen that timed out: %v", err)
	}

	// A readable line without --json.
	mustChat(t, bobDir, "send", "--to", "4915100000001", "--text", "hi alice")
	out = mustChat(t, aliceDir, "listen", "--count", "1", "--timeout", "20s")
	if !strings.Contains(out, "+4915100000002: hi alice") {
		t.Fatalf("plain listen printed %q", out)
	}
}

func TestChatLinkDevicesUnlink(t *testing.T) {
	node, url := startNode(t)
	aliceDir := filepath.Join(t.TempDir(), "alice")
	newDir := filepath.Join(t.TempDir(), "alice-2")
	mustChat(t, aliceDir, "register", "--server", url, "--phone", "+4915100000001", "--request-only")
	mustChat(t, aliceDir, "register", "--server", url, "--phone", "+4915100000001", "--code", lastCode(t, node, "4915100000001"))

	waitOut := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		// Its own terminal: the test swaps the shared one meanwhile.
		tm := &terminal{in: strings.NewReader(""), out: waitOut, err: io.Discard}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		done <- chatOn(ctx, tm, []string{"--profile", newDir, "link", "--new", "--server", url})
	}()
	var code string
	for deadline := time.Now().Add(10 * time.Second); code == "" && time.Now().Before(deadline); {
		if line, _, ok := strings.Cut(waitOut.String(), "\n"); ok {
			code = line
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(code) != 32 {
		t.Fatalf("link --new printed %q", waitOut.String())
	}
	approveOut := &syncBuffer{}
	if err := chatInto(approveOut, aliceDir, "link", code, "--name", "tablet"); err != nil {
		t.Fatalf("link CODE: %v", err)
	}
	if !strings.Contains(approveOut.String(), "(tablet)") {
		t.Errorf("link CODE printed %q", approveOut.String())
	}
	if err := <-done; err != nil {
		t.Fatalf("link --new: %v", err)
	}
	if !strings.Contains(waitOut.String(), "linked +4915100000001 device ") {
		t.Fatalf("link --new printed %q", waitOut.String())
	}
	p, _ := profile.Open(newDir)
	creds, err := p.Credentials()
	p.Close()
	if err != nil || creds.Account != "4915100000001" {
		t.Fatalf("new profile credentials: %+v, %v", creds, err)
	}

	out := mustChat(t, newDir, "devices")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "* ") || !strings.Contains(lines[1], "tablet") {
		t.Fatalf("devices printed %q, want two with the tablet marked current", out)
	}

	// The new device unlinks itself: its profile forgets the credentials.
	mustChat(t, newDir, "unlink", "--device", itoa(creds.Device))
	if _, err := chatCmd(t, newDir, "devices"); err == nil || !strings.Contains(err.Error(), "no device") {
		t.Fatalf("devices after unlinking itself: %v", err)
	}
	if out := mustChat(t, aliceDir, "devices"); strings.Count(out, "\n") != 1 {
		t.Fatalf("devices after unlink: %q", out)
	}
}

func TestChatUsage(t *testing.T) {
	dir := t.TempDir()
	for _, cmd := range []string{"register", "send", "listen", "read", "devices", "link", "unlink"} {
		if _, err := chatCmd(t, dir, cmd, "-h"); err != nil {
			t.Errorf("%s -h: %v, want nil", cmd, err)
		}
	}
	if err := run(context.Background(), []string{"chat", "-h"}); err != nil {
		t.Errorf("chat -h: %v", err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"send", "--to", "+4915100000001", "--text", "x"}, "no device yet"},
		{[]string{"send", "--text", "x"}, "give --to or --group, and --text or --file"},
		{[]string{"register", "--phone", "+4915100000001"}, "--server and --phone are required"},
		{[]string{"link"}, "give the CODE"},
		{[]string{"unlink"}, "--device N is required"},
		{[]string{"read"}, "--message-id is required"},
	} {
		_, err := chatCmd(t, dir, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("chat %v: %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
	if _, err := chatCmd(t, dir, "frobnicate"); !errors.Is(err, errUsage) {
		t.Errorf("unknown command: %v, want errUsage", err)
	}
}

func itoa(v uint32) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// registerCLI registers a profile for phone through the CLI.
func registerCLI(t *testing.T, node *app.Main, url, dir, phone string) {
	t.Helper()
	mustChat(t, dir, "register", "--server", url, "--phone", phone, "--request-only")
	mustChat(t, dir, "register", "--server", url, "--phone", phone, "--code", lastCode(t, node, strings.TrimPrefix(phone, "+")))
}

// listenJSONLines runs listen --json with the given flags and decodes its lines.
func listenJSONLines(t *testing.T, dir string, args ...string) []map[string]any {
	t.Helper()
	out := mustChat(t, dir, append([]string{"listen", "--json"}, args...)...)
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("listen line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines
}

func TestChatGroupsFilesTimers(t *testing.T) {
	node, url := startNode(t)
	base := t.TempDir()
	aliceDir, bobDir, carolDir := filepath.Join(base, "alice"), filepath.Join(base, "bob"), filepath.Join(base, "carol")
	registerCLI(t, node, url, aliceDir, "+4915100000001")
	registerCLI(t, node, url, bobDir, "+4915100000002")
	registerCLI(t, node, url, carolDir, "+4915100000003")

	gid := strings.TrimSpace(mustChat(t, aliceDir, "group", "create", "--name", "Club", "--members", "+4915100000002,+4915100000003"))
	if !strings.HasPrefix(gid, "g") {
		t.Fatalf("group create printed %q", gid)
	}
	if out := mustChat(t, bobDir, "group", "show", "--group", gid); !strings.Contains(out, "+4915100000001  admin") || !strings.Contains(out, "+4915100000003  member") {
		t.Fatalf("group show printed %q", out)
	}
	id := strings.TrimSpace(mustChat(t, aliceDir, "send", "--group", gid, "--text", "hello club"))
	for _, dir := range []string{bobDir, carolDir} {
		lines := listenJSONLines(t, dir, "--count", "1", "--timeout", "20s")
		last := lines[len(lines)-1]
		if last["id"] != id || last["group"] != gid || last["text"] != "hello club" {
			t.Fatalf("listen printed %v, want %s in %s", lines, id, gid)
		}
		if lines[0]["type"] != "group_event" || lines[0]["action"] != "created" {
			t.Fatalf("first line %v, want the group's creation", lines[0])
		}
	}

	// A file, encrypted, downloaded and decrypted by listen --save-dir.
	file := filepath.Join(base, "cat.png")
	content := []byte("\x89PNG not really a picture of a cat")
	if err := os.WriteFile(file, content, 0o600); err != nil {
		t.Fatal(err)
	}
	fid := strings.TrimSpace(mustChat(t, aliceDir, "send", "--to", "+4915100000002", "--file", file, "--caption", "look"))
	saveDir := filepath.Join(base, "downloads")
	lines := listenJSONLines(t, bobDir, "--count", "1", "--timeout", "20s", "--save-dir", saveDir)
	m := lines[len(lines)-1]
	media, _ := m["media"].(map[string]any)
	if m["id"] != fid || m["type"] != "image" || m["caption"] != "look" || media["name"] != "cat.png" || media["mime"] != "image/png" {
		t.Fatalf("listen printed %v", m)
	}
	if got, err := os.ReadFile(m["file"].(string)); err != nil || !bytes.Equal(got, content) {
		t.Fatalf("saved file: %q, %v", got, err)
	}

	// A timer set by alice applies to bob's next message in the chat.
	if out := mustChat(t, aliceDir, "timer", "--with", "+4915100000002", "--set", "1h"); out != "disappearing messages: 1h0m0s\n" {
		t.Fatalf("timer printed %q", out)
	}
	lines = listenJSONLines(t, bobDir, "--count", "1", "--timeout", "20s")
	if tl := lines[len(lines)-1]; tl["type"] != "timer" || tl["expires_in"] != float64(3600) {
		t.Fatalf("timer line %v", tl)
	}
	mustChat(t, bobDir, "send", "--to", "+4915100000001", "--text", "this disappears")
	var got map[string]any
	for _, l := range listenJSONLines(t, aliceDir, "--count", "1", "--timeout", "20s") {
		if l["type"] == "text" {
			got = l
		}
	}
	if got["text"] != "this disappears" || got["expires_in"] != float64(3600) {
		t.Fatalf("alice got %v, want a message expiring in 3600 s", got)
	}
	if _, err := chatCmd(t, aliceDir, "timer", "--with", "+4915100000002", "--set", "5s"); err == nil {
		t.Fatal("a 5 s timer was accepted")
	}
}

package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/bus/natstest"
	"github.com/parley-chat/parley/service"
	"github.com/parley-chat/parley/store/postgres/pgtest"
)

type node struct {
	m    *app.Main
	base string
	stop func()
}

func startNode(t testing.TB, cfg app.Config) *node {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	cfg.Addr = "127.0.0.1:0"
	cfg.Dev = true
	cfg.Limits = service.Limits{RequestsPerIP: 100000, CodesPerNumber: 1000, CodeInterval: time.Millisecond}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	cfg.ShutdownTimeout = 5 * time.Second
	m := app.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			m.Close()
		})
	}
	t.Cleanup(stop)
	return &node{m: m, base: "http://" + m.Addr(), stop: stop}
}

func call(t testing.TB, method, url, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %s: %v", method, url, b, err)
		}
	}
	return resp.StatusCode
}

type creds struct {
	Account string `json:"account"`
	Device  uint32 `json:"device"`
	Token   string `json:"token"`
}

func register(t testing.TB, n *node, phone string) creds {
	t.Helper()
	if st := call(t, "POST", n.base+"/v1/register/code", "", map[string]string{"phone": phone}, nil); st != 200 {
		t.Fatalf("request code: status %d", st)
	}
	tok, err := os.ReadFile(n.m.DataDir() + "/" + app.AdminTokenFile)
	if err != nil {
		t.Fatal(err)
	}
	var otp struct{ Code string }
	if st := call(t, "GET", n.base+"/admin/v1/otp?phone="+strings.TrimPrefix(phone, "+"), strings.TrimSpace(string(tok)), nil, &otp); st != 200 {
		t.Fatalf("admin otp: status %d", st)
	}
	var c creds
	if st := call(t, "POST", n.base+"/v1/register/verify", "", map[string]string{"phone": phone, "code": otp.Code, "device_name": "t", "platform": "test"}, &c); st != 200 {
		t.Fatalf("verify: status %d", st)
	}
	return c
}

type frame struct {
	Type       string              `json:"type"`
	ID         string              `json:"id"`
	Seq        uint64              `json:"seq"`
	Kind       string              `json:"kind"`
	MessageID  string              `json:"message_id"`
	From       string              `json:"from"`
	FromDevice uint32              `json:"from_device"`
	To         string              `json:"to"`
	Group      string              `json:"group"`
	Body       []byte              `json:"body"`
	Code       string              `json:"code"`
	State      string              `json:"state"`
	Online     bool                `json:"online"`
	Account    string              `json:"account"`
	Devices    map[string][]uint32 `json:"devices"`
	Duplicate  bool                `json:"duplicate"`
	Remaining  int                 `json:"remaining"`
	ExpiresIn  int64               `json:"expires_in"`
}

type client struct {
	t      *testing.T
	c      *websocket.Conn
	frames chan frame
	closed chan websocket.StatusCode
}

func connect(t *testing.T, n *node, c creds) *client {
	t.Helper()
	cl := dial(t, n)
	cl.send(map[string]any{"type": "auth", "token": c.Token})
	if f := cl.next("ready"); f.Account != c.Account {
		t.Fatalf("ready for %s, want %s", f.Account, c.Account)
	}
	return cl
}

func dial(t *testing.T, n *node) *client {
	t.Helper()
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, strings.Replace(n.base, "http", "ws", 1)+"/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := &client{t: t, c: c, frames: make(chan frame, 1024), closed: make(chan websocket.StatusCode, 1)}
	go func() {
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				cl.closed <- websocket.CloseStatus(err)
				close(cl.frames)
				return
			}
			var f frame
			if err := json.Unmarshal(b, &f); err != nil {
				t.Errorf("server sent non-JSON: %q", b)
			}
			cl.frames <- f
		}
	}()
	t.Cleanup(func() { c.CloseNow() })
	return cl
}

func (c *client) send(v any) {
	b, _ := json.Marshal(v)
	if err := c.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next returns the next frame of the given type, skipping others
// (presence, typing, devices) unless asked for.
func (c *client) next(typ string) frame {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("connection closed (%d) while waiting for %q", <-c.closed, typ)
			}
			if f.Type == typ {
				return f
			}
			if f.Type == "error" {
				c.t.Fatalf("error frame while waiting for %q: %+v", typ, f)
			}
		case <-timeout:
			c.t.Fatalf("no %q frame within 10s", typ)
		}
	}
}

func (c *client) closeCode() websocket.StatusCode {
	c.t.Helper()
	for {
		select {
		case _, ok := <-c.frames:
			if !ok {
				return <-c.closed
			}
		case <-time.After(10 * time.Second):
			c.t.Fatal("connection not closed within 10s")
		}
	}
}

func text(to creds, body string, extra ...creds) []map[string]any {
	copies := []map[string]any{{"account": to.Account, "device": to.Device, "body": []byte(body)}}
	for _, e := range extra {
		copies = append(copies, map[string]any{"account": e.Account, "device": e.Device, "body": []byte(body)})
	}
	return copies
}

func TestMessagingEndToEnd(t *testing.T) {
	n := startNode(t, app.Config{})
	alice := register(t, n, "+4915100000001")
	bob := register(t, n, "+4915100000002")

	a := connect(t, n, alice)
	// Bob is offline: the message waits in his mailbox.
	a.send(map[string]any{"type": "send", "id": "m1", "to": bob.Account, "copies": text(bob, "hello bob")})
	sent := a.next("sent")
	if sent.ID != "m1" || sent.MessageID == "" {
		t.Fatalf("sent = %+v", sent)
	}
	// A retry with the same id is a duplicate with the same message id.
	a.send(map[string]any{"type": "send", "id": "m1", "to": bob.Account, "copies": text(bob, "hello bob")})
	if again := a.next("sent"); !again.Duplicate || again.MessageID != sent.MessageID {
		t.Fatalf("retry = %+v, want duplicate of %s", again, sent.MessageID)
	}

	b := connect(t, n, bob)
	it := b.next("item")
	if it.Kind != "msg" || string(it.Body) != "hello bob" || it.From != alice.Account || it.MessageID != sent.MessageID || it.Seq != 1 {
		t.Fatalf("bob's item = %+v", it)
	}
	b.send(map[string]any{"type": "ack", "seqs": []uint64{it.Seq}})
	if r := a.next("item"); r.Kind != "delivered" || r.MessageID != sent.MessageID || r.From != bob.Account {
		t.Fatalf("alice's receipt = %+v, want delivered", r)
	}

	// Live delivery while both are online, then a read receipt.
	a.send(map[string]any{"type": "send", "id": "m2", "to": bob.Account, "copies": text(bob, "second")})
	m2 := a.next("sent")
	it = b.next("item")
	if string(it.Body) != "second" || it.Seq != 2 {
		t.Fatalf("live item = %+v", it)
	}
	b.send(map[string]any{"type": "ack", "seqs": []uint64{it.Seq}})
	b.send(map[string]any{"type": "read", "id": "r1", "to": alice.Account, "message_ids": []string{m2.MessageID}})
	if ok := b.next("ok"); ok.ID != "r1" {
		t.Fatalf("read answer = %+v", ok)
	}
	var kinds []string
	for len(kinds) < 2 {
		r := a.next("item")
		if r.MessageID == m2.MessageID {
			kinds = append(kinds, r.Kind)
		}
		a.send(map[string]any{"type": "ack", "seqs": []uint64{r.Seq}})
	}
	if kinds[0] != "delivered" || kinds[1] != "read" {
		t.Fatalf("alice's receipts for m2 = %v, want delivered then read", kinds)
	}

	// Typing is relayed; presence is visible.
	b.send(map[string]any{"type": "presence", "id": "p", "accounts": []string{alice.Account}})
	if p := b.next("presence"); p.Account != alice.Account || !p.Online {
		t.Fatalf("presence = %+v, want alice online", p)
	}
	a.send(map[string]any{"type": "typing", "to": bob.Account, "state": "composing"})
	if ty := b.next("typing"); ty.From != alice.Account || ty.State != "composing" {
		t.Fatalf("typing = %+v", ty)
	}
	a.c.Close(websocket.StatusNormalClosure, "")
	if p := b.next("presence"); p.Online {
		t.Fatalf("presence after alice left = %+v, want offline", p)
	}
}

func TestStaleDevicesAndUnlink(t *testing.T) {
	n := startNode(t, app.Config{})
	alice := register(t, n, "+4915100000011")
	bob := registerWithKeys(t, n, "+4915100000012")
	bob2 := registerWithKeys(t, n, "+4915100000012") // a second device of bob

	a := connect(t, n, alice)
	a.send(map[string]any{"type": "send", "id": "x", "to": bob.Account, "copies": text(bob, "only one device")})
	f := a.next("error")
	if f.Code != "stale_devices" || len(f.Devices[bob.Account]) != 2 {
		t.Fatalf("stale answer = %+v, want stale_devices with bob's two devices", f)
	}
	a.send(map[string]any{"type": "send", "id": "x", "to": bob.Account, "copies": text(bob, "both", bob2)})
	a.next("sent")

	// Unlinking bob2 closes its connection with 4002 and its token stops working.
	b2 := connect(t, n, bob2)
	if st := call(t, "DELETE", fmt.Sprintf("%s/v1/devices/%d", n.base, bob2.Device), bob.Token, nil, nil); st != 204 {
		t.Fatalf("unlink: status %d", st)
	}
	if code := b2.closeCode(); code != 4002 {
		t.Fatalf("unlinked device closed with %d, want 4002", code)
	}
	var e struct{ Error struct{ Code string } }
	if st := call(t, "GET", n.base+"/v1/me", bob2.Token, nil, &e); st != 401 || e.Error.Code != "unauthorized" {
		t.Fatalf("revoked token: status %d %+v", st, e)
	}
	cl := dial(t, n)
	cl.send(map[string]any{"type": "auth", "token": bob2.Token})
	if code := cl.closeCode(); code != 4002 {
		t.Fatalf("revoked token on the socket closed with %d, want 4002", code)
	}
}

func TestSocketBadInput(t *testing.T) {
	n := startNode(t, app.Config{})
	alice := register(t, n, "+4915100000021")

	cases := []struct {
		name  string
		first func(c *client)
		want  websocket.StatusCode
	}{
		{"not-json-first", func(c *client) { c.c.Write(context.Background(), websocket.MessageText, []byte("{nope")) }, 4004},
		{"send-before-auth", func(c *client) { c.send(map[string]any{"type": "send"}) }, 4004},
		{"unknown-token", func(c *client) {
			c.send(map[string]any{"type": "auth", "token": "4915100000021.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})
		}, 4001},
		{"binary", func(c *client) { c.c.Write(context.Background(), websocket.MessageBinary, []byte{1, 2}) }, 1003},
		{"too-big", func(c *client) { c.c.Write(context.Background(), websocket.MessageText, make([]byte, 2<<20)) }, 1009},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, n)
			c.t = t
			tc.first(c)
			if got := c.closeCode(); got != tc.want {
				t.Fatalf("close code = %d, want %d", got, tc.want)
			}
		})
	}

	// After auth, bad requests get error frames and the connection stays.
	c := connect(t, n, alice)
	for _, bad := range []string{`{nope`, `{"type":"warp"}`, `{"type":"send","id":"","to":"1"}`,
		`{"type":"send","id":"q","to":"4915100000021","copies":[{"account":"4915100000021","device":9,"body":""}]}`,
		`{"type":"ack","seqs":[` + strings.Repeat("1,", 1500) + `1]}`} {
		c.c.Write(context.Background(), websocket.MessageText, []byte(bad))
		if f := c.nextAny(); f.Type != "error" || f.Code == "" || f.Code == "internal" {
			t.Fatalf("%.40s → %+v, want a client error frame", bad, f)
		}
	}
	c.send(map[string]any{"type": "ping", "id": "still-here"})
	if f := c.next("pong"); f.ID != "still-here" {
		t.Fatalf("pong = %+v", f)
	}
}

func (c *client) nextAny() frame {
	c.t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			c.t.Fatalf("connection closed: %d", <-c.closed)
		}
		return f
	case <-time.After(10 * time.Second):
		c.t.Fatal("no frame within 10s")
	}
	return frame{}
}

func TestHTTPBadInput(t *testing.T) {
	n := startNode(t, app.Config{})
	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"bad-json", "POST", "/v1/register/code", `{"phone":`, 400, "invalid"},
		{"unknown-field", "POST", "/v1/register/code", `{"phone":"+4915100000031","x":1}`, 400, "invalid"},
		{"bad-phone", "POST", "/v1/register/code", `{"phone":"12345"}`, 400, "invalid"},
		{"no-code-requested", "POST", "/v1/register/verify", `{"phone":"+4915100000032","code":"123456"}`, 400, "invalid"},
		{"too-large", "POST", "/v1/register/code", `{"phone":"` + strings.Repeat("1", 70000) + `"}`, 413, "too_large"},
		{"no-token", "GET", "/v1/me", ``, 401, "unauthorized"},
		{"unknown-path", "GET", "/v1/nothing", ``, 404, "not_found"},
		{"admin-no-token", "GET", "/admin/v1/otp?phone=4915100000031", ``, 401, "unauthorized"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, n.base+tc.path, strings.NewReader(tc.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct {
				Error struct{ Code, Message string }
			}
			json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != tc.status || e.Error.Code != tc.code || e.Error.Message == "" {
				t.Fatalf("got %d %+v, want %d %s with a message", resp.StatusCode, e, tc.status, tc.code)
			}
		})
	}
}

// Two nodes sharing PostgreSQL and a NATS cluster route messages between
// clients connected to different nodes.
func TestMultiNode(t *testing.T) {
	natsURL := natstest.URL(t)
	dsn := pgtest.DSN(t)
	na := startNode(t, app.Config{Database: dsn, NATS: natsURL, Node: "node-a"})
	nb := startNode(t, app.Config{Database: dsn, NATS: natsURL, Node: "node-b"})
	alice := register(t, na, "+4915100000041")
	bob := register(t, nb, "+4915100000042")

	a := connect(t, na, alice)
	b := connect(t, nb, bob)
	a.send(map[string]any{"type": "send", "id": "1", "to": bob.Account, "copies": text(bob, "across nodes")})
	sent := a.next("sent")
	it := b.next("item")
	if string(it.Body) != "across nodes" || it.MessageID != sent.MessageID {
		t.Fatalf("bob on node b got %+v", it)
	}
	b.send(map[string]any{"type": "ack", "seqs": []uint64{it.Seq}})
	if r := a.next("item"); r.Kind != "delivered" || r.MessageID != sent.MessageID {
		t.Fatalf("receipt on node a = %+v", r)
	}

	// Bob connects the same device to node a: node b closes the old connection.
	b2 := connect(t, na, bob)
	if code := b.closeCode(); code != 4009 {
		t.Fatalf("old connection closed with %d, want 4009", code)
	}
	// Node b stops; nothing acknowledged is lost: messages sent meanwhile wait.
	nb.stop()
	b2.c.Close(websocket.StatusNormalClosure, "")
	a.send(map[string]any{"type": "send", "id": "2", "to": bob.Account, "copies": text(bob, "while away")})
	a.next("sent")
	b3 := connect(t, na, bob)
	if it := b3.next("item"); string(it.Body) != "while away" {
		t.Fatalf("after reconnect bob got %+v", it)
	}
}

// A stopping node closes client connections with 1001 (going away), so
// clients reconnect to another node, and Run returns.
func TestGracefulShutdown(t *testing.T) {
	n := startNode(t, app.Config{})
	alice := register(t, n, "+4915100000081")
	c := connect(t, n, alice)
	done := make(chan struct{})
	go func() { n.stop(); close(done) }()
	if code := c.closeCode(); code != websocket.StatusGoingAway {
		t.Fatalf("close code on shutdown = %d, want 1001", code)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after shutdown")
	}
}

// A device that sends faster than its bucket allows gets rate_limited
// answers, and can send again once tokens come back.
func TestSendRateLimit(t *testing.T) {
	n := startNode(t, app.Config{SendRate: 1, SendBurst: 3})
	alice := register(t, n, "+4915100000031")
	bob := register(t, n, "+4915100000032")
	c := connect(t, n, alice)
	limited := 0
	for i := range 5 {
		c.send(map[string]any{"type": "send", "id": fmt.Sprintf("r%d", i), "to": bob.Account, "copies": text(bob, "x")})
	}
	for range 5 {
		f := c.nextAny()
		switch {
		case f.Type == "sent":
		case f.Type == "error" && f.Code == "rate_limited":
			limited++
		default:
			t.Fatalf("got %+v", f)
		}
	}
	if limited < 1 || limited > 2 {
		t.Fatalf("%d of 5 sends limited with a burst of 3, want 1 or 2 (refill during the loop)", limited)
	}
	time.Sleep(1100 * time.Millisecond) // refill: one token per second
	c.send(map[string]any{"type": "send", "id": "later", "to": bob.Account, "copies": text(bob, "x")})
	if f := c.nextAny(); f.Type != "sent" {
		t.Fatalf("after a second: %+v", f)
	}
}

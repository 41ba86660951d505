package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/bus/natstest"
	"github.com/parley-chat/parley/store/postgres/pgtest"
)

// When the test binary is started with PARLEY_TEST_CHILD=1 it is the
// parley command itself, so tests can run real nodes as processes and
// kill them without building a second binary.
func TestMain(m *testing.M) {
	if os.Getenv("PARLEY_TEST_CHILD") == "1" {
		if err := run(context.Background(), os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "parley:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type childNode struct {
	cmd  *exec.Cmd
	base string
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startChild(t *testing.T, args ...string) *childNode {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", addr, "--data", t.TempDir(), "--log-level", "warn",
		"--rate-ip", "100000", "--rate-number", "1000"}, args...)...)
	cmd.Env = append(os.Environ(), "PARLEY_TEST_CHILD=1", "PARLEY_ADMIN_TOKEN=crash-test-operator")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &childNode{cmd: cmd, base: "http://" + addr}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("node %s log:\n%s", addr, logs.String())
		}
	})
	for i := 0; i < 600; i++ {
		if resp, err := http.Get(n.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return n
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("node on %s not ready", addr)
	return nil
}

func post(t *testing.T, url, token string, body any, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body == nil {
		req.Method = "GET"
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", url, resp.StatusCode, rb)
	}
	if out != nil {
		json.Unmarshal(rb, out)
	}
}

func registerChild(t *testing.T, n *childNode, phone string) (account, token string) {
	post(t, n.base+"/v1/register/code", "", map[string]string{"phone": phone}, nil)
	var otp struct{ Code string }
	post(t, n.base+"/admin/v1/otp?phone="+strings.TrimPrefix(phone, "+"), "crash-test-operator", nil, &otp)
	var c struct{ Account, Token string }
	post(t, n.base+"/v1/register/verify", "", map[string]string{"phone": phone, "code": otp.Code}, &c)
	return c.Account, c.Token
}

type wsFrame struct {
	Type      string `json:"type"`
	ID        string `json:"id"`
	Seq       uint64 `json:"seq"`
	Kind      string `json:"kind"`
	MessageID string `json:"message_id"`
	ClientID  string `json:"client_id"`
	Code      string `json:"code"`
}

func wsConnect(ctx context.Context, base, token string) (*websocket.Conn, error) {
	c, _, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+"/v1/ws", nil)
	if err != nil {
		return nil, err
	}
	auth, _ := json.Marshal(map[string]string{"type": "auth", "token": token})
	if err := c.Write(ctx, websocket.MessageText, auth); err != nil {
		return nil, err
	}
	return c, nil
}

// TestKillNodeUnderLoad kills -9 the node a sender is connected to while it
// sends. The sender reconnects to the other node and retries every send it
// has no answer for, with the same client id. Every send that was ever
// acknowledged must reach the recipient, and no client id may become two
// messages.
func TestKillNodeUnderLoad(t *testing.T) {
	natsURL := natstest.URL(t)
	dsn := pgtest.DSN(t)
	na := startChild(t, "--database", dsn, "--nats", natsURL, "--node", "survivor")
	nb := startChild(t, "--database", dsn, "--nats", natsURL, "--node", "victim")
	alice, aliceTok := registerChild(t, na, "+4915100000051")
	bob, bobTok := registerChild(t, na, "+4915100000052")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Bob receives on the surviving node and records every message.
	var mu sync.Mutex
	received := map[string]map[string]bool{} // client id -> message ids
	bc, err := wsConnect(ctx, na.base, bobTok)
	if err != nil {
		t.Fatal(err)
	}
	defer bc.CloseNow()
	go func() {
		for {
			_, b, err := bc.Read(ctx)
			if err != nil {
				return
			}
			var f wsFrame
			json.Unmarshal(b, &f)
			if f.Type != "item" {
				continue
			}
			mu.Lock()
			if received[f.ClientID] == nil {
				received[f.ClientID] = map[string]bool{}
			}
			received[f.ClientID][f.MessageID] = true
			mu.Unlock()
			bc.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `{"type":"ack","seqs":[%d]}`, f.Seq))
		}
	}()

	const total = 400
	acked := map[string]string{} // client id -> message id
	send := func(c *websocket.Conn, id string) error {
		f := fmt.Sprintf(`{"type":"send","id":%q,"to":%q,"copies":[{"account":%q,"device":1,"body":"aGk="}]}`, id, bob, bob)
		return c.Write(ctx, websocket.MessageText, []byte(f))
	}
	// readAcks collects "sent" answers until the connection dies or all are in.
	readAcks := func(c *websocket.Conn, want int, onAck func(n int)) {
		for len(acked) < want {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			var f wsFrame
			json.Unmarshal(b, &f)
			if f.Type == "sent" {
				if prev, ok := acked[f.ID]; ok && prev != f.MessageID {
					t.Errorf("client id %s answered with two message ids: %s and %s", f.ID, prev, f.MessageID)
				}
				acked[f.ID] = f.MessageID
				if onAck != nil {
					onAck(len(acked))
				}
			}
		}
	}

	// Phase 1: alice sends through the victim; it is killed mid-stream.
	ac, err := wsConnect(ctx, nb.base, aliceTok)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for i := range total {
			if send(ac, fmt.Sprintf("m%d", i)) != nil {
				return
			}
			time.Sleep(time.Millisecond) // keep sends in flight while the node dies
		}
	}()
	readAcks(ac, total, func(n int) {
		if n == total/4 {
			nb.cmd.Process.Signal(syscall.SIGKILL)
		}
	})
	ac.CloseNow()
	beforeKill := len(acked)
	if beforeKill < total/4 || beforeKill == total {
		t.Fatalf("%d of %d sends acknowledged by the victim; the kill should land mid-stream", beforeKill, total)
	}

	// Phase 2: reconnect to the survivor and retry everything unanswered.
	ac2, err := wsConnect(ctx, na.base, aliceTok)
	if err != nil {
		t.Fatal(err)
	}
	defer ac2.CloseNow()
	// The unanswered ids are listed before the sender starts: readAcks
	// fills acked meanwhile.
	var retry []string
	for i := range total {
		if id := fmt.Sprintf("m%d", i); acked[id] == "" {
			retry = append(retry, id)
		}
	}
	go func() {
		for _, id := range retry {
			send(ac2, id)
		}
	}()
	readAcks(ac2, total, nil)
	if len(acked) != total {
		t.Fatalf("only %d of %d sends acknowledged after the retry", len(acked), total)
	}

	// Every acknowledged message reaches bob, once per client id.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(received)
		mu.Unlock()
		if n == total || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for id, mid := range acked {
		got := received[id]
		if !got[mid] {
			t.Errorf("acknowledged %s (%s) never reached bob", id, mid)
		}
		if len(got) > 1 {
			t.Errorf("client id %s became %d messages: %v", id, len(got), got)
		}
	}
	t.Logf("%d sends acknowledged before the kill, %d after retrying; %d delivered, alice=%s", beforeKill, total-beforeKill, len(received), alice)
}

// Two terminal clients on two nodes exchange a message with delivery and
// read receipts (the messenger core's "done when").
func TestChatAcrossNodes(t *testing.T) {
	natsURL := natstest.URL(t)
	dsn := pgtest.DSN(t)
	na := startChild(t, "--database", dsn, "--nats", natsURL, "--node", "a")
	nb := startChild(t, "--database", dsn, "--nats", natsURL, "--node", "b")
	alice, bob := t.TempDir(), t.TempDir()
	register := func(dir string, n *childNode, phone string) {
		mustChat(t, dir, "register", "--server", n.base, "--phone", phone, "--request-only")
		var otp struct{ Code string }
		post(t, n.base+"/admin/v1/otp?phone="+strings.TrimPrefix(phone, "+"), "crash-test-operator", nil, &otp)
		mustChat(t, dir, "register", "--server", n.base, "--phone", phone, "--code", otp.Code)
	}
	register(alice, na, "+4915100000061")
	register(bob, nb, "+4915100000062")

	id := strings.TrimSpace(mustChat(t, alice, "send", "--to", "+4915100000062", "--text", "über Knoten hinweg"))
	var msg struct{ ID, From, Type, Text string }
	if err := json.Unmarshal([]byte(mustChat(t, bob, "listen", "--json", "--count", "1", "--timeout", "20s")), &msg); err != nil {
		t.Fatal(err)
	}
	if msg.ID != id || msg.From != "4915100000061" || msg.Text != "über Knoten hinweg" {
		t.Fatalf("bob on node b got %+v, want %s from alice", msg, id)
	}
	mustChat(t, bob, "read", "--message-id", id)
	var statuses []string
	for _, line := range strings.Split(strings.TrimSpace(mustChat(t, alice, "listen", "--json", "--timeout", "2s")), "\n") {
		var r struct {
			Type, Status string
			MessageID    string `json:"message_id"`
		}
		json.Unmarshal([]byte(line), &r)
		if r.Type == "receipt" && r.MessageID == id {
			statuses = append(statuses, r.Status)
		}
	}
	if strings.Join(statuses, ",") != "delivered,read" {
		t.Fatalf("alice on node a got receipts %v, want delivered,read", statuses)
	}
}

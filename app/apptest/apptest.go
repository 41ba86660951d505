// Package apptest starts real Parley nodes inside tests of other packages
// (the worked examples in examples/, say) and drives them the way an
// operator and a customer would: through the admin API and sandbox
// customers. Nothing in it is a stand-in: the node is app.Main on the
// embedded defaults (SQLite in a temporary directory, embedded NATS).
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/service"
)

// Node is a running Parley node.
type Node struct {
	Main *app.Main
	Base string // http://127.0.0.1:port
	t    testing.TB
}

// Start runs a node in development mode until the test ends.
func Start(t testing.TB) *Node {
	t.Helper()
	cfg := app.Config{
		DataDir:         t.TempDir(),
		Addr:            "127.0.0.1:0",
		Dev:             true,
		Limits:          service.Limits{RequestsPerIP: 100000, CodesPerNumber: 1000, CodeInterval: time.Millisecond},
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		ShutdownTimeout: 5 * time.Second,
	}
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	m := app.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			m.Close()
		})
	})
	return &Node{Main: m, Base: "http://" + m.Addr(), t: t}
}

// AdminToken is the operator token the node wrote into its data dir.
func (n *Node) AdminToken() string {
	n.t.Helper()
	b, err := os.ReadFile(filepath.Join(n.Main.DataDir(), app.AdminTokenFile))
	if err != nil {
		n.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// Call sends a JSON request and decodes the JSON answer into out (when
// not nil); it returns the status and the raw answer.
func (n *Node) Call(method, path, token string, body, out any) (int, []byte) {
	n.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			n.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, n.Base+path, rd)
	if err != nil {
		n.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			n.t.Fatalf("%s %s: %s: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, raw
}

// Business is what `parley admin business create --json` prints.
type Business struct {
	WABAID        string `json:"waba_id"`
	AppID         string `json:"app_id"`
	AppSecret     string `json:"app_secret"`
	PhoneNumberID string `json:"phone_number_id"`
	Display       string `json:"display_phone_number"`
	Account       string `json:"account"`
	AccessToken   string `json:"access_token"`
}

var phones atomic.Int64

// Phone returns a fresh E.164 number for a test identity.
func Phone() string { return fmt.Sprintf("+1555%07d", 2000000+phones.Add(1)) }

// CreateBusiness creates a business with a fresh number through the
// operator API; extra adds fields of the request (webhook_url, …).
func (n *Node) CreateBusiness(name string, extra map[string]any) Business {
	n.t.Helper()
	req := map[string]any{"name": name, "phone": Phone()}
	for k, v := range extra {
		req[k] = v
	}
	var b Business
	if st, raw := n.Call("POST", "/admin/v1/businesses", n.AdminToken(), req, &b); st != 200 || b.AccessToken == "" {
		n.t.Fatalf("create business: %d %s", st, raw)
	}
	return b
}

// Customer is a sandbox customer: a real account whose device the node
// runs, driven through the operator API.
type Customer struct {
	n     *Node
	Phone string // E.164
}

// Customer creates (on first use) the sandbox customer with phone.
func (n *Node) Customer(phone string) Customer {
	c := Customer{n: n, Phone: phone}
	c.Inbox() // creates the account and its device
	return c
}

func (c Customer) path(p string) string {
	return "/admin/v1/customers/" + url.PathEscape(c.Phone) + p
}

// Send writes text to another account (E.164).
func (c Customer) Send(to, text string) string {
	c.n.t.Helper()
	var out struct {
		MessageID string `json:"message_id"`
	}
	if st, raw := c.n.Call("POST", c.path("/messages"), c.n.AdminToken(), map[string]string{"to": to, "text": text}, &out); st != 200 {
		c.n.t.Fatalf("customer %s send: %d %s", c.Phone, st, raw)
	}
	return out.MessageID
}

// Inbox returns what the customer received so far, decrypted, one Cloud
// API-shaped message per element.
func (c Customer) Inbox() []map[string]any {
	c.n.t.Helper()
	var out struct {
		Messages []map[string]any `json:"messages"`
	}
	if st, raw := c.n.Call("GET", c.path("/inbox"), c.n.AdminToken(), nil, &out); st != 200 {
		c.n.t.Fatalf("customer %s inbox: %d %s", c.Phone, st, raw)
	}
	return out.Messages
}

// WaitInbox waits up to 20 seconds until the customer received at least
// count messages and returns them.
func (c Customer) WaitInbox(count int) []map[string]any {
	c.n.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		msgs := c.Inbox()
		if len(msgs) >= count {
			return msgs
		}
		if time.Now().After(deadline) {
			c.n.t.Fatalf("%s received %d messages in 20s, want %d: %v", c.Phone, len(msgs), count, msgs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

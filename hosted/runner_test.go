package hosted_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/hosted"
	"github.com/parley-chat/parley/sdk"
	"github.com/parley-chat/parley/service"
)

// gcmSealer is a Sealer for tests.
type gcmSealer struct{ aead cipher.AEAD }

func newSealer(t *testing.T) *gcmSealer {
	key := make([]byte, 32)
	rand.Read(key)
	b, _ := aes.NewCipher(key)
	a, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return &gcmSealer{a}
}

func (s *gcmSealer) Seal(p, aad []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, p, aad), nil
}

func (s *gcmSealer) Open(b, aad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(b) < n {
		return nil, errors.New("short")
	}
	return s.aead.Open(nil, b[:n], b[n:], aad)
}

func logger() *slog.Logger {
	if os.Getenv("PARLEY_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// echoKind is a kind of hosted device that only this test's runners
// serve (the node's own runner leaves it alone).
const echoKind = "test-echo"

// echo answers every text message with "echo: " and the text, from the
// hosted device, and records which node served each message.
type echo struct {
	node string
	mu   *sync.Mutex
	seen *[]string
}

func (e echo) Serve(ctx context.Context, d *parley.HostedDevice, m *sdk.Messenger) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-m.Events():
			if !ok {
				return nil
			}
			if msg, ok := ev.(*sdk.Message); ok && msg.Err == nil && msg.Type == "text" {
				e.mu.Lock()
				*e.seen = append(*e.seen, e.node+":"+msg.Text)
				e.mu.Unlock()
				if _, err := m.SendText(ctx, msg.From, "echo: "+msg.Text); err != nil {
					return err
				}
			}
			if err := ev.Ack(); err != nil {
				return err
			}
		}
	}
}

func startNode(t *testing.T) *app.Main {
	t.Helper()
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Dev: true, Logger: logger(),
		Limits: service.Limits{RequestsPerIP: 10000, CodesPerNumber: 100, CodeInterval: time.Millisecond}})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		m.Close()
	})
	return m
}

// A hosted device runs end-to-end encrypted like any device; when the
// node running it stops, another runner takes it over with its keys, and
// the conversation goes on.
func TestHostedDeviceAndTakeover(t *testing.T) {
	m := startNode(t)
	url := "http://" + m.Addr()
	sealer := newSealer(t)
	var mu sync.Mutex
	var served []string
	newRunner := func(name string) *hosted.Runner {
		return &hosted.Runner{Store: m.Store(), Sealer: sealer, Node: name, Server: func() string { return url },
			Handlers: map[string]hosted.Handler{echoKind: echo{node: name, mu: &mu, seen: &served}},
			Log:      logger(), LeaseFor: 900 * time.Millisecond}
	}
	r1 := newRunner("n1")
	ctx1, stop1 := context.WithCancel(context.Background())
	done1 := make(chan error, 1)
	go func() { done1 <- r1.Run(ctx1) }()
	defer stop1()

	accounts := service.NewAccounts(m.Store(), nopSMS{}, nopNotifier{}, nil, service.Limits{}, logger())
	keys := service.NewKeys(m.Store(), nil, nil, logger())
	p := &hosted.Provisioner{Runner: r1, Accounts: accounts, Keys: keys}
	ctx := context.Background()
	h, err := p.Provision(ctx, "4915100000777", echoKind, "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := p.Provision(ctx, "4915100000777", echoKind, "sandbox"); err != nil || again.Device != h.Device {
		t.Fatalf("second Provision = %+v, %v; want the same device", again, err)
	}
	if _, err := m.Store().Hosted(ctx, "4915100000777"); err != nil {
		t.Fatal(err)
	}

	// A person talks to it.
	creds := register(t, url, m, "+4915100000001")
	alice := sdk.NewMessenger(*creds, sdk.Options{Cipher: cipherFor(t, creds), Logger: logger()})
	actx, astop := context.WithCancel(ctx)
	defer astop()
	go alice.Run(actx)
	expectEcho := func(text string) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if _, err := alice.SendText(sctx, "4915100000777", text); err != nil {
			t.Fatalf("send %q: %v", text, err)
		}
		for {
			select {
			case ev := <-alice.Events():
				ev.Ack()
				if msg, ok := ev.(*sdk.Message); ok {
					if msg.Err != nil {
						t.Fatalf("got an undecryptable message: %v", msg.Err)
					}
					if msg.Text == "echo: "+text {
						return
					}
					// A device taken over may answer a message again whose
					// acknowledgement was lost with the old node (at least
					// once); it must be an earlier one.
					if msg.Text != "echo: one" {
						t.Fatalf("got %q, want the echo of %q", msg.Text, text)
					}
				}
			case <-sctx.Done():
				t.Fatalf("no echo of %q", text)
			}
		}
	}
	expectEcho("one")

	// Node n1 stops; n2 takes the device over (its keys and sessions came
	// with it) after the lease ran out.
	stop1()
	<-done1
	r2 := newRunner("n2")
	ctx2, stop2 := context.WithCancel(ctx)
	defer stop2()
	go r2.Run(ctx2)
	expectEcho("two")
	mu.Lock()
	defer mu.Unlock()
	if len(served) < 2 || served[0] != "n1:one" || served[len(served)-1] != "n2:two" {
		t.Fatalf("served %v, want n1:one first and n2:two last", served)
	}
}

// nopNotifier: this test's services run beside the node's; the node's
// caches recover through its stale_devices re-check.
type nopNotifier struct{}

func (nopNotifier) Items([]parley.Item)                   {}
func (nopNotifier) Revoked(string, uint32)                {}
func (nopNotifier) DevicesChanged(string)                 {}
func (nopNotifier) Typing(string, uint32, string, string) {}

type nopSMS struct{}

func (nopSMS) Send(context.Context, string, string) error { return nil }
func (nopSMS) Development() bool                          { return true }

func register(t *testing.T, url string, m *app.Main, phone string) *sdk.Credentials {
	t.Helper()
	ctx := context.Background()
	if _, err := sdk.RequestCode(ctx, url, phone); err != nil {
		t.Fatal(err)
	}
	acct, _ := sdk.AccountID(phone)
	text, _, err := m.Store().LastSMS(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := sdk.Verify(ctx, url, phone, text[len(text)-6:], "alice", "test")
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

func cipherFor(t *testing.T, creds *sdk.Credentials) *sdk.SignalCipher {
	t.Helper()
	c, err := sdk.OpenSignalCipher(sdk.NewClient(*creds), &sdk.MemoryState{}, logger())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.MaintainKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTierLimit(t *testing.T) {
	for tier, want := range map[string]int{"TIER_250": 250, "TIER_2K": 2000, "TIER_10K": 10000, "TIER_100K": 100000,
		"TIER_UNLIMITED": -1, "": 250, "TIER_NOT_SET": 250} {
		if got := hosted.TierLimit(tier); got != want {
			t.Errorf("TierLimit(%q) = %d, want %d", tier, got, want)
		}
	}
}

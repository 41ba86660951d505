package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/sdk"
)

const (
	alicePhone = "+4915100000001"
	bobPhone   = "+4915100000002"
	alice      = "4915100000001"
	bob        = "4915100000002"
)

func TestSendBothWaysWithReceipts(t *testing.T) {
	s := startServer(t)
	a := run(t, s.register(alicePhone, "alice"), sdk.Options{})
	b := run(t, s.register(bobPhone, "bob"), sdk.Options{})

	id := a.send(bob, "hello bob")
	m := b.message()
	if m.ID != id || m.From != alice || m.FromDevice != 1 || m.To != bob || m.Type != "text" || m.Text != "hello bob" {
		t.Fatalf("bob got %+v, want message %s from %s.1 with text %q", m, id, alice, "hello bob")
	}
	if d := time.Since(m.Timestamp); d < 0 || d > time.Minute {
		t.Errorf("timestamp %v is %v away from now", m.Timestamp, d)
	}
	ack(t, m)

	r := a.receipt()
	if r.Kind != sdk.ReceiptDelivered || r.MessageID != id || r.From != bob || r.FromDevice != 1 {
		t.Fatalf("alice got %+v, want delivered receipt for %s from %s.1", r, id, bob)
	}
	ack(t, r)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.m.MarkRead(ctx, alice, id); err != nil {
		t.Fatalf("mark read: %v", err)
	}
	r = a.receipt()
	if r.Kind != sdk.ReceiptRead || r.MessageID != id || r.From != bob {
		t.Fatalf("alice got %+v, want read receipt for %s from %s", r, id, bob)
	}
	ack(t, r)

	id2 := b.send(alicePhone, "hi alice")
	m = a.message()
	if m.ID != id2 || m.From != bob || m.Text != "hi alice" {
		t.Fatalf("alice got %+v, want %s from bob", m, id2)
	}
	ack(t, m)
	r = b.receipt()
	if r.Kind != sdk.ReceiptDelivered || r.MessageID != id2 || r.From != alice {
		t.Fatalf("bob got %+v, want delivered receipt for %s", r, id2)
	}
	ack(t, r)
	a.none(200 * time.Millisecond)
	b.none(200 * time.Millisecond)
}

func TestOfflineRecipientGetsBacklog(t *testing.T) {
	s := startServer(t)
	a := run(t, s.register(alicePhone, "alice"), sdk.Options{})
	bobCreds := s.register(bobPhone, "bob")
	signalCipher(t, bobCreds) // publishes keys, as registering with the CLI does

	var ids []string
	for i := range 5 {
		ids = append(ids, a.send(bob, fmt.Sprintf("offline %d", i)))
	}
	b := run(t, bobCreds, sdk.Options{})
	// Handle acknowledges each event after the handler returns nil.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []*sdk.Message
	err := b.m.Handle(ctx, func(_ context.Context, ev sdk.Event) error {
		if m, ok := ev.(*sdk.Message); ok {
			got = append(got, m)
		}
		if len(got) == len(ids) {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("handle: %v", err)
	}
	for i, m := range got {
		if m.ID != ids[i] || m.Text != fmt.Sprintf("offline %d", i) {
			t.Fatalf("backlog item %d: got %s %q, want %s", i, m.ID, m.Text, ids[i])
		}
	}
	if len(got) != len(ids) {
		t.Fatalf("got %d messages, want %d", len(got), len(ids))
	}
	var receipted []string
	for range ids {
		r := a.receipt()
		receipted = append(receipted, r.MessageID)
		ack(t, r)
	}
	slices.Sort(receipted)
	slices.Sort(ids)
	if !slices.Equal(receipted, ids) {
		t.Fatalf("delivered receipts for %v, want %v", receipted, ids)
	}
}

func TestSendIsIdempotent(t *testing.T) {
	s := startServer(t)
	a := run(t, s.register(alicePhone, "alice"), sdk.Options{})
	b := run(t, s.register(bobPhone, "bob"), sdk.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	out := sdk.Outgoing{To: bob, Plaintext: sdk.TextPayload("once"), ClientID: "c-retry-1"}
	first, err := a.m.Send(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	again, err := a.m.Send(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	if again.MessageID != first.MessageID || !again.Duplicate || first.Duplicate {
		t.Fatalf("retry got %+v after %+v, want the same message id, marked duplicate", again, first)
	}
	m := b.message()
	if m.ID != first.MessageID || m.ClientID != "c-retry-1" {
		t.Fatalf("bob got %+v", m)
	}
	ack(t, m)
	b.none(300 * time.Millisecond)
}

// linkDevice adds a device to the account of approver through the link
// flow and returns its credentials.
func linkDevice(t *testing.T, s *testServer, approver *sdk.Credentials, name string) *sdk.Credentials {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := sdk.NewLinkCode()
	type result struct {
		c   *sdk.Credentials
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := sdk.LinkWait(ctx, s.URL(), code)
		done <- result{c, err}
	}()
	for {
		_, err := sdk.NewClient(*approver).LinkApprove(ctx, code, name, "test")
		if err == nil {
			break
		}
		if sdk.ErrorCode(err) != sdk.CodeNotFound {
			t.Fatalf("approve link: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // the waiter is not there yet
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("link wait: %v", r.err)
	}
	if r.c.Account != approver.Account || r.c.Server != s.URL() || r.c.Token == "" {
		t.Fatalf("linked credentials %+v", r.c)
	}
	return r.c
}

// sealLog records which devices a SignalCipher sealed for.
type sealLog struct {
	*sdk.SignalCipher
	mu    sync.Mutex
	calls []string
}

func (c *sealLog) Seal(ctx context.Context, account string, device uint32, plaintext []byte) ([]byte, error) {
	c.mu.Lock()
	c.calls = append(c.calls, fmt.Sprintf("%s.%d", account, device))
	c.mu.Unlock()
	return c.SignalCipher.Seal(ctx, account, device, plaintext)
}

func (c *sealLog) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := c.calls
	c.calls = nil
	return calls
}

func TestStaleDevicesAfterLink(t *testing.T) {
	s := startServer(t)
	aliceCreds := s.register(alicePhone, "alice")
	seals := &sealLog{SignalCipher: signalCipher(t, aliceCreds)}
	a := run(t, aliceCreds, sdk.Options{Cipher: seals})
	bobCreds := s.register(bobPhone, "bob")
	b1 := run(t, bobCreds, sdk.Options{})

	// Alice's Messenger caches bob's device list [1] with this send.
	id := a.send(bob, "before link")
	ack(t, b1.message())
	ack(t, a.receipt())

	bob2 := linkDevice(t, s, bobCreds, "bob-laptop")
	if bob2.Device <= bobCreds.Device {
		t.Fatalf("linked device %d, want a new id", bob2.Device)
	}
	b2 := run(t, bob2, sdk.Options{})

	// The cached list is stale now: the send must still reach both devices.
	seals.take()
	id2 := a.send(bob, "after link")
	if id2 == id {
		t.Fatal("second send got the first message id")
	}
	// One attempt with the cached list, then one with the server's.
	want := []string{bob + ".1", bob + ".1", fmt.Sprintf("%s.%d", bob, bob2.Device)}
	if got := seals.take(); !slices.Equal(got, want) {
		t.Errorf("sealed for %v, want %v (a stale answer, then a re-encryption)", got, want)
	}
	for _, d := range []*device{b1, b2} {
		m := d.message()
		if m.ID != id2 || m.Text != "after link" {
			t.Fatalf("bob device got %s %q, want %s", m.ID, m.Text, id2)
		}
		ack(t, m)
	}
	var from []uint32
	for range 2 {
		r := a.receipt()
		if r.Kind != sdk.ReceiptDelivered || r.MessageID != id2 {
			t.Fatalf("alice got %+v", r)
		}
		from = append(from, r.FromDevice)
		ack(t, r)
	}
	slices.Sort(from)
	if !slices.Equal(from, []uint32{1, bob2.Device}) {
		t.Fatalf("delivered by devices %v, want [1 %d]", from, bob2.Device)
	}

	// Bob's first device's own list changed too: its send must reach its
	// new sibling as a sent-message copy.
	id3 := b1.send(alice, "from bob 1")
	m := a.message()
	if m.ID != id3 {
		t.Fatalf("alice got %s, want %s", m.ID, id3)
	}
	ack(t, m)
	m = b2.message()
	if m.ID != id3 || m.From != bob || m.FromDevice != 1 || m.To != alice || m.Text != "from bob 1" {
		t.Fatalf("bob's second device got %+v, want a copy of %s to %s", m, id3, alice)
	}
	ack(t, m)
}

func TestReconnectLosesNothingAndDuplicatesNothing(t *testing.T) {
	s := startServer(t)
	a := run(t, s.register(alicePhone, "alice"), sdk.Options{})
	bobCreds := s.register(bobPhone, "bob")
	var net dropper
	seen := sdk.NewMemorySeen(0)
	b := run(t, bobCreds, sdk.Options{HTTPClient: net.client(), Seen: seen})

	id1 := a.send(bob, "one")
	m1 := b.message() // held, not acknowledged yet
	if m1.ID != id1 {
		t.Fatalf("got %s, want %s", m1.ID, id1)
	}

	net.drop() // the server will send "one" again on the next connection
	id2 := a.send(bob, "two")
	m2 := b.message()
	if m2.ID != id2 {
		t.Fatalf("after reconnect got %s %q, want %s (and no second copy of %s)", m2.ID, m2.Text, id2, id1)
	}
	ack(t, m1)
	ack(t, m2)
	var got []string
	for range 2 {
		r := a.receipt()
		got = append(got, r.MessageID)
		ack(t, r)
	}
	slices.Sort(got)
	want := []string{id1, id2}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("delivered receipts %v, want %v", got, want)
	}
	net.drop()
	b.none(500 * time.Millisecond)

	// A crash before handling loses nothing: a new process (same seen
	// store, as a profile would give) gets the unacknowledged message.
	id3 := a.send(bob, "three")
	if m := b.message(); m.ID != id3 {
		t.Fatalf("got %s, want %s", m.ID, id3)
	}
	b.close() // "crash" without Ack
	b = run(t, bobCreds, sdk.Options{Seen: seen})
	m3 := b.message()
	if m3.ID != id3 || m3.Text != "three" {
		t.Fatalf("after restart got %s %q, want %s", m3.ID, m3.Text, id3)
	}
	ack(t, m3)
	b.none(300 * time.Millisecond)
}

func TestServerRestart(t *testing.T) {
	s := startServer(t)
	a := run(t, s.register(alicePhone, "alice"), sdk.Options{})
	b := run(t, s.register(bobPhone, "bob"), sdk.Options{})
	id1 := a.send(bob, "before")
	ack(t, b.message())
	ack(t, a.receipt())

	s.shutdown() // closes every connection with 1001
	sent := make(chan string, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		id, err := a.m.SendText(ctx, bob, "during restart")
		if err != nil {
			t.Errorf("send during restart: %v", err)
		}
		sent <- id
	}()
	time.Sleep(100 * time.Millisecond)
	s.start()
	id2 := <-sent
	if id2 == "" || id2 == id1 {
		t.Fatalf("send during restart got id %q", id2)
	}
	m := b.message()
	if m.ID != id2 || m.Text != "during restart" {
		t.Fatalf("got %s %q, want %s", m.ID, m.Text, id2)
	}
	ack(t, m)
	b.none(300 * time.Millisecond)
}

func TestUnlinkedDeviceGets4002(t *testing.T) {
	s := startServer(t)
	bob1 := s.register(bobPhone, "bob")
	bob2 := s.register(bobPhone, "bob-2")
	if bob2.Device != 2 || bob2.Created {
		t.Fatalf("second registration got %+v, want device 2 of the existing account", bob2)
	}
	b2 := run(t, bob2, sdk.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sdk.NewClient(*bob1).Unlink(ctx, 2); err != nil {
		t.Fatalf("unlink: %v", err)
	}
	var err error
	select {
	case err = <-b2.done:
		b2.done <- err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop after the device was unlinked")
	}
	var ce *sdk.CloseError
	if !errors.As(err, &ce) || ce.Code != sdk.CloseRevoked || !sdk.Fatal(err) {
		t.Fatalf("Run returned %v, want close 4002 (fatal)", err)
	}
	if _, err := b2.m.SendText(ctx, bob, "x"); !errors.As(err, &ce) || ce.Code != sdk.CloseRevoked {
		t.Fatalf("send after unlink: %v, want the 4002 close", err)
	}
	// Reconnecting with the revoked credentials is refused the same way.
	if _, err := sdk.Dial(ctx, s.URL(), bob2.Token, nil); !errors.As(err, &ce) || ce.Code != sdk.CloseRevoked {
		t.Fatalf("dial with revoked credentials: %v, want close 4002", err)
	}
	if _, err := sdk.NewClient(*bob2).Me(ctx); sdk.ErrorCode(err) != sdk.CodeUnauthorized {
		t.Fatalf("HTTP with revoked credentials: %v, want unauthorized", err)
	}
}

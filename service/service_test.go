package service_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
	"github.com/parley-chat/parley/store/sqlite"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time                    { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration)               { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *fakeClock                             { return &fakeClock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)} }
func quiet() *slog.Logger                              { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func (n *notes) Typing(string, uint32, string, string) {}

type notes struct {
	mu      sync.Mutex
	items   []parley.Item
	revoked []string
}

func (n *notes) Items(items []parley.Item) {
	n.mu.Lock()
	n.items = append(n.items, items...)
	n.mu.Unlock()
}
func (n *notes) Revoked(a string, d uint32) {
	n.mu.Lock()
	n.revoked = append(n.revoked, parley.DeviceAddress(a, d))
	n.mu.Unlock()
}
func (n *notes) DevicesChanged(string) {}

type inbox struct {
	mu   sync.Mutex
	last map[string]string
}

func (b *inbox) Send(_ context.Context, phone, text string) error {
	b.mu.Lock()
	b.last[phone] = text
	b.mu.Unlock()
	return nil
}
func (b *inbox) Development() bool { return true }
func (b *inbox) code(phone string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	id, _ := parley.ParsePhone(phone)
	t := b.last[id]
	return t[len(t)-6:]
}

type fixture struct {
	clock *fakeClock
	notes *notes
	sms   *inbox
	acc   *service.Accounts
	msg   *service.Messaging
	store parley.Store
}

func setup(t *testing.T, limits service.Limits) *fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{clock: newClock(), notes: &notes{}, sms: &inbox{last: map[string]string{}}, store: st}
	f.acc = service.NewAccounts(st, f.sms, f.notes, f.clock, limits, quiet())
	f.msg = service.NewMessaging(st, f.notes, f.clock, quiet())
	return f
}

func (f *fixture) register(t *testing.T, phone string) *service.Registration {
	t.Helper()
	ctx := context.Background()
	if _, err := f.acc.RequestCode(ctx, phone, "10.0.0.1"); err != nil {
		t.Fatalf("RequestCode(%s): %v", phone, err)
	}
	reg, err := f.acc.Verify(ctx, phone, f.sms.code(phone), "dev", "test", "10.0.0.1")
	if err != nil {
		t.Fatalf("Verify(%s): %v", phone, err)
	}
	f.clock.Add(time.Minute) // past the per-number code interval
	return reg
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := parley.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func TestRegistration(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{})
	reg := f.register(t, "+49 151 1111 1111")
	if !reg.Created || reg.Device.Account != "4915111111111" || reg.Device.ID != 1 {
		t.Fatalf("registration = %+v, want new account 4915111111111 device 1", reg)
	}
	d, err := f.acc.Authenticate(ctx, reg.Token)
	if err != nil || d.ID != 1 {
		t.Fatalf("Authenticate = %+v, %v", d, err)
	}
	// Verifying again adds a second device to the same account.
	second := f.register(t, "+4915111111111")
	if second.Created || second.Device.ID != 2 {
		t.Fatalf("second registration = created %v device %d, want existing account device 2", second.Created, second.Device.ID)
	}
	// A code is single use.
	_, err = f.acc.Verify(ctx, "+4915111111111", "000000", "x", "y", "10.0.0.1")
	wantCode(t, err, parley.EINVALID)
}

func TestWrongCodesLockOut(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{MaxAttempts: 3, LockFor: time.Hour})
	phone := "+4915122222222"
	if _, err := f.acc.RequestCode(ctx, phone, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	right := f.sms.code(phone)
	wrong := "000000"
	if right == wrong {
		wrong = "111111"
	}
	for i := range 2 {
		_, err := f.acc.Verify(ctx, phone, wrong, "d", "p", "10.0.0.1")
		wantCode(t, err, parley.EINVALID)
		_ = i
	}
	_, err := f.acc.Verify(ctx, phone, wrong, "d", "p", "10.0.0.1")
	wantCode(t, err, parley.ELOCKED)
	// Even the right code is refused while locked, and so is a new code.
	_, err = f.acc.Verify(ctx, phone, right, "d", "p", "10.0.0.1")
	wantCode(t, err, parley.ELOCKED)
	f.clock.Add(time.Minute)
	_, err = f.acc.RequestCode(ctx, phone, "10.0.0.1")
	wantCode(t, err, parley.ELOCKED)
	f.clock.Add(time.Hour)
	if _, err := f.acc.RequestCode(ctx, phone, "10.0.0.1"); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}

func TestCodeExpires(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{CodeTTL: time.Minute})
	phone := "+4915133333333"
	f.acc.RequestCode(ctx, phone, "10.0.0.1")
	f.clock.Add(2 * time.Minute)
	_, err := f.acc.Verify(ctx, phone, f.sms.code(phone), "d", "p", "10.0.0.1")
	wantCode(t, err, parley.EEXPIRED)
}

func TestCodeRateLimits(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{CodesPerNumber: 2, CodeInterval: time.Second, RequestsPerIP: 4})
	phone := "+4915144444444"
	if _, err := f.acc.RequestCode(ctx, phone, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	_, err := f.acc.RequestCode(ctx, phone, "10.0.0.1")
	wantCode(t, err, parley.ERATELIMIT) // within the interval
	f.clock.Add(2 * time.Second)
	if _, err := f.acc.RequestCode(ctx, phone, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Second)
	_, err = f.acc.RequestCode(ctx, phone, "10.0.0.2")
	wantCode(t, err, parley.ERATELIMIT) // 2 per number per hour
	// The IP has used 3 of its 4 requests; the 5th is refused for any number.
	f.acc.RequestCode(ctx, "+4915144444445", "10.0.0.1")
	_, err = f.acc.RequestCode(ctx, "+4915144444446", "10.0.0.1")
	wantCode(t, err, parley.ERATELIMIT)
}

func TestAuthenticateRejects(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{TokenTTL: time.Hour})
	reg := f.register(t, "+4915155555555")
	for _, tok := range []string{"", "garbage", "4915155555555.1.short", "4915155555555.9.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		reg.Token[:len(reg.Token)-1] + "x"} {
		_, err := f.acc.Authenticate(ctx, tok)
		wantCode(t, err, parley.EUNAUTHORIZED)
	}
	f.clock.Add(2 * time.Hour)
	_, err := f.acc.Authenticate(ctx, reg.Token)
	wantCode(t, err, parley.EUNAUTHORIZED)
	if e := err.(*parley.Error); e.Op != "expired" {
		t.Fatalf("expired token: op %q, want expired", e.Op)
	}
}

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{})
	a1 := f.register(t, "+4915166666666")
	a2 := f.register(t, "+4915166666666")
	if err := f.acc.Revoke(ctx, a1.Device, a2.Device.ID); err != nil {
		t.Fatal(err)
	}
	_, err := f.acc.Authenticate(ctx, a2.Token)
	wantCode(t, err, parley.EUNAUTHORIZED)
	if len(f.notes.revoked) != 1 || f.notes.revoked[0] != "4915166666666.2" {
		t.Fatalf("revoked notifications = %v", f.notes.revoked)
	}
	wantCode(t, f.acc.Revoke(ctx, a1.Device, a2.Device.ID), parley.ENOTFOUND)
}

func TestSendAckReadFlow(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{})
	alice := f.register(t, "+4915170000001")
	alice2 := f.register(t, "+4915170000001")
	bob := f.register(t, "+4915170000002")
	A, B := "4915170000001", "4915170000002"
	// With keys published, every device must get a copy.
	keys := service.NewKeys(f.store, nil, f.clock, quiet())
	upload(t, keys, alice2.Device, 1)
	upload(t, keys, bob.Device, 1)

	env := func(copies ...parley.Copy) *parley.Envelope {
		return &parley.Envelope{To: B, ClientID: "c1", Copies: copies}
	}
	// Missing Alice's second device: stale, with the current lists.
	_, err := f.msg.Send(ctx, alice.Device, env(parley.Copy{Account: B, Device: 1, Body: []byte("hi")}))
	wantCode(t, err, parley.ESTALE)
	if e := err.(*parley.Error); len(e.Devices[A]) != 1 || e.Devices[A][0] != 2 || len(e.Devices[B]) != 1 {
		t.Fatalf("stale devices = %v, want %s:[2] %s:[1]", e.Devices, A, B)
	}
	_, err = f.msg.Send(ctx, alice.Device, &parley.Envelope{To: "4915170000009", ClientID: "c0",
		Copies: []parley.Copy{{Account: "4915170000009", Device: 1, Body: []byte("x")}}})
	wantCode(t, err, parley.ENOTFOUND)

	good := env(parley.Copy{Account: B, Device: 1, Body: []byte("hi")}, parley.Copy{Account: A, Device: 2, Body: []byte("hi")})
	d, err := f.msg.Send(ctx, alice.Device, good)
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.msg.Send(ctx, alice.Device, env(parley.Copy{Account: B, Device: 1, Body: []byte("hi")}, parley.Copy{Account: A, Device: 2, Body: []byte("hi")}))
	if err != nil || !again.Duplicate || again.MessageID != d.MessageID {
		t.Fatalf("retry = %+v, %v; want duplicate of %s", again, err, d.MessageID)
	}
	bobItems, _ := f.msg.Fetch(ctx, bob.Device, 0, 10)
	if len(bobItems) != 1 || string(bobItems[0].Body) != "hi" || bobItems[0].From != A || bobItems[0].MessageID != d.MessageID {
		t.Fatalf("bob's mailbox = %+v", bobItems)
	}
	syncItems, _ := f.msg.Fetch(ctx, alice2.Device, 0, 10)
	if len(syncItems) != 1 || syncItems[0].To != B {
		t.Fatalf("alice's other device = %+v, want the sent copy addressed to %s", syncItems, B)
	}

	// Bob acks: the item is gone and both of Alice's devices get "delivered".
	if err := f.msg.Ack(ctx, B, 1, []uint64{bobItems[0].Seq}); err != nil {
		t.Fatal(err)
	}
	if left, _ := f.msg.Fetch(ctx, bob.Device, 0, 10); len(left) != 0 {
		t.Fatalf("bob's mailbox after ack = %+v", left)
	}
	for _, dev := range []*parley.Device{alice.Device, alice2.Device} {
		items, _ := f.msg.Fetch(ctx, dev, 0, 10)
		var got []parley.Kind
		for _, it := range items {
			got = append(got, it.Kind)
		}
		want := parley.KindDelivered
		if dev.ID == 2 {
			// device 2 also holds its sent-sync copy, which it acks now: no receipt for own copies
			if err := f.msg.Ack(ctx, A, 2, []uint64{items[0].Seq}); err != nil {
				t.Fatal(err)
			}
			items = items[1:]
		}
		if len(items) != 1 || items[0].Kind != want || items[0].MessageID != d.MessageID || items[0].From != B {
			t.Fatalf("device %d items = %+v (%v), want one delivered receipt", dev.ID, items, got)
		}
	}
	if n, _ := f.msg.Fetch(ctx, bob.Device, 0, 10); len(n) != 0 {
		t.Fatalf("acking a sent-sync copy made a receipt for bob: %+v", n)
	}

	// Bob reads: Alice's devices get "read".
	if err := f.msg.Read(ctx, bob.Device, A, []string{d.MessageID}); err != nil {
		t.Fatal(err)
	}
	items, _ := f.msg.Fetch(ctx, alice.Device, 0, 10)
	if last := items[len(items)-1]; last.Kind != parley.KindRead || last.MessageID != d.MessageID {
		t.Fatalf("alice's last item = %+v, want read receipt", last)
	}
	if len(f.notes.items) == 0 {
		t.Fatal("nothing was notified")
	}
}

func TestPresenceIsReciprocal(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{})
	a := f.register(t, "+4915180000001")
	f.register(t, "+4915180000002")
	if err := f.msg.Heartbeat(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if err := f.msg.Connected(ctx, "4915180000002", 1, "n1"); err != nil {
		t.Fatal(err)
	}
	p, err := f.msg.Presence(ctx, "4915180000001", "4915180000002")
	if err != nil || !p.Online || p.Hidden {
		t.Fatalf("presence = %+v, %v; want online", p, err)
	}
	nobody := parley.PresenceNobody
	if _, err := f.acc.UpdateProfile(ctx, a.Device, nil, &nobody); err != nil {
		t.Fatal(err)
	}
	p, _ = f.msg.Presence(ctx, "4915180000001", "4915180000002")
	if !p.Hidden || p.Online {
		t.Fatalf("viewer hides presence; sees %+v, want hidden", p)
	}
	// A node whose heartbeat is stale no longer counts.
	everyone := parley.PresenceEveryone
	f.acc.UpdateProfile(ctx, a.Device, nil, &everyone)
	f.clock.Add(time.Minute)
	p, _ = f.msg.Presence(ctx, "4915180000001", "4915180000002")
	if p.Online {
		t.Fatalf("presence with a dead node = %+v, want offline", p)
	}
}

// A device that cannot decrypt asks the sending device to resend; the
// resend keeps the message's id and time and goes to that device only.
func TestRetryAndResend(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{})
	alice := f.register(t, "+4915170000021").Device
	bob := f.register(t, "+4915170000022").Device
	bob2 := f.register(t, "+4915170000022").Device
	A, B := alice.Account, bob.Account
	d, err := f.msg.Send(ctx, alice, &parley.Envelope{To: B, ClientID: "c-1", Copies: []parley.Copy{
		{Account: B, Device: bob.ID, Body: []byte("one")}, {Account: B, Device: bob2.ID, Body: []byte("two")}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.msg.Retry(ctx, bob2, A, alice.ID, d.MessageID, "c-1"); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	items, _ := f.msg.Fetch(ctx, alice, 0, 10)
	if len(items) != 1 || items[0].Kind != parley.KindRetry || items[0].MessageID != d.MessageID ||
		items[0].From != B || items[0].FromDevice != bob2.ID || items[0].ClientID != "c-1" {
		t.Fatalf("alice's mailbox = %+v, want one retry from %s.%d", items, B, bob2.ID)
	}
	wantCode(t, f.msg.Retry(ctx, bob2, A, 7, d.MessageID, "c-1"), parley.ENOTFOUND) // no such device
	wantCode(t, f.msg.Retry(ctx, bob2, B, bob2.ID, d.MessageID, "c-1"), parley.EINVALID)
	wantCode(t, f.msg.Retry(ctx, bob2, A, alice.ID, "", "c-1"), parley.EINVALID)

	r, err := f.msg.Resend(ctx, alice, B, "", "c-1", parley.Copy{Account: B, Device: bob2.ID, Body: []byte("two again")})
	if err != nil || r.MessageID != d.MessageID || !r.Timestamp.Equal(d.Timestamp) {
		t.Fatalf("Resend = %+v, %v; want message %s at %v", r, err, d.MessageID, d.Timestamp)
	}
	items, _ = f.msg.Fetch(ctx, bob2, 0, 10)
	if len(items) != 2 || string(items[1].Body) != "two again" || items[1].MessageID != d.MessageID || items[1].ClientID != "c-1" {
		t.Fatalf("bob2's mailbox = %+v, want the original and the resent copy", items)
	}
	if items, _ := f.msg.Fetch(ctx, bob, 0, 10); len(items) != 1 {
		t.Fatalf("bob's first device got %d items, want only the original", len(items))
	}
	_, err = f.msg.Resend(ctx, bob, A, "", "c-1", parley.Copy{Account: A, Device: alice.ID, Body: []byte("x")})
	wantCode(t, err, parley.ENOTFOUND) // bob never sent c-1: nobody resends others' messages
	_, err = f.msg.Resend(ctx, alice, B, "", "c-1", parley.Copy{Account: "4915170000099", Device: 1, Body: []byte("x")})
	wantCode(t, err, parley.EINVALID)
	_, err = f.msg.Resend(ctx, alice, B, "", "c-1", parley.Copy{Account: B, Device: 9, Body: []byte("x")})
	wantCode(t, err, parley.ENOTFOUND)
}

// A device revoked between the check of a send and its commit: the
// send fails ESTALE with the device lists as they are after the
// revocation, not the (cached) ones the envelope already matched, so
// that the client's re-encryption can succeed.
func TestSendStaleAtCommitAnswersFreshLists(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{})
	alice := f.register(t, "+4915170000031")
	bob := f.register(t, "+4915170000032")
	bob2 := f.register(t, "+4915170000032")
	B := "4915170000032"
	keys := service.NewKeys(f.store, nil, f.clock, quiet())
	upload(t, keys, bob.Device, 1)
	upload(t, keys, bob2.Device, 1)
	both := func(id string) *parley.Envelope {
		return &parley.Envelope{To: B, ClientID: id, Copies: []parley.Copy{{Account: B, Device: 1, Body: []byte("hi")}, {Account: B, Device: 2, Body: []byte("hi")}}}
	}
	if _, err := f.msg.Send(ctx, alice.Device, both("c1")); err != nil { // the lists are cached now
		t.Fatal(err)
	}
	// Revoked behind the messaging service's back (as on another node
	// before its bus notice arrives): its cache still lists device 2.
	if err := f.acc.Revoke(ctx, bob.Device, bob2.Device.ID); err != nil {
		t.Fatal(err)
	}
	_, err := f.msg.Send(ctx, alice.Device, both("c2"))
	wantCode(t, err, parley.ESTALE)
	if e := err.(*parley.Error); !slices.Equal(e.Devices[B], []uint32{1}) {
		t.Fatalf("stale devices of %s = %v, want [1] (device 2 was revoked)", B, e.Devices[B])
	}
	one := &parley.Envelope{To: B, ClientID: "c3", Copies: []parley.Copy{{Account: B, Device: 1, Body: []byte("hi")}}}
	if _, err := f.msg.Send(ctx, alice.Device, one); err != nil {
		t.Fatalf("send re-encrypted for the fresh lists: %v", err)
	}
}

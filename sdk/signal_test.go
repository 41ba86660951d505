package sdk_test

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sdk"
)

// rawEvent returns the next event of any type.
func (d *device) rawEvent() sdk.Event {
	d.t.Helper()
	select {
	case ev, ok := <-d.m.Events():
		if !ok {
			d.t.Fatalf("events closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		d.t.Fatalf("no event within 10s")
	}
	return nil
}

// until returns the first event for which match is true, failing when a
// message or receipt comes first.
func (d *device) until(what string, match func(sdk.Event) bool) sdk.Event {
	d.t.Helper()
	for {
		ev := d.rawEvent()
		if match(ev) {
			return ev
		}
		switch e := ev.(type) {
		case *sdk.Message:
			d.t.Fatalf("got message %s %q (err %v) while waiting for %s", e.ID, e.Text, e.Err, what)
		case *sdk.Receipt:
			d.t.Fatalf("got %s receipt while waiting for %s", e.Kind, what)
		}
	}
}

// The server stores ciphertext only: the mailbox copy of a message is not
// its plaintext and does not contain it.
func TestBodiesAreEncrypted(t *testing.T) {
	s := startServer(t)
	a := run(t, s.register(alicePhone, "alice"), sdk.Options{})
	bobCreds := s.register(bobPhone, "bob")
	signalCipher(t, bobCreds)
	const canary = "canary-7f3a9 the operator must never read this"
	id := a.send(bob, canary)
	items, err := s.m.Store().Fetch(context.Background(), bob, bobCreds.Device, 0, 10, time.Now())
	if err != nil || len(items) != 1 || items[0].MessageID != id {
		t.Fatalf("bob's mailbox = %+v, %v; want message %s", items, err, id)
	}
	if bytes.Contains(items[0].Body, []byte("canary-7f3a9")) || len(items[0].Body) < len(canary) {
		t.Fatalf("the stored body contains the plaintext or is too short to be a ciphertext: %q", items[0].Body)
	}
	b := run(t, bobCreds, sdk.Options{})
	if m := b.message(); m.ID != id || m.Text != canary {
		t.Fatalf("bob got %s %q, want %s %q", m.ID, m.Text, id, canary)
	}
}

// A device that lost its session with the sender cannot decrypt; it asks
// for a resend, the sender starts a new session, and the message arrives
// once, under its original id.
func TestLostSessionRecoversThroughRetry(t *testing.T) {
	ctx := context.Background()
	s := startServer(t)
	aliceCreds, bobCreds := s.register(alicePhone, "alice"), s.register(bobPhone, "bob")
	a := run(t, aliceCreds, sdk.Options{})
	bobCipher := signalCipher(t, bobCreds)
	b := run(t, bobCreds, sdk.Options{Cipher: bobCipher})

	id1 := a.send(bob, "first")
	m := b.message()
	if m.ID != id1 || m.Err != nil {
		t.Fatalf("bob got %s (err %v), want %s", m.ID, m.Err, id1)
	}
	ack(t, m)
	ack(t, a.receipt())
	// Bob loses the session, as after restoring an old backup.
	if err := bobCipher.ResetSession(ctx, alice, aliceCreds.Device); err != nil {
		t.Fatal(err)
	}
	id2 := a.send(bob, "second")
	u := b.until("an undecryptable notice", func(ev sdk.Event) bool { _, ok := ev.(*sdk.Undecryptable); return ok }).(*sdk.Undecryptable)
	if u.MessageID != id2 || u.From != alice {
		t.Fatalf("undecryptable %+v, want %s from %s", u, id2, alice)
	}
	m = b.message()
	if m.ID != id2 || m.Text != "second" || m.Err != nil {
		t.Fatalf("bob got %s %q (err %v), want the resent %s", m.ID, m.Text, m.Err, id2)
	}
	ack(t, m)
	b.none(300 * time.Millisecond)

	// The new session works both ways.
	id3 := b.send(alice, "third")
	for {
		ev := a.next()
		if r, ok := ev.(*sdk.Receipt); ok {
			if r.MessageID != id2 {
				t.Fatalf("alice got a receipt for %s, want only %s's", r.MessageID, id2)
			}
			ack(t, r)
			continue
		}
		if m := ev.(*sdk.Message); m.ID != id3 || m.Text != "third" {
			t.Fatalf("alice got %s %q, want %s", m.ID, m.Text, id3)
		}
		break
	}
	id4 := a.send(bob, "fourth")
	if m := b.message(); m.ID != id4 || m.Text != "fourth" {
		t.Fatalf("bob got %s %q, want %s", m.ID, m.Text, id4)
	}
}

// A new device of a contact changes the contact's keys: the sender sees
// a notice with the new safety number, which both sides compute alike.
func TestNewDeviceOfContactIsNoticed(t *testing.T) {
	s := startServer(t)
	aliceCreds, bobCreds := s.register(alicePhone, "alice"), s.register(bobPhone, "bob")
	aliceCipher, bobCipher := signalCipher(t, aliceCreds), signalCipher(t, bobCreds)
	a := run(t, aliceCreds, sdk.Options{Cipher: aliceCipher})
	b := run(t, bobCreds, sdk.Options{Cipher: bobCipher})
	id := a.send(bob, "hi")
	ack(t, b.message())
	ack(t, a.receipt())
	b.send(alice, "hi back")
	ack(t, a.message())
	ack(t, b.receipt())

	an, err := aliceCipher.SafetyNumber(bob)
	if err != nil {
		t.Fatal(err)
	}
	bn, err := bobCipher.SafetyNumber(alice)
	if err != nil || bn.Digits != an.Digits || len(an.Digits) != 60 {
		t.Fatalf("safety numbers %q and %q (%v), want the same 60 digits on both sides", an.Digits, bn.Digits, err)
	}
	if err := bn.VerifyQR(an.QR); err != nil {
		t.Fatalf("bob scanning alice's QR code: %v", err)
	}

	bob2 := linkDevice(t, s, bobCreds, "bob-laptop")
	signalCipher(t, bob2)
	id2 := a.send(bob, "after link")
	if id2 == id {
		t.Fatal("same message id twice")
	}
	n := a.until("an identity notice", func(ev sdk.Event) bool { _, ok := ev.(*sdk.IdentityNotice); return ok }).(*sdk.IdentityNotice)
	if n.Kind != sdk.IdentityNewDevice || n.Peer.Account != bob || n.Peer.Device != bob2.Device {
		t.Fatalf("notice %+v, want a new device %s.%d", n, bob, bob2.Device)
	}
	if len(n.SafetyNumber.Digits) != 60 || n.SafetyNumber.Digits == an.Digits {
		t.Fatalf("the notice's safety number %q should be new (was %q)", n.SafetyNumber.Digits, an.Digits)
	}
}

// When claims leave a device with few one-time prekeys, the server's
// keys_low push makes its Messenger upload more.
func TestKeysLowReplenishes(t *testing.T) {
	ctx := context.Background()
	s := startServer(t)
	aliceCreds, bobCreds := s.register(alicePhone, "alice"), s.register(bobPhone, "bob")
	run(t, bobCreds, sdk.Options{})
	bobClient := sdk.NewClient(*bobCreds)
	before, err := bobClient.KeyCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	claimer := sdk.NewClient(*aliceCreds)
	for range before.OneTimePreKeys - 5 {
		cl, err := claimer.ClaimBundle(ctx, bob, 0)
		if err != nil || cl.Bundles[bobCreds.Device] == nil || cl.Bundles[bobCreds.Device].PreKey == nil {
			t.Fatalf("claim = %+v, %v; want a bundle with a one-time prekey", cl, err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := bobClient.KeyCount(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.OneTimePreKeys >= 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bob has %d one-time prekeys on the server 10s after keys_low, want ≥ 100", c.OneTimePreKeys)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// What a malicious or broken server could do to a message — replay it,
// pass it off as another sender's, change its bytes — is caught: a replay
// is dropped, a forged sender never shows as a message, and a tampered
// ciphertext is recovered by asking the real sender again.
func TestTamperedForgedReplayed(t *testing.T) {
	ctx := context.Background()
	s := startServer(t)
	aliceCreds, bobCreds, carolCreds := s.register(alicePhone, "alice"), s.register(bobPhone, "bob"), s.register("+4915100000003", "carol")
	signalCipher(t, carolCreds)
	a := run(t, aliceCreds, sdk.Options{})
	b := run(t, bobCreds, sdk.Options{})
	id1 := a.send(bob, "first")
	m := b.message()
	ack(t, m)
	id2 := a.send(bob, "second")
	m2 := b.message()
	if m2.ID != id2 {
		t.Fatalf("got %s, want %s", m2.ID, id2)
	}
	items, err := s.m.Store().Fetch(ctx, bob, bobCreds.Device, 0, 10, time.Now())
	if err != nil || len(items) == 0 {
		t.Fatalf("bob's mailbox: %v %v", items, err)
	}
	body := items[len(items)-1].Body
	ack(t, m2)
	// Bob answers, so that alice's next messages are Whisper messages,
	// whose every byte but the version is authenticated.
	b.send(alice, "reply")
	if r := a.nextMessage(); r.Text != "reply" {
		t.Fatalf("alice got %q", r.Text)
	} else {
		ack(t, r)
	}
	b.close()

	inject := func(id, from string, body []byte) {
		t.Helper()
		d := &parley.Delivery{From: from, FromDevice: 1, MessageID: id, Timestamp: time.Now().UTC().Truncate(time.Millisecond),
			Items: []parley.Item{{Account: bob, Device: bobCreds.Device, Kind: parley.KindMessage, MessageID: id,
				From: from, FromDevice: 1, To: bob, Timestamp: time.Now(), Body: body}}}
		if err := s.m.Store().Deliver(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	inject("replayed-0000000000000000000001", alice, body)
	inject("forged-00000000000000000000001", carolCreds.Account, body)
	// A message sent while bob is offline is garbled in the database.
	id3 := a.send(bob, "third")
	db, err := sql.Open("sqlite", filepath.Join(s.dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stored []byte
	if err := db.QueryRowContext(ctx, `SELECT body FROM mailbox WHERE message_id = ?`, id3).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	stored[len(stored)-3] ^= 0x40
	if _, err := db.ExecContext(ctx, `UPDATE mailbox SET body = ? WHERE message_id = ?`, stored, id3); err != nil {
		t.Fatal(err)
	}

	b = run(t, bobCreds, sdk.Options{})
	var undecryptable []string
	deadline := time.After(10 * time.Second)
	for got := false; !got; {
		select {
		case ev := <-b.m.Events():
			switch e := ev.(type) {
			case *sdk.Undecryptable:
				undecryptable = append(undecryptable, e.MessageID)
			case *sdk.Message:
				if e.ID == "replayed-0000000000000000000001" {
					t.Fatalf("the replay was shown: %+v", e)
				}
				if e.From == carolCreds.Account && e.Err == nil {
					t.Fatalf("a forged message was shown as carol's: %q", e.Text)
				}
				if e.ID == id3 && e.Err == nil && e.Text == "third" {
					got = true // the tampered copy was replaced by the sender's resend
				}
				ack(t, e)
			}
		case <-deadline:
			t.Fatalf("the tampered message was not recovered; undecryptable: %v", undecryptable)
		}
	}
	if !slices.Contains(undecryptable, id3) {
		t.Errorf("undecryptable notices %v, want one for the tampered %s", undecryptable, id3)
	}
	if m.ID != id1 {
		t.Errorf("first message %s, want %s", m.ID, id1)
	}
}

package sdk_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/sdk"
)

// groupEvent returns the next group event, skipping everything else.
func (d *device) groupEvent() *sdk.GroupChanged {
	d.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-d.m.Events():
			if !ok {
				d.t.Fatalf("events closed")
			}
			if g, ok := ev.(*sdk.GroupChanged); ok {
				if g.Err != nil {
					d.t.Fatalf("group event: %v", g.Err)
				}
				ack(d.t, g)
				return g
			}
		case <-timeout:
			d.t.Fatalf("no group event within 10s")
		}
	}
}

// sharedText builds a group send whose copies all take one shared body,
// and records the device lists it was called with.
type sharedText struct {
	text  string
	calls []map[string][]uint32
}

func (s *sharedText) build(devs map[string][]uint32) ([]byte, []sdk.Copy, error) {
	s.calls = append(s.calls, devs)
	var cs []sdk.Copy
	for acct, ids := range devs {
		for _, id := range ids {
			cs = append(cs, sdk.Copy{Account: acct, Device: id})
		}
	}
	return sdk.TextPayload(s.text), cs, nil
}

func TestGroups(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	aliceC := s.register("+4915100000401", "alice")
	bobC := s.register("+4915100000402", "bob")
	carolC := s.register("+4915100000403", "carol")
	// The plumbing, with caller-built plaintext copies (TestEncryptedGroup
	// covers Sender Keys).
	plain := sdk.Options{Cipher: sdk.PlainCipher{}}
	alice, bob, carol := run(t, aliceC, plain), run(t, bobC, plain), run(t, carolC, plain)
	api := alice.m.Client()

	g, err := api.CreateGroup(ctx, "Book club", bobC.Account, "+"+carolC.Account)
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	if len(g.Members) != 3 || g.Members[0].Role != sdk.RoleAdmin || g.Version != 1 {
		t.Fatalf("created %+v", g)
	}
	for _, d := range []*device{alice, bob, carol} {
		if ev := d.groupEvent(); ev.Event.Action != sdk.GroupCreated || ev.Event.Group != g.ID || ev.Event.Name != "Book club" {
			t.Fatalf("created event %+v", ev)
		}
	}

	hello := &sharedText{text: "hello club"}
	r, err := alice.m.SendGroup(ctx, sdk.GroupOutgoing{Group: g.ID, Build: hello.build})
	if err != nil {
		t.Fatalf("SendGroup: %v", err)
	}
	for _, d := range []*device{bob, carol} {
		m := d.message()
		if m.Group != g.ID || m.Text != "hello club" || m.ID != r.MessageID || m.To != "" {
			t.Fatalf("group message %+v", m)
		}
		ack(t, m)
	}

	// Bob links a device: alice's cached lists are stale; SendGroup
	// rebuilds with the server's lists.
	bob2C := linkDevice(t, s, bobC, "tablet")
	signalCipher(t, bob2C) // publishes its keys: from now on it must get a copy
	bob2 := run(t, bob2C, plain)
	again := &sharedText{text: "second"}
	if _, err := alice.m.SendGroup(ctx, sdk.GroupOutgoing{Group: g.ID, Build: again.build}); err != nil {
		t.Fatalf("SendGroup after link: %v", err)
	}
	if len(again.calls) != 2 || !slices.Equal(again.calls[1][bobC.Account], []uint32{bobC.Device, bob2C.Device}) {
		t.Fatalf("Build calls %v, want a second with bob's new device", again.calls)
	}
	if m := bob2.message(); m.Text != "second" || m.Group != g.ID {
		t.Fatalf("bob's new device got %+v", m)
	}

	// Carol is removed and hears of it; the next send leaves her out.
	if err := api.RemoveGroupMember(ctx, g.ID, carolC.Account); err != nil {
		t.Fatalf("RemoveGroupMember: %v", err)
	}
	if ev := carol.groupEvent(); ev.Event.Action != sdk.GroupRemoved || !slices.Equal(ev.Event.Accounts, []string{carolC.Account}) {
		t.Fatalf("carol's removal %+v", ev)
	}
	alice.groupEvent() // the removal; it also drops alice's cached lists
	after := &sharedText{text: "without carol"}
	if _, err := alice.m.SendGroup(ctx, sdk.GroupOutgoing{Group: g.ID, Build: after.build}); err != nil {
		t.Fatalf("SendGroup after removal: %v", err)
	}
	if _, ok := after.calls[len(after.calls)-1][carolC.Account]; ok {
		t.Errorf("carol still addressed: %v", after.calls)
	}
	carol.none(300 * time.Millisecond)
	if _, err := carol.m.Client().Group(ctx, g.ID); sdk.ErrorCode(err) != sdk.CodeNotFound {
		t.Errorf("carol reads the group: %v", err)
	}

	// Invite links.
	code, err := api.CreateGroupInvite(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := carol.m.Client().PreviewGroupInvite(ctx, code)
	if err != nil || p.Name != "Book club" || p.Members != 2 {
		t.Fatalf("preview %+v, %v", p, err)
	}
	if g, err = carol.m.Client().JoinGroup(ctx, code); err != nil || len(g.Members) != 3 {
		t.Fatalf("join %+v, %v", g, err)
	}
	if err := api.RevokeGroupInvite(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	dave := sdk.NewClient(*s.register("+4915100000404", "dave"))
	if _, err := dave.JoinGroup(ctx, code); sdk.ErrorCode(err) != sdk.CodeNotFound {
		t.Errorf("join with a revoked code: %v", err)
	}

	// Roles and names; leaving.
	if g, err = api.SetGroupAdmin(ctx, g.ID, bobC.Account, true); err != nil || g.Members[1].Role != sdk.RoleAdmin {
		t.Fatalf("promote: %+v, %v", g, err)
	}
	if g, err = bob.m.Client().RenameGroup(ctx, g.ID, "Reading club"); err != nil || g.Name != "Reading club" {
		t.Fatalf("rename: %+v, %v", g, err)
	}
	if err := api.LeaveGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if gs, err := api.Groups(ctx); err != nil || len(gs) != 0 {
		t.Errorf("alice's groups after leaving: %+v, %v", gs, err)
	}
	if gs, err := bob.m.Client().Groups(ctx); err != nil || len(gs) != 1 || gs[0].Name != "Reading club" {
		t.Errorf("bob's groups: %+v, %v", gs, err)
	}
}

// groupMessage returns the next message, acknowledging receipts and group
// events before it.
func (d *device) groupMessage() *sdk.Message {
	d.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-d.m.Events():
			switch e := ev.(type) {
			case *sdk.Message:
				return e
			case *sdk.Receipt:
				ack(d.t, e)
			case *sdk.GroupChanged:
				ack(d.t, e)
			}
		case <-timeout:
			d.t.Fatalf("no message within 10s")
		}
	}
}

// Group messages are end-to-end encrypted with Sender Keys: distributed
// over 1:1 sessions to each device that lacks them, then one ciphertext
// for all; rotated when a member leaves; recovered by retry when a device
// lost the key.
func TestEncryptedGroup(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	aliceC, bobC, carolC := s.register("+4915100000501", "alice"), s.register("+4915100000502", "bob"), s.register("+4915100000503", "carol")
	aliceCipher := signalCipher(t, aliceC)
	alice := run(t, aliceC, sdk.Options{Cipher: aliceCipher})
	bob, carol := run(t, bobC, sdk.Options{}), run(t, carolC, sdk.Options{})
	g, err := alice.m.Client().CreateGroup(ctx, "Secret club", bobC.Account, carolC.Account)
	if err != nil {
		t.Fatal(err)
	}
	// bodyOf returns the stored body of a message in a device's mailbox.
	bodyOf := func(c *sdk.Credentials, id string) []byte {
		items, err := s.m.Store().Fetch(ctx, c.Account, c.Device, 0, 100, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.MessageID == id {
				return it.Body
			}
		}
		t.Fatalf("message %s not in the mailbox of %s.%d", id, c.Account, c.Device)
		return nil
	}
	const senderKeyType = 4 // crypto.TypeSenderKey, the second byte of a ciphertext

	expect := func(id, text string, devs ...*device) {
		t.Helper()
		for _, d := range devs {
			m := d.groupMessage()
			if m.ID != id || m.Group != g.ID || m.Text != text || m.Err != nil {
				t.Fatalf("got %s %q in %s (err %v), want %s %q", m.ID, m.Text, m.Group, m.Err, id, text)
			}
			ack(t, m)
		}
	}
	id1, err := alice.m.SendGroupText(ctx, g.ID, "first: the key travels with it")
	if err != nil {
		t.Fatal(err)
	}
	if b := bodyOf(bobC, id1); b[1] == senderKeyType {
		t.Fatalf("the first message to bob is a bare Sender Key message; he has no key yet")
	}
	expect(id1, "first: the key travels with it", bob, carol)
	id2, err := alice.m.SendGroupText(ctx, g.ID, "second: one ciphertext for all")
	if err != nil {
		t.Fatal(err)
	}
	if b := bodyOf(bobC, id2); b[1] != senderKeyType || !bytes.Equal(b, bodyOf(carolC, id2)) {
		t.Fatalf("the second message is not one shared Sender Key ciphertext")
	}
	expect(id2, "second: one ciphertext for all", bob, carol)
	id3, err := bob.m.SendGroupText(ctx, g.ID, "bob's own sender key")
	if err != nil {
		t.Fatal(err)
	}
	expect(id3, "bob's own sender key", alice, carol)

	// Bob links a device: alice's next message gives it her key.
	bob2C := linkDevice(t, s, bobC, "bob-tablet")
	bob2Cipher := signalCipher(t, bob2C)
	bob2 := run(t, bob2C, sdk.Options{Cipher: bob2Cipher})
	id4, err := alice.m.SendGroupText(ctx, g.ID, "hello bob's tablet")
	if err != nil {
		t.Fatal(err)
	}
	expect(id4, "hello bob's tablet", bob, bob2, carol)

	// Carol is removed: alice's next message uses a new key, which carol
	// never gets.
	if err := alice.m.Client().RemoveGroupMember(ctx, g.ID, carolC.Account); err != nil {
		t.Fatal(err)
	}
	id5, err := alice.m.SendGroupText(ctx, g.ID, "after carol left")
	if err != nil {
		t.Fatal(err)
	}
	if b := bodyOf(bobC, id5); b[1] == senderKeyType {
		t.Fatalf("after a removal bob got a bare Sender Key message: the key was not rotated")
	}
	expect(id5, "after carol left", bob, bob2)
	carol.none(300 * time.Millisecond)

	// Bob's tablet loses alice's sender key: it asks for the message
	// again and gets it.
	if err := bob2Cipher.LeftGroup(ctx, g.ID, []string{aliceC.Account}); err != nil {
		t.Fatal(err)
	}
	id6, err := alice.m.SendGroupText(ctx, g.ID, "recovered")
	if err != nil {
		t.Fatal(err)
	}
	expect(id6, "recovered", bob, bob2)
	bob2.none(300 * time.Millisecond)
}

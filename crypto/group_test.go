package crypto_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parley-chat/parley/crypto"
)

// distribute sends d's sender key distribution for the group to each
// member over their 1:1 sessions, as the SDK will.
func distribute(t *testing.T, d *crypto.Device, groupID string, dist []byte, members ...*crypto.Device) {
	t.Helper()
	ctx := context.Background()
	for _, m := range members {
		ct, err := d.Encrypt(ctx, m.Address(), dist)
		if err != nil {
			t.Fatalf("Encrypt distribution to %s: %v", m.Address(), err)
		}
		got, err := m.Decrypt(ctx, d.Address(), ct)
		if err != nil {
			t.Fatalf("Decrypt distribution at %s: %v", m.Address(), err)
		}
		g, err := m.ProcessGroupKey(ctx, d.Address(), got)
		if err != nil {
			t.Fatalf("%s ProcessGroupKey from %s: %v", m.Address(), d.Address(), err)
		}
		if g != groupID {
			t.Fatalf("ProcessGroupKey group = %q, want %q", g, groupID)
		}
	}
}

func groupSend(t *testing.T, from *crypto.Device, groupID, msg string, to ...*crypto.Device) crypto.Ciphertext {
	t.Helper()
	ctx := context.Background()
	ct, err := from.GroupEncrypt(ctx, groupID, []byte(msg))
	if err != nil {
		t.Fatalf("%s GroupEncrypt: %v", from.Address(), err)
	}
	wire, err := crypto.DecodeCiphertext(ct.Encode())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range to {
		got, err := m.GroupDecrypt(ctx, groupID, from.Address(), wire)
		if err != nil {
			t.Fatalf("%s GroupDecrypt from %s: %v", m.Address(), from.Address(), err)
		}
		if string(got) != msg {
			t.Fatalf("%s GroupDecrypt = %q, want %q", m.Address(), got, msg)
		}
	}
	return ct
}

func others(all []*crypto.Device, d *crypto.Device) []*crypto.Device {
	var out []*crypto.Device
	for _, o := range all {
		if o != d {
			out = append(out, o)
		}
	}
	return out
}

func TestGroupSenderKeys(t *testing.T) {
	ctx := context.Background()
	const g = "group-0194f2"
	dir := newDirectory()
	alice := newDevice(t, dir, "alice", 1)
	bob := newDevice(t, dir, "bob", 1)
	carol := newDevice(t, dir, "carol", 1)
	all := []*crypto.Device{alice, bob, carol}

	if _, err := alice.GroupEncrypt(ctx, g, []byte("too early")); !isKind(err, crypto.ErrNoSenderKey) {
		t.Fatalf("GroupEncrypt before GroupKey: %v, want ErrNoSenderKey", err)
	}
	for _, d := range all {
		dist, err := d.GroupKey(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := d.GroupKey(ctx, g)
		if string(again) != string(dist) {
			t.Fatal("GroupKey is not stable before any message")
		}
		distribute(t, d, g, dist, others(all, d)...)
	}
	var kept crypto.Ciphertext
	for round := range 10 {
		for _, d := range all {
			ct := groupSend(t, d, g, fmt.Sprintf("%d from %s", round, d.Address()), others(all, d)...)
			if d == alice && round == 9 {
				kept = ct
			}
		}
	}

	t.Run("replay", func(t *testing.T) {
		_, err := bob.GroupDecrypt(ctx, g, alice.Address(), kept)
		wantKind(t, err, crypto.ErrDuplicate)
	})
	t.Run("tampered", func(t *testing.T) {
		ct, _ := alice.GroupEncrypt(ctx, g, []byte("sign me"))
		for _, i := range []int{3, len(ct.Body) / 2, len(ct.Body) - 1} {
			bad := crypto.Ciphertext{Type: ct.Type, Body: append([]byte(nil), ct.Body...)}
			bad.Body[i] ^= 1
			if _, err := bob.GroupDecrypt(ctx, g, alice.Address(), bad); err == nil {
				t.Fatalf("tampered byte %d accepted", i)
			}
		}
		got, err := bob.GroupDecrypt(ctx, g, alice.Address(), ct)
		if err != nil || string(got) != "sign me" {
			t.Fatalf("genuine message after tampered copies: %q, %v", got, err)
		}
	})
	t.Run("forged_sender", func(t *testing.T) {
		ct, _ := alice.GroupEncrypt(ctx, g, []byte("from alice"))
		_, err := bob.GroupDecrypt(ctx, g, carol.Address(), ct)
		if err == nil {
			t.Fatal("alice's message accepted as carol's")
		}
		_, err = bob.GroupDecrypt(ctx, "other-group", alice.Address(), ct)
		wantKind(t, err, crypto.ErrNoSenderKey)
		if _, err := bob.GroupDecrypt(ctx, g, alice.Address(), ct); err != nil {
			t.Fatal(err)
		}
		if _, err := carol.GroupDecrypt(ctx, g, alice.Address(), ct); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("distribution_processed_twice", func(t *testing.T) {
		dist, _ := alice.GroupKey(ctx, g)
		if _, err := bob.ProcessGroupKey(ctx, alice.Address(), dist); err != nil {
			t.Fatal(err)
		}
		// A second copy must not restart the chain: old messages stay
		// replays.
		_, err := bob.GroupDecrypt(ctx, g, alice.Address(), kept)
		wantKind(t, err, crypto.ErrDuplicate)
	})
	t.Run("own_distribution_rejected", func(t *testing.T) {
		dist, _ := alice.GroupKey(ctx, g)
		_, err := alice.ProcessGroupKey(ctx, alice.Address(), dist)
		wantKind(t, err, crypto.ErrMalformed)
	})

	// Carol is removed: alice and bob rotate, tell only each other, and
	// drop carol's key.
	groupSend(t, alice, g, "before removal", bob, carol)
	for _, d := range []*crypto.Device{alice, bob} {
		dist, err := d.RotateGroupKey(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		distribute(t, d, g, dist, others([]*crypto.Device{alice, bob}, d)...)
		if err := d.ForgetGroupMember(ctx, g, carol.Address()); err != nil {
			t.Fatal(err)
		}
	}
	after := groupSend(t, alice, g, "after removal", bob)
	groupSend(t, bob, g, "bob after removal", alice)
	if _, err := carol.GroupDecrypt(ctx, g, alice.Address(), after); !isKind(err, crypto.ErrNoSenderKey) {
		t.Fatalf("removed member decrypting a new message: %v, want ErrNoSenderKey", err)
	}
	bobs, _ := bob.GroupEncrypt(ctx, g, []byte("bob again"))
	if _, err := carol.GroupDecrypt(ctx, g, bob.Address(), bobs); !isKind(err, crypto.ErrNoSenderKey) {
		t.Fatalf("removed member decrypting bob's new message: %v, want ErrNoSenderKey", err)
	}
	// Carol's own messages are no longer accepted by the others.
	cm, err := carol.GroupEncrypt(ctx, g, []byte("still here?"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.GroupDecrypt(ctx, g, carol.Address(), cm); !isKind(err, crypto.ErrNoSenderKey) {
		t.Fatalf("message from removed member: %v, want ErrNoSenderKey", err)
	}

	if err := alice.ForgetGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.GroupEncrypt(ctx, g, []byte("x")); !isKind(err, crypto.ErrNoSenderKey) {
		t.Fatalf("GroupEncrypt after ForgetGroup: %v, want ErrNoSenderKey", err)
	}
}

func TestGroupMultiDevice(t *testing.T) {
	ctx := context.Background()
	const g = "g2"
	dir := newDirectory()
	devs := []*crypto.Device{
		newDevice(t, dir, "alice", 1), newDevice(t, dir, "alice", 2),
		newDevice(t, dir, "bob", 1), newDevice(t, dir, "bob", 2),
	}
	for _, d := range devs {
		dist, err := d.GroupKey(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		distribute(t, d, g, dist, others(devs, d)...)
	}
	for i := range 5 {
		for _, d := range devs {
			groupSend(t, d, g, fmt.Sprint(i, d.Address()), others(devs, d)...)
		}
	}
}

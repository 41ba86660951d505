package crypto_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/parley-chat/parley/crypto"
)

// reload marshals d and restores it, as the SDK does across restarts.
func reload(t *testing.T, d *crypto.Device, dir *directory) *crypto.Device {
	t.Helper()
	b, err := d.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	r, err := crypto.Unmarshal(b, crypto.Options{Bundles: dir})
	if err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if r.Address() != d.Address() || r.IdentityKey() != d.IdentityKey() || r.RegistrationID() != d.RegistrationID() {
		t.Fatal("restored device differs in address, identity or registration id")
	}
	again, err := r.Marshal()
	if err != nil || string(again) != string(b) {
		t.Fatalf("Marshal after Unmarshal differs (%v)", err)
	}
	return r
}

func TestMarshalMidConversation(t *testing.T) {
	ctx := context.Background()
	const g = "g"
	dir := newDirectory()
	alice := newDevice(t, dir, "alice", 1)
	bob := newDevice(t, dir, "bob", 1)
	carol := newDevice(t, dir, "carol", 1)

	first := encrypt(t, alice, bob, "first")
	alice = reload(t, alice, dir)
	bob = reload(t, bob, dir)
	decrypt(t, bob, alice, first, "first")
	bob = reload(t, bob, dir)
	if _, err := bob.Decrypt(ctx, alice.Address(), first); !errors.Is(err, crypto.ErrDuplicate) {
		t.Fatalf("PreKey message replayed after restore: %v, want ErrDuplicate", err)
	}
	roundTrip(t, bob, alice, "reply")

	// Skipped message keys survive a restore.
	var pending []crypto.Ciphertext
	for i := range 5 {
		pending = append(pending, encrypt(t, alice, bob, fmt.Sprint("p", i)))
	}
	decrypt(t, bob, alice, pending[4], "p4")
	alice, bob = reload(t, alice, dir), reload(t, bob, dir)
	for i := 3; i >= 0; i-- {
		decrypt(t, bob, alice, pending[i], fmt.Sprint("p", i))
	}
	for i := range 10 {
		roundTrip(t, alice, bob, fmt.Sprint("a", i))
		roundTrip(t, bob, alice, fmt.Sprint("b", i))
		if i%3 == 0 {
			alice, bob = reload(t, alice, dir), reload(t, bob, dir)
		}
	}

	// Groups, identities and sender keys survive too.
	devs := []*crypto.Device{alice, bob, carol}
	for _, d := range devs {
		dist, err := d.GroupKey(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		distribute(t, d, g, dist, others(devs, d)...)
	}
	groupSend(t, alice, g, "g1", bob, carol)
	alice, bob, carol = reload(t, alice, dir), reload(t, bob, dir), reload(t, carol, dir)
	devs = []*crypto.Device{alice, bob, carol}
	for _, d := range devs {
		groupSend(t, d, g, "after restore from "+d.Address().String(), others(devs, d)...)
	}
	sa, _ := alice.SafetyNumber(bob.Address())
	sb, _ := bob.SafetyNumber(alice.Address())
	if sa.Digits != sb.Digits {
		t.Fatal("safety numbers differ after restore")
	}
	if !alice.HasSession(bob.Address()) || alice.PreKeyCount() != 10 {
		t.Fatalf("restored alice: session=%v prekeys=%d", alice.HasSession(bob.Address()), alice.PreKeyCount())
	}
}

func TestUnmarshalRejectsBadState(t *testing.T) {
	d, err := crypto.NewDevice(addr("alice", 1), crypto.Options{})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := crypto.NewDevice(addr("alice", 1), crypto.Options{})
	good, _ := d.Marshal()
	otherState, _ := other.Marshal()
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not_json", []byte("x")},
		{"wrong_version", []byte(`{"v":2}`)},
		{"no_account", []byte(`{"v":1,"device":1}`)},
		{"mixed_identity", spliceJSON(t, good, otherState, "identity_private")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := crypto.Unmarshal(tt.data, crypto.Options{}); !errors.Is(err, crypto.ErrMalformed) {
				t.Fatalf("Unmarshal = %v, want ErrMalformed", err)
			}
		})
	}
}

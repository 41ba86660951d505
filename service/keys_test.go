package service_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

// lowKeys records KeysLow calls.
type lowKeys struct {
	changed []string // DevicesChanged calls
	mu      sync.Mutex
	calls   []string
}

func (l *lowKeys) KeysLow(account string, device uint32, remaining int) {
	l.mu.Lock()
	l.calls = append(l.calls, fmt.Sprintf("%s:%d", parley.DeviceAddress(account, device), remaining))
	l.mu.Unlock()
}

func (l *lowKeys) DevicesChanged(account string) {
	l.mu.Lock()
	l.changed = append(l.changed, account)
	l.mu.Unlock()
}

func (l *lowKeys) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.calls
	l.calls = nil
	return c
}

func key(tag byte, n uint32) []byte {
	k := make([]byte, parley.PublicKeySize)
	k[0], k[1], k[2] = parley.KeyTypeDJB, tag, byte(n)
	return k
}

func spk(id uint32) parley.SignedPrekey {
	return parley.SignedPrekey{ID: id, PublicKey: key('s', id), Signature: bytes.Repeat([]byte{1}, parley.SignatureSize)}
}

func otps(from, to uint32) []parley.OneTimePrekey {
	var ps []parley.OneTimePrekey
	for id := from; id < to; id++ {
		ps = append(ps, parley.OneTimePrekey{ID: id, PublicKey: key('o', id)})
	}
	return ps
}

func setupKeys(t *testing.T) (*fixture, *service.Keys, *lowKeys) {
	f := setup(t, service.Limits{})
	low := &lowKeys{}
	return f, service.NewKeys(f.store, low, f.clock, quiet()), low
}

func upload(t *testing.T, k *service.Keys, d *parley.Device, n uint32) {
	t.Helper()
	if _, err := k.Upload(context.Background(), d, key('i', d.ID), 7, spk(1), otps(1, 1+n)); err != nil {
		t.Fatalf("Upload(%s): %v", d.Address(), err)
	}
}

func TestKeysUploadRejectsBadShapes(t *testing.T) {
	f := setup(t, service.Limits{})
	keys := service.NewKeys(f.store, nil, f.clock, quiet()) // a nil notifier is allowed
	d := f.register(t, "+4915190000001").Device
	short := key('x', 1)[:32]
	badType := key('x', 1)
	badType[0] = 0x06
	tests := []struct {
		name     string
		identity []byte
		spk      func(*parley.SignedPrekey)
		otps     []parley.OneTimePrekey
		code     string
	}{
		{"IdentityShort", short, nil, nil, parley.EINVALID},
		{"IdentityMissing", nil, nil, nil, parley.EINVALID},
		{"IdentityType", badType, nil, nil, parley.EINVALID},
		{"SignedKeyShort", nil, func(k *parley.SignedPrekey) { k.PublicKey = short }, nil, parley.EINVALID},
		{"SignedKeyType", nil, func(k *parley.SignedPrekey) { k.PublicKey = badType }, nil, parley.EINVALID},
		{"SignatureShort", nil, func(k *parley.SignedPrekey) { k.Signature = k.Signature[:63] }, nil, parley.EINVALID},
		{"SignatureMissing", nil, func(k *parley.SignedPrekey) { k.Signature = nil }, nil, parley.EINVALID},
		{"PrekeyShort", nil, nil, []parley.OneTimePrekey{{ID: 1, PublicKey: short}}, parley.EINVALID},
		{"PrekeyType", nil, nil, []parley.OneTimePrekey{{ID: 1, PublicKey: badType}}, parley.EINVALID},
		{"TooManyPrekeys", nil, nil, otps(0, parley.MaxOneTimePrekeys+1), parley.ETOOLARGE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.identity
			if id == nil && tt.name != "IdentityMissing" {
				id = key('i', 1)
			}
			k := spk(1)
			if tt.spk != nil {
				tt.spk(&k)
			}
			_, err := keys.Upload(context.Background(), d, id, 1, k, tt.otps)
			if got := parley.ErrorCode(err); got != tt.code || parley.ErrorMessage(err) == "" {
				t.Errorf("Upload = %v (code %q), want code %q with a message", err, got, tt.code)
			}
		})
	}
	// Nothing was stored by the refused uploads.
	_, err := keys.Status(context.Background(), d)
	wantCode(t, err, parley.ENOTFOUND)
}

func TestKeysClaim(t *testing.T) {
	ctx := context.Background()
	f, keys, low := setupKeys(t)
	alice := f.register(t, "+4915190000011").Device
	alice2 := f.register(t, "+4915190000011").Device
	alice3 := f.register(t, "+4915190000011").Device
	bob := f.register(t, "+4915190000012").Device
	bob2 := f.register(t, "+4915190000012").Device
	upload(t, keys, alice, 3)
	upload(t, keys, alice3, 3)
	upload(t, keys, bob, 11)
	upload(t, keys, bob2, 0)

	c, err := keys.Claim(ctx, alice, bob.Account, 0)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if len(c.Bundles) != 2 || c.Bundles[0].Device != bob.ID || c.Bundles[1].Device != bob2.ID || len(c.Missing) != 0 {
		t.Fatalf("claim of bob = %+v, want bundles for devices 1 and 2, none missing", c)
	}
	if b := c.Bundles[0]; b.OneTimePrekey == nil || b.OneTimePrekey.ID != 1 || !bytes.Equal(b.IdentityKey, key('i', bob.ID)) || b.RegistrationID != 7 {
		t.Errorf("bob's first bundle = %+v, want his identity, registration id 7 and prekey 1", b)
	}
	if c.Bundles[1].OneTimePrekey != nil {
		t.Errorf("bundle of a device without prekeys = %+v, want none (and still a bundle)", c.Bundles[1])
	}
	// bob has 10 left (not low); bob2 has none (low).
	if got := low.take(); !slices.Equal(got, []string{bob2.Address() + ":0"}) {
		t.Errorf("KeysLow calls = %v, want only %s with 0", got, bob2.Address())
	}
	c, _ = keys.Claim(ctx, alice, bob.Account, bob.ID)
	if len(c.Bundles) != 1 || c.Bundles[0].Device != bob.ID || c.Bundles[0].OneTimePrekey.ID != 2 {
		t.Fatalf("claim of bob's device 1 = %+v, want its bundle with prekey 2", c)
	}
	if got := low.take(); !slices.Equal(got, []string{bob.Address() + ":9"}) {
		t.Errorf("KeysLow calls = %v, want %s with 9", got, bob.Address())
	}

	// The own account: never the caller itself; devices without keys are missing.
	c, err = keys.Claim(ctx, alice, alice.Account, 0)
	if err != nil {
		t.Fatalf("Claim own account: %v", err)
	}
	if len(c.Bundles) != 1 || c.Bundles[0].Device != alice3.ID || !slices.Equal(c.Missing, []uint32{alice2.ID}) {
		t.Errorf("claim of the own account = %+v, want a bundle for device %d and device %d missing", c, alice3.ID, alice2.ID)
	}
	if st, _ := keys.Status(ctx, alice); st.OneTimePrekeys != 3 {
		t.Errorf("the caller's own pool has %d, want 3 (untouched)", st.OneTimePrekeys)
	}

	tests := []struct {
		name    string
		account string
		device  uint32
		code    string
	}{
		{"UnknownAccount", "4915190000019", 0, parley.ENOTFOUND},
		{"UnknownDevice", bob.Account, 9, parley.ENOTFOUND},
		{"BadAccount", "+49151", 0, parley.EINVALID},
		{"Self", alice.Account, alice.ID, parley.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keys.Claim(ctx, alice, tt.account, tt.device)
			wantCode(t, err, tt.code)
		})
	}

	// An unlinked device's keys are gone and it is no longer listed.
	if err := f.acc.Revoke(ctx, bob, bob2.ID); err != nil {
		t.Fatal(err)
	}
	c, _ = keys.Claim(ctx, alice, bob.Account, 0)
	if len(c.Bundles) != 1 || c.Bundles[0].Device != bob.ID || len(c.Missing) != 0 {
		t.Errorf("claim after unlinking bob's device 2 = %+v, want only device 1", c)
	}
	_, err = keys.Claim(ctx, alice, bob.Account, bob2.ID)
	wantCode(t, err, parley.ENOTFOUND)
}

func TestKeysClaimRateLimit(t *testing.T) {
	ctx := context.Background()
	f, keys, _ := setupKeys(t)
	keys.ClaimsPerHour = 3
	alice := f.register(t, "+4915190000021").Device
	alice2 := f.register(t, "+4915190000021").Device
	bob := f.register(t, "+4915190000022").Device
	upload(t, keys, bob, 20)
	for i := range 3 {
		if _, err := keys.Claim(ctx, alice, bob.Account, 0); err != nil {
			t.Fatalf("claim %d: %v", i+1, err)
		}
	}
	_, err := keys.Claim(ctx, alice, bob.Account, 0)
	wantCode(t, err, parley.ERATELIMIT)
	// The limit is per claiming device.
	if _, err := keys.Claim(ctx, alice2, bob.Account, 0); err != nil {
		t.Fatalf("claim by another device: %v", err)
	}
	f.clock.Add(time.Hour)
	if _, err := keys.Claim(ctx, alice, bob.Account, 0); err != nil {
		t.Fatalf("claim an hour later: %v", err)
	}
}

func TestKeysStatusAndRotation(t *testing.T) {
	ctx := context.Background()
	f, keys, _ := setupKeys(t)
	d := f.register(t, "+4915190000031").Device
	_, err := keys.Status(ctx, d)
	wantCode(t, err, parley.ENOTFOUND)
	_, err = keys.AddPrekeys(ctx, d, otps(1, 3))
	wantCode(t, err, parley.ENOTFOUND)
	_, err = keys.RotateSignedPrekey(ctx, d, spk(2))
	wantCode(t, err, parley.ENOTFOUND)

	st, err := keys.Upload(ctx, d, key('i', 1), 7, spk(1), otps(1, 6))
	if err != nil {
		t.Fatal(err)
	}
	if *st != (service.KeyCount{OneTimePrekeys: 5}) {
		t.Errorf("status after upload = %+v, want 5 prekeys, age 0, no rotation", *st)
	}
	st, err = keys.AddPrekeys(ctx, d, otps(4, 9))
	if err != nil || st.OneTimePrekeys != 8 {
		t.Fatalf("AddPrekeys = %+v, %v; want 8 (duplicates ignored)", st, err)
	}
	_, err = keys.AddPrekeys(ctx, d, nil)
	wantCode(t, err, parley.EINVALID)
	_, err = keys.AddPrekeys(ctx, d, otps(100, 100+parley.MaxOneTimePrekeys-7))
	wantCode(t, err, parley.ETOOLARGE)

	f.clock.Add(29 * 24 * time.Hour)
	if st, _ := keys.Status(ctx, d); st.Rotate || st.SignedPrekeyAge != 29*24*time.Hour {
		t.Errorf("status after 29 days = %+v, want age 29 days, no rotation", *st)
	}
	// Uploading the same keys again does not reset the signed prekey's age.
	if _, err := keys.Upload(ctx, d, key('i', 1), 7, spk(1), nil); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(24 * time.Hour)
	if st, _ := keys.Status(ctx, d); !st.Rotate {
		t.Errorf("status after 30 days = %+v, want rotation due", *st)
	}
	st, err = keys.RotateSignedPrekey(ctx, d, spk(2))
	if err != nil || st.Rotate || st.SignedPrekeyAge != 0 {
		t.Errorf("status after rotation = %+v, %v; want fresh", st, err)
	}
	bad := spk(3)
	bad.Signature = nil
	_, err = keys.RotateSignedPrekey(ctx, d, bad)
	wantCode(t, err, parley.EINVALID)

	// A new identity needs a new device.
	_, err = keys.Upload(ctx, d, key('i', 2), 7, spk(4), nil)
	wantCode(t, err, parley.ECONFLICT)
}

// A device that has not published keys may be left out of a send (nobody
// can encrypt to it), but one that has must get a copy; publishing keys
// announces a device change so that cached lists are dropped.
func TestSendSkipsDevicesWithoutKeys(t *testing.T) {
	ctx := context.Background()
	f, keys, low := setupKeys(t)
	alice := f.register(t, "+4915190000031").Device
	bob := f.register(t, "+4915190000032").Device
	bob2 := f.register(t, "+4915190000032").Device
	B := bob.Account
	send := func(id string, devs ...uint32) error {
		env := &parley.Envelope{To: B, ClientID: id}
		for _, d := range devs {
			env.Copies = append(env.Copies, parley.Copy{Account: B, Device: d, Body: []byte("x")})
		}
		_, err := f.msg.Send(ctx, alice, env)
		return err
	}
	// No device has keys: any subset of the active devices is accepted.
	if err := send("c1", bob.ID); err != nil {
		t.Fatalf("send to one of two keyless devices: %v", err)
	}
	if err := send("c2", bob.ID, bob2.ID); err != nil {
		t.Fatalf("send to both keyless devices: %v", err)
	}
	upload(t, keys, bob2, 3)
	if got := low.changed; len(got) != 1 || got[0] != B {
		t.Fatalf("DevicesChanged calls = %v, want [%s]", got, B)
	}
	f.msg.DevicesChanged(B) // what the hub does for the notification
	err := send("c3", bob.ID)
	wantCode(t, err, parley.ESTALE)
	if e := err.(*parley.Error); len(e.Devices[B]) != 2 {
		t.Fatalf("stale lists = %v, want both of %s's devices (all active ones)", e.Devices, B)
	}
	if err := send("c4", bob2.ID); err != nil {
		t.Fatalf("send to the keyed device only: %v", err)
	}
	wantCode(t, send("c5", bob2.ID, bob2.ID), parley.ESTALE) // a device twice
	wantCode(t, send("c6", bob2.ID, 9), parley.ESTALE)       // not a device of B
}

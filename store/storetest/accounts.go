package storetest

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func testAccounts(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("EnsureCreatesOnce", func(t *testing.T) {
		s := open(t)
		id := newPhone()
		a, created, err := s.EnsureAccount(ctxT(t), id, t0)
		if err != nil || !created {
			t.Fatalf("EnsureAccount = %v, created=%v; want created", err, created)
		}
		want := parley.Account{ID: id, Presence: parley.PresenceEveryone, CreatedAt: at(0)}
		if *a != want {
			t.Errorf("created account = %+v, want %+v", *a, want)
		}
		a, created, err = s.EnsureAccount(ctxT(t), id, t0.Add(time.Hour))
		if err != nil || created {
			t.Fatalf("second EnsureAccount = %v, created=%v; want existing", err, created)
		}
		if *a != want {
			t.Errorf("existing account = %+v, want %+v", *a, want)
		}
		if a.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt location = %v, want UTC", a.CreatedAt.Location())
		}
	})
	t.Run("Update", func(t *testing.T) {
		s := open(t)
		id := mustAccount(t, s)
		upd := parley.Account{ID: id, Name: "Ada", Presence: parley.PresenceNobody, CreatedAt: t0.Add(time.Hour)}
		if err := s.UpdateAccount(ctxT(t), &upd); err != nil {
			t.Fatalf("UpdateAccount: %v", err)
		}
		got, err := s.Account(ctxT(t), id)
		if err != nil {
			t.Fatalf("Account: %v", err)
		}
		want := parley.Account{ID: id, Name: "Ada", Presence: parley.PresenceNobody, CreatedAt: at(0)}
		if *got != want {
			t.Errorf("Account = %+v, want %+v (CreatedAt is not updated)", *got, want)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		s := open(t)
		existing := mustAccount(t, s)
		dev := mustDevice(t, s, existing)
		tests := []struct {
			name string
			call func(ctx context.Context) error
		}{
			{"Account", func(ctx context.Context) error { _, err := s.Account(ctx, newPhone()); return err }},
			{"UpdateAccount", func(ctx context.Context) error {
				return s.UpdateAccount(ctx, &parley.Account{ID: newPhone(), Presence: parley.PresenceEveryone})
			}},
			{"CreateDevice", func(ctx context.Context) error { return s.CreateDevice(ctx, &parley.Device{Account: newPhone()}) }},
			{"DeviceOfUnknownAccount", func(ctx context.Context) error { _, err := s.Device(ctx, newPhone(), 1); return err }},
			{"UnknownDevice", func(ctx context.Context) error { _, err := s.Device(ctx, existing, dev+1); return err }},
			{"RevokeDevice", func(ctx context.Context) error { return s.RevokeDevice(ctx, existing, dev+1, t0) }},
			{"TouchDevice", func(ctx context.Context) error { return s.TouchDevice(ctx, existing, dev+1, t0, t0) }},
			{"Code", func(ctx context.Context) error { _, err := s.Code(ctx, newPhone()); return err }},
			{"RecordAttempt", func(ctx context.Context) error { _, err := s.RecordAttempt(ctx, newPhone(), t0); return err }},
			{"DeleteCode", func(ctx context.Context) error { return s.DeleteCode(ctx, newPhone()) }},
			{"LastSMS", func(ctx context.Context) error { _, _, err := s.LastSMS(ctx, newPhone()); return err }},
			{"SetOnline", func(ctx context.Context) error { return s.SetOnline(ctx, existing, dev+1, "n1", t0) }},
			{"SetOffline", func(ctx context.Context) error { return s.SetOffline(ctx, existing, dev+1, "n1", t0) }},
			{"Presence", func(ctx context.Context) error { _, _, err := s.Presence(ctx, newPhone(), t0); return err }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				wantCode(t, tt.name, tt.call(ctxT(t)), parley.ENOTFOUND)
			})
		}
	})
}

func testDevices(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("CreateAndRead", func(t *testing.T) {
		s := open(t)
		acc := mustAccount(t, s)
		d := &parley.Device{Account: acc, Name: "laptop", Platform: "web", CreatedAt: t0, LastSeenAt: t0.Add(time.Minute),
			ExpiresAt: t0.Add(24 * time.Hour), TokenHash: bytes.Repeat([]byte{0xab}, 32)}
		if err := s.CreateDevice(ctxT(t), d); err != nil {
			t.Fatalf("CreateDevice: %v", err)
		}
		if d.ID != 1 {
			t.Errorf("first device id = %d, want 1", d.ID)
		}
		got, err := s.Device(ctxT(t), acc, d.ID)
		if err != nil {
			t.Fatalf("Device: %v", err)
		}
		want := parley.Device{Account: acc, ID: 1, Name: "laptop", Platform: "web", CreatedAt: at(0), LastSeenAt: at(time.Minute),
			ExpiresAt: at(24 * time.Hour), TokenHash: d.TokenHash}
		if !equalDevice(*got, want) {
			t.Errorf("Device = %+v, want %+v", *got, want)
		}
		// A device without a token hash reads back with a nil one.
		d2 := &parley.Device{Account: acc, CreatedAt: t0}
		if err := s.CreateDevice(ctxT(t), d2); err != nil {
			t.Fatalf("CreateDevice: %v", err)
		}
		got, err = s.Device(ctxT(t), acc, d2.ID)
		if err != nil {
			t.Fatalf("Device: %v", err)
		}
		if got.TokenHash != nil || !got.RevokedAt.IsZero() || !got.ExpiresAt.IsZero() {
			t.Errorf("empty device = %+v, want nil hash and zero times", *got)
		}
	})
	t.Run("IDsNeverReused", func(t *testing.T) {
		s := open(t)
		acc := mustAccount(t, s)
		other := mustAccount(t, s)
		var ids []uint32
		for range 3 {
			ids = append(ids, mustDevice(t, s, acc))
		}
		if err := s.RevokeDevice(ctxT(t), acc, ids[2], t0); err != nil {
			t.Fatalf("RevokeDevice: %v", err)
		}
		if got := mustDevice(t, s, acc); got != 4 {
			t.Errorf("device id after revoking the newest = %d, want 4", got)
		}
		if got := mustDevice(t, s, other); got != 1 {
			t.Errorf("other account's first device id = %d, want 1", got)
		}
		if ids[0] != 1 || ids[1] != 2 || ids[2] != 3 {
			t.Errorf("device ids = %v, want [1 2 3]", ids)
		}
	})
	t.Run("RevokeHidesAndKeeps", func(t *testing.T) {
		s := open(t)
		acc := mustAccount(t, s)
		d1, d2, d3 := mustDevice(t, s, acc), mustDevice(t, s, acc), mustDevice(t, s, acc)
		if err := s.RevokeDevice(ctxT(t), acc, d2, t0.Add(time.Hour)); err != nil {
			t.Fatalf("RevokeDevice: %v", err)
		}
		if err := s.RevokeDevice(ctxT(t), acc, d2, t0.Add(2*time.Hour)); err != nil {
			t.Errorf("second RevokeDevice = %v, want nil", err)
		}
		list, err := s.Devices(ctxT(t), acc)
		if err != nil {
			t.Fatalf("Devices: %v", err)
		}
		if got := deviceIDs(list); !slices.Equal(got, []uint32{d1, d3}) {
			t.Errorf("Devices = %v, want [%d %d]", got, d1, d3)
		}
		got, err := s.Device(ctxT(t), acc, d2)
		if err != nil {
			t.Fatalf("Device(revoked): %v", err)
		}
		if !got.RevokedAt.Equal(at(time.Hour)) {
			t.Errorf("RevokedAt = %v, want %v (the first revocation)", got.RevokedAt, at(time.Hour))
		}
		if got.Active(t0.Add(3 * time.Hour)) {
			t.Errorf("revoked device is active")
		}
		empty, err := s.Devices(ctxT(t), newPhone())
		if err != nil || len(empty) != 0 {
			t.Errorf("Devices(unknown account) = %v, %v; want empty, nil", empty, err)
		}
	})
	t.Run("Touch", func(t *testing.T) {
		s := open(t)
		acc := mustAccount(t, s)
		dev := mustDevice(t, s, acc)
		if err := s.TouchDevice(ctxT(t), acc, dev, t0.Add(time.Hour), t0.Add(48*time.Hour)); err != nil {
			t.Fatalf("TouchDevice: %v", err)
		}
		got, err := s.Device(ctxT(t), acc, dev)
		if err != nil {
			t.Fatalf("Device: %v", err)
		}
		if !got.LastSeenAt.Equal(at(time.Hour)) || !got.ExpiresAt.Equal(at(48*time.Hour)) {
			t.Errorf("after touch LastSeenAt, ExpiresAt = %v, %v; want %v, %v", got.LastSeenAt, got.ExpiresAt, at(time.Hour), at(48*time.Hour))
		}
		if err := s.RevokeDevice(ctxT(t), acc, dev, t0); err != nil {
			t.Fatalf("RevokeDevice: %v", err)
		}
		wantCode(t, "TouchDevice(revoked)", s.TouchDevice(ctxT(t), acc, dev, t0, t0), parley.ENOTFOUND)
	})
}

func equalDevice(a, b parley.Device) bool {
	return a.Account == b.Account && a.ID == b.ID && a.Name == b.Name && a.Platform == b.Platform &&
		a.CreatedAt.Equal(b.CreatedAt) && a.LastSeenAt.Equal(b.LastSeenAt) && a.ExpiresAt.Equal(b.ExpiresAt) &&
		a.RevokedAt.Equal(b.RevokedAt) && bytes.Equal(a.TokenHash, b.TokenHash)
}

func deviceIDs(ds []parley.Device) []uint32 {
	ids := make([]uint32, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	return ids
}

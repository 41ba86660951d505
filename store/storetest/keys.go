package storetest

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// pubKey is a well-formed public key that differs for each (tag, n).
func pubKey(tag byte, n uint32) []byte {
	k := make([]byte, parley.PublicKeySize)
	k[0] = parley.KeyTypeDJB
	k[1] = tag
	binary.BigEndian.PutUint32(k[2:], n)
	return k
}

func signedPrekey(id uint32, created time.Time) parley.SignedPrekey {
	return parley.SignedPrekey{ID: id, PublicKey: pubKey('s', id), Signature: bytes.Repeat([]byte{byte(id)}, parley.SignatureSize), CreatedAt: created}
}

// prekeys returns one-time prekeys with ids from..to-1.
func prekeys(from, to uint32) []parley.OneTimePrekey {
	ps := make([]parley.OneTimePrekey, 0, to-from)
	for id := from; id < to; id++ {
		ps = append(ps, parley.OneTimePrekey{ID: id, PublicKey: pubKey('o', id)})
	}
	return ps
}

func deviceKeys(account string, dev uint32) *parley.DeviceKeys {
	return &parley.DeviceKeys{Account: account, Device: dev, IdentityKey: pubKey('i', dev), RegistrationID: 1000 + dev,
		SignedPrekey: signedPrekey(1, t0)}
}

func mustPutKeys(t testing.TB, s parley.Store, k *parley.DeviceKeys, ps []parley.OneTimePrekey) {
	t.Helper()
	if _, err := s.PutKeys(ctxT(t), k, ps); err != nil {
		t.Fatalf("PutKeys(%s): %v", parley.DeviceAddress(k.Account, k.Device), err)
	}
}

func mustClaim(t testing.TB, s parley.Store, account string, devs ...uint32) []parley.Bundle {
	t.Helper()
	bs, err := s.ClaimBundles(ctxT(t), account, devs)
	if err != nil {
		t.Fatalf("ClaimBundles(%s, %v): %v", account, devs, err)
	}
	return bs
}

func mustStatus(t testing.TB, s parley.Store, account string, dev uint32) *parley.KeyStatus {
	t.Helper()
	st, err := s.KeyStatus(ctxT(t), account, dev)
	if err != nil {
		t.Fatalf("KeyStatus(%s): %v", parley.DeviceAddress(account, dev), err)
	}
	return st
}

func equalSigned(a, b parley.SignedPrekey) bool {
	return a.ID == b.ID && bytes.Equal(a.PublicKey, b.PublicKey) && bytes.Equal(a.Signature, b.Signature) && a.CreatedAt.Equal(b.CreatedAt)
}

func prekeyIDs(bs []parley.Bundle) []int64 {
	ids := make([]int64, len(bs))
	for i, b := range bs {
		ids[i] = -1
		if b.OneTimePrekey != nil {
			ids[i] = int64(b.OneTimePrekey.ID)
		}
	}
	return ids
}

func testKeys(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("PutAndClaim", func(t *testing.T) {
		s := open(t)
		acc := mustAccount(t, s)
		dev := mustDevice(t, s, acc)
		k := deviceKeys(acc, dev)
		held, err := s.PutKeys(ctxT(t), k, prekeys(7, 10))
		if err != nil || held != 3 {
			t.Fatalf("PutKeys = %d, %v; want 3, nil", held, err)
		}
		bs := mustClaim(t, s, acc, dev)
		if len(bs) != 1 {
			t.Fatalf("ClaimBundles returned %d bundles, want 1", len(bs))
		}
		b := bs[0]
		want := signedPrekey(1, at(0))
		if b.Account != acc || b.Device != dev || !bytes.Equal(b.IdentityKey, k.IdentityKey) || b.RegistrationID != k.RegistrationID ||
			!equalSigned(b.SignedPrekey, want) {
			t.Errorf("bundle = %+v, want the uploaded keys with signed prekey %+v", b, want)
		}
		if b.SignedPrekey.CreatedAt.Location() != time.UTC {
			t.Errorf("signed prekey CreatedAt location = %v, want UTC", b.SignedPrekey.CreatedAt.Location())
		}
		if b.OneTimePrekey == nil || b.OneTimePrekey.ID != 7 || !bytes.Equal(b.OneTimePrekey.PublicKey, pubKey('o', 7)) || b.Remaining != 2 {
			t.Errorf("first claim: one-time prekey %+v, remaining %d; want id 7, remaining 2", b.OneTimePrekey, b.Remaining)
		}
		var got []int64
		for range 3 {
			got = append(got, prekeyIDs(mustClaim(t, s, acc, dev))...)
		}
		if !slices.Equal(got, []int64{8, 9, -1}) {
			t.Errorf("later claims took one-time prekeys %v, want [8 9 -1] (-1: none left, bundle still given)", got)
		}
		if st := mustStatus(t, s, acc, dev); st.OneTimePrekeys != 0 || !st.SignedPrekeyAt.Equal(at(0)) {
			t.Errorf("KeyStatus = %+v, want 0 prekeys, signed at %v", st, at(0))
		}
	})
	t.Run("IdentityIsWrittenOnce", func(t *testing.T) {
		s := open(t)
		acc := mustAccount(t, s)
		dev := mustDevice(t, s, acc)
		mustPutKeys(t, s, deviceKeys(acc, dev), prekeys(1, 3))

		// The same identity again, with the same signed prekey: its time stays.
		again := deviceKeys(acc, dev)
		again.SignedPrekey.CreatedAt = t0.Add(time.Hour)
		held, err := s.PutKeys(ctxT(t), again, prekeys(2, 5))
		if err != nil || held != 4 {
			t.Fatalf("PutKeys again = %d, %v; want 4 (ids 1-4), nil", held, err)
		}
		if st := mustStatus(t, s, acc, dev); !st.SignedPrekeyAt.Equal(at(0)) {
			t.Errorf("unchanged signed prekey stored at %v, want %v", st.SignedPrekeyAt, at(0))
		}
		// With a new signed prekey: rotated.
		again.SignedPrekey = signedPrekey(2, t0.Add(2*time.Hour))
		mustPutKeys(t, s, again, nil)
		if st := mustStatus(t, s, acc, dev); !st.SignedPrekeyAt.Equal(at(2*time.Hour)) || st.OneTimePrekeys != 4 {
			t.Errorf("after a new signed prekey KeyStatus = %+v, want 4 prekeys signed at %v", st, at(2*time.Hour))
		}

		tests := []struct {
			name   string
			mutate func(k *parley.DeviceKeys)
		}{
			{"OtherIdentityKey", func(k *parley.DeviceKeys) { k.IdentityKey = pubKey('x', 1) }},
			{"OtherRegistrationID", func(k *parley.DeviceKeys) { k.RegistrationID++ }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				k := deviceKeys(acc, dev)
				k.SignedPrekey = signedPrekey(3, t0.Add(3*time.Hour))
				tt.mutate(k)
				_, err := s.PutKeys(ctxT(t), k, prekeys(100, 110))
				wantCode(t, "PutKeys with "+tt.name, err, parley.ECONFLICT)
			})
		}
		bs := mustClaim(t, s, acc, dev)
		if len(bs) != 1 || !bytes.Equal(bs[0].IdentityKey, pubKey('i', dev)) || bs[0].SignedPrekey.ID != 2 || bs[0].Remaining != 3 {
			t.Errorf("after refused uploads the bundle is %+v; want the first identity, signed prekey 2, 3 prekeys left (nothing of the refused uploads)", bs)
		}
	})
	t.Run("AddPrekeys", func(t *testing.T) {
		s := open(t)
		acc := mustAccount(t, s)
		dev := mustDevice(t, s, acc)
		_, err := s.AddPrekeys(ctxT(t), acc, dev, prekeys(1, 5))
		wantCode(t, "AddPrekeys before PutKeys", err, parley.ENOTFOUND)
		mustPutKeys(t, s, deviceKeys(acc, dev), prekeys(1, 5))

		// Duplicate ids, stored or within the upload, are ignored; the
		// stored key of an id is kept.
		dup := append(prekeys(3, 8), parley.OneTimePrekey{ID: 6, PublicKey: pubKey('z', 6)}, parley.OneTimePrekey{ID: 1, PublicKey: pubKey('z', 1)})
		held, err := s.AddPrekeys(ctxT(t), acc, dev, dup)
		if err != nil || held != 7 {
			t.Fatalf("AddPrekeys with duplicates = %d, %v; want 7 (ids 1-7), nil", held, err)
		}
		var got []parley.OneTimePrekey
		for range 7 {
			b := mustClaim(t, s, acc, dev)[0]
			got = append(got, *b.OneTimePrekey)
		}
		if !equalPrekeys(got, prekeys(1, 8)) {
			t.Errorf("claimed %v, want the first key stored for each of ids 1-7", got)
		}

		// The cap: an upload that would exceed it adds nothing.
		held, err = s.AddPrekeys(ctxT(t), acc, dev, prekeys(1000, 1000+parley.MaxOneTimePrekeys-10))
		if err != nil || held != parley.MaxOneTimePrekeys-10 {
			t.Fatalf("AddPrekeys up to the cap = %d, %v", held, err)
		}
		_, err = s.AddPrekeys(ctxT(t), acc, dev, prekeys(2000, 2011))
		wantCode(t, "AddPrekeys over the cap", err, parley.ETOOLARGE)
		held, err = s.AddPrekeys(ctxT(t), acc, dev, prekeys(2000, 2010))
		if err != nil || held != parley.MaxOneTimePrekeys {
			t.Fatalf("AddPrekeys to exactly the cap = %d, %v; want %d", held, err, parley.MaxOneTimePrekeys)
		}
		_, err = s.PutKeys(ctxT(t), deviceKeys(acc, dev), prekeys(3000, 3001))
		wantCode(t, "PutKeys over the cap", err, parley.ETOOLARGE)
		if st := mustStatus(t, s, acc, dev); st.OneTimePrekeys != parley.MaxOneTimePrekeys {
			t.Errorf("after refused uploads the pool has %d, want %d", st.OneTimePrekeys, parley.MaxOneTimePrekeys)
		}
	})
	t.Run("RotateSignedPrekey", func(t *testing.T) {
		s := open(t)
		acc := mustAccount(t, s)
		dev := mustDevice(t, s, acc)
		spk := signedPrekey(2, t0.Add(time.Hour))
		wantCode(t, "RotateSignedPrekey before PutKeys", s.RotateSignedPrekey(ctxT(t), acc, dev, &spk), parley.ENOTFOUND)
		mustPutKeys(t, s, deviceKeys(acc, dev), nil)
		if err := s.RotateSignedPrekey(ctxT(t), acc, dev, &spk); err != nil {
			t.Fatalf("RotateSignedPrekey: %v", err)
		}
		same := signedPrekey(2, t0.Add(2*time.Hour))
		if err := s.RotateSignedPrekey(ctxT(t), acc, dev, &same); err != nil {
			t.Fatalf("RotateSignedPrekey again: %v", err)
		}
		b := mustClaim(t, s, acc, dev)[0]
		if want := signedPrekey(2, at(time.Hour)); !equalSigned(b.SignedPrekey, want) {
			t.Errorf("signed prekey = %+v, want %+v (stored again unchanged keeps its time)", b.SignedPrekey, want)
		}
		if b.OneTimePrekey != nil || b.Remaining != 0 {
			t.Errorf("bundle from an empty pool = %+v, want no one-time prekey", b)
		}
	})
	t.Run("ClaimListedDevices", func(t *testing.T) {
		s := open(t)
		acc, other := mustAccount(t, s), mustAccount(t, s)
		d1, d2, d3 := mustDevice(t, s, acc), mustDevice(t, s, acc), mustDevice(t, s, acc)
		od := mustDevice(t, s, other)
		mustPutKeys(t, s, deviceKeys(acc, d1), prekeys(1, 3))
		mustPutKeys(t, s, deviceKeys(acc, d3), prekeys(10, 11))
		mustPutKeys(t, s, deviceKeys(other, od), prekeys(1, 3))

		bs := mustClaim(t, s, acc, d3, d2, d1, d3, 99)
		var devs []uint32
		for _, b := range bs {
			devs = append(devs, b.Device)
		}
		if !slices.Equal(devs, []uint32{d1, d3}) || !slices.Equal(prekeyIDs(bs), []int64{1, 10}) {
			t.Errorf("claimed devices %v with prekeys %v, want [%d %d] with [1 10] (without keys or unknown: left out; each once)",
				devs, prekeyIDs(bs), d1, d3)
		}
		if bs := mustClaim(t, s, acc); len(bs) != 0 {
			t.Errorf("claiming no devices returned %+v", bs)
		}
		if bs := mustClaim(t, s, newPhone(), 1); len(bs) != 0 {
			t.Errorf("claiming an unknown account returned %+v", bs)
		}
		if st := mustStatus(t, s, other, od); st.OneTimePrekeys != 2 {
			t.Errorf("another account's pool has %d, want 2 (untouched)", st.OneTimePrekeys)
		}
		_, err := s.KeyStatus(ctxT(t), acc, d2)
		wantCode(t, "KeyStatus without keys", err, parley.ENOTFOUND)
	})
	t.Run("DevicesSayWhichHaveKeys", func(t *testing.T) {
		s := open(t)
		acc := mustAccount(t, s)
		d1, d2 := mustDevice(t, s, acc), mustDevice(t, s, acc)
		mustPutKeys(t, s, deviceKeys(acc, d2), prekeys(1, 2))
		ds, err := s.Devices(ctxT(t), acc)
		if err != nil || len(ds) != 2 {
			t.Fatalf("Devices = %+v, %v; want two", ds, err)
		}
		if ds[0].ID != d1 || ds[0].HasKeys || ds[1].ID != d2 || !ds[1].HasKeys {
			t.Errorf("Devices = %d HasKeys %v, %d HasKeys %v; want %d false, %d true",
				ds[0].ID, ds[0].HasKeys, ds[1].ID, ds[1].HasKeys, d1, d2)
		}
	})
	t.Run("RevokeDeletesKeys", func(t *testing.T) {
		s := open(t)
		acc := mustAccount(t, s)
		d1, d2 := mustDevice(t, s, acc), mustDevice(t, s, acc)
		mustPutKeys(t, s, deviceKeys(acc, d1), prekeys(1, 5))
		mustPutKeys(t, s, deviceKeys(acc, d2), prekeys(1, 5))
		if err := s.RevokeDevice(ctxT(t), acc, d2, t0); err != nil {
			t.Fatalf("RevokeDevice: %v", err)
		}
		_, err := s.KeyStatus(ctxT(t), acc, d2)
		wantCode(t, "KeyStatus of a revoked device", err, parley.ENOTFOUND)
		bs := mustClaim(t, s, acc, d1, d2)
		if len(bs) != 1 || bs[0].Device != d1 {
			t.Errorf("claim after revoking device %d = %+v, want only device %d", d2, bs, d1)
		}
		_, err = s.PutKeys(ctxT(t), deviceKeys(acc, d2), prekeys(1, 5))
		wantCode(t, "PutKeys for a revoked device", err, parley.ENOTFOUND)
		_, err = s.PutKeys(ctxT(t), deviceKeys(acc, 99), nil)
		wantCode(t, "PutKeys for an unknown device", err, parley.ENOTFOUND)
		_, err = s.AddPrekeys(ctxT(t), acc, d2, prekeys(9, 10))
		wantCode(t, "AddPrekeys for a revoked device", err, parley.ENOTFOUND)
		if st := mustStatus(t, s, acc, d1); st.OneTimePrekeys != 3 {
			t.Errorf("the other device's pool has %d, want 3", st.OneTimePrekeys)
		}
	})
	t.Run("ConcurrentClaims", func(t *testing.T) {
		s := open(t)
		stores := []parley.Store{s}
		if r, ok := s.(Reopener); ok { // a second node on the same database
			s2, err := r.Reopen(ctxT(t))
			if err != nil {
				t.Fatalf("Reopen: %v", err)
			}
			defer s2.Close()
			stores = append(stores, s2)
		}
		acc := mustAccount(t, s)
		d1, d2 := mustDevice(t, s, acc), mustDevice(t, s, acc)
		const pool, claimers = 10, 20
		mustPutKeys(t, s, deviceKeys(acc, d1), prekeys(1, 1+pool))
		mustPutKeys(t, s, deviceKeys(acc, d2), prekeys(1, 1+pool))
		var mu sync.Mutex
		var wg sync.WaitGroup
		got := map[uint32][]int64{} // device → prekey ids claimed (-1: none)
		for i := range claimers {
			wg.Go(func() {
				// Half claim both devices, half only one, in either order.
				devs := [][]uint32{{d1, d2}, {d2, d1}, {d1}, {d2}}[i%4]
				bs, err := stores[i%len(stores)].ClaimBundles(ctxT(t), acc, devs)
				if err != nil {
					t.Errorf("ClaimBundles: %v", err)
					return
				}
				mu.Lock()
				for _, b := range bs {
					got[b.Device] = append(got[b.Device], prekeyIDs([]parley.Bundle{b})...)
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		for _, dev := range []uint32{d1, d2} {
			ids := got[dev]
			slices.Sort(ids)
			var want []int64
			for range len(ids) - pool {
				want = append(want, -1)
			}
			for id := range int64(pool) {
				want = append(want, id+1)
			}
			if len(ids) != 15 || !slices.Equal(ids, want) {
				t.Errorf("device %d: claims got prekeys %v, want each of 1-%d once and the other claims none (15 claims)", dev, ids, pool)
			}
			if st := mustStatus(t, s, acc, dev); st.OneTimePrekeys != 0 {
				t.Errorf("device %d: %d prekeys left, want 0", dev, st.OneTimePrekeys)
			}
		}
	})
	t.Run("ConcurrentClaimsOnePool", func(t *testing.T) {
		s := open(t)
		acc := mustAccount(t, s)
		dev := mustDevice(t, s, acc)
		mustPutKeys(t, s, deviceKeys(acc, dev), prekeys(1, 11))
		var mu sync.Mutex
		var wg sync.WaitGroup
		var ids []int64
		for range 20 {
			wg.Go(func() {
				bs, err := s.ClaimBundles(ctxT(t), acc, []uint32{dev})
				if err != nil || len(bs) != 1 {
					t.Errorf("ClaimBundles = %+v, %v; want one bundle", bs, err)
					return
				}
				mu.Lock()
				ids = append(ids, prekeyIDs(bs)...)
				mu.Unlock()
			})
		}
		wg.Wait()
		slices.Sort(ids)
		want := []int64{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
		if !slices.Equal(ids, want) {
			t.Errorf("20 claims from a pool of 10 got %v, want %v", ids, want)
		}
	})
	t.Run("ConcurrentAddsKeepCap", func(t *testing.T) {
		s := open(t)
		acc := mustAccount(t, s)
		dev := mustDevice(t, s, acc)
		mustPutKeys(t, s, deviceKeys(acc, dev), nil)
		const each = 60
		const uploads = parley.MaxOneTimePrekeys/each + 2
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i := range uploads {
			wg.Go(func() {
				from := uint32(1 + i*each)
				_, err := s.AddPrekeys(ctxT(t), acc, dev, prekeys(from, from+each))
				if err != nil && !parley.Match(err, parley.ETOOLARGE) {
					t.Errorf("AddPrekeys: %v", err)
				}
				if err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		st := mustStatus(t, s, acc, dev)
		if want := parley.MaxOneTimePrekeys / each; ok != want || st.OneTimePrekeys != ok*each {
			t.Errorf("%d concurrent uploads of %d succeeded leaving %d prekeys; want %d succeeded, %d prekeys",
				ok, each, st.OneTimePrekeys, want, want*each)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		s := open(t)
		acc := mustAccount(t, s)
		dev := mustDevice(t, s, acc)
		spk := signedPrekey(1, t0)
		tests := []struct {
			name string
			err  error
		}{
			{"PutKeysUnknownAccount", func() error { _, err := s.PutKeys(ctxT(t), deviceKeys(newPhone(), 1), nil); return err }()},
			{"AddPrekeys", func() error { _, err := s.AddPrekeys(ctxT(t), acc, dev, prekeys(1, 2)); return err }()},
			{"RotateSignedPrekey", s.RotateSignedPrekey(ctxT(t), acc, dev, &spk)},
			{"KeyStatus", func() error { _, err := s.KeyStatus(ctxT(t), acc, dev); return err }()},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.name, tt.err, parley.ENOTFOUND) })
		}
	})
}

func equalPrekeys(a, b []parley.OneTimePrekey) bool {
	return slices.EqualFunc(a, b, func(x, y parley.OneTimePrekey) bool {
		return x.ID == y.ID && bytes.Equal(x.PublicKey, y.PublicKey)
	})
}

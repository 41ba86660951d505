package app_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/store/postgres/pgtest"
)

// The key directory over HTTP, on both databases.
func TestKeyDirectory(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { testKeyDirectory(t, app.Config{}) })
	t.Run("PostgreSQL", func(t *testing.T) { testKeyDirectory(t, app.Config{Database: pgtest.DSN(t)}) })
}

// pub is a well-formed public key (0x05 and 32 bytes), base64.
func pub(tag byte, n int) string {
	k := make([]byte, 33)
	k[0], k[1], k[2] = 0x05, tag, byte(n)
	return base64.StdEncoding.EncodeToString(k)
}

var sig = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 64))

func prekeyList(from, to int) []map[string]any {
	var ps []map[string]any
	for id := from; id < to; id++ {
		ps = append(ps, map[string]any{"id": id, "public_key": pub('o', id)})
	}
	return ps
}

type keyCount struct {
	OneTimePrekeys  int   `json:"one_time_prekeys"`
	SignedPrekeyAge int64 `json:"signed_prekey_age"`
	Rotate          bool  `json:"rotate"`
}

type claimed struct {
	Account string `json:"account"`
	Bundles []struct {
		Device         uint32 `json:"device"`
		IdentityKey    []byte `json:"identity_key"`
		RegistrationID uint32 `json:"registration_id"`
		SignedPrekey   struct {
			ID        uint32 `json:"id"`
			PublicKey []byte `json:"public_key"`
			Signature []byte `json:"signature"`
		} `json:"signed_prekey"`
		OneTimePrekey *struct {
			ID        uint32 `json:"id"`
			PublicKey []byte `json:"public_key"`
		} `json:"one_time_prekey"`
	} `json:"bundles"`
	Missing []uint32 `json:"missing"`
}

type apiError struct {
	Error struct{ Code, Message string }
}

func testKeyDirectory(t *testing.T, cfg app.Config) {
	n := startNode(t, cfg)
	alice := register(t, n, "+4915100000051")
	bob := register(t, n, "+4915100000052")
	bob2 := register(t, n, "+4915100000052")

	var e apiError
	if st := call(t, "GET", n.base+"/v1/keys/count", bob.Token, nil, &e); st != 404 || e.Error.Code != "not_found" {
		t.Fatalf("count before upload: %d %+v, want 404 not_found", st, e)
	}
	upload := map[string]any{
		"identity_key":     pub('i', 1),
		"registration_id":  4242,
		"signed_prekey":    map[string]any{"id": 1, "public_key": pub('s', 1), "signature": sig},
		"one_time_prekeys": prekeyList(1, 13),
	}
	var c keyCount
	if st := call(t, "PUT", n.base+"/v1/keys", bob.Token, upload, &c); st != 200 || c != (keyCount{OneTimePrekeys: 12}) {
		t.Fatalf("PUT /v1/keys: %d %+v, want 200 with 12 prekeys", st, c)
	}

	var got claimed
	if st := call(t, "GET", n.base+"/v1/keys/"+bob.Account, alice.Token, nil, &got); st != 200 {
		t.Fatalf("claim: status %d", st)
	}
	if got.Account != bob.Account || len(got.Bundles) != 1 || !slices.Equal(got.Missing, []uint32{bob2.Device}) {
		t.Fatalf("claim = %+v, want one bundle and device %d missing", got, bob2.Device)
	}
	b := got.Bundles[0]
	identity, _ := base64.StdEncoding.DecodeString(pub('i', 1))
	if b.Device != bob.Device || !bytes.Equal(b.IdentityKey, identity) || b.RegistrationID != 4242 || b.SignedPrekey.ID != 1 ||
		len(b.SignedPrekey.Signature) != 64 || b.OneTimePrekey == nil || b.OneTimePrekey.ID != 1 {
		t.Fatalf("bundle = %+v, want bob's uploaded keys with one-time prekey 1", b)
	}

	// Replenish (ids held already are ignored), rotate, count.
	if st := call(t, "POST", n.base+"/v1/keys/prekeys", bob.Token, map[string]any{"one_time_prekeys": prekeyList(10, 16)}, &c); st != 200 || c.OneTimePrekeys != 14 {
		t.Fatalf("POST /v1/keys/prekeys: %d %+v, want 14 (11 left + 13, 14, 15)", st, c)
	}
	spk2 := map[string]any{"id": 2, "public_key": pub('s', 2), "signature": sig}
	if st := call(t, "PUT", n.base+"/v1/keys/signed_prekey", bob.Token, spk2, &c); st != 200 || c.Rotate {
		t.Fatalf("PUT /v1/keys/signed_prekey: %d %+v", st, c)
	}
	if st := call(t, "GET", n.base+"/v1/keys/count", bob.Token, nil, &c); st != 200 || c != (keyCount{OneTimePrekeys: 14}) {
		t.Fatalf("count: %d %+v, want 14 prekeys, fresh signed prekey", st, c)
	}

	// One device: its bundle with the new signed prekey; a device
	// without keys is missing.
	got = claimed{}
	if st := call(t, "GET", fmt.Sprintf("%s/v1/keys/%s/%d", n.base, bob.Account, bob.Device), alice.Token, nil, &got); st != 200 ||
		len(got.Bundles) != 1 || got.Bundles[0].SignedPrekey.ID != 2 || got.Bundles[0].OneTimePrekey.ID != 2 || len(got.Missing) != 0 {
		t.Fatalf("claim of one device: %d %+v", st, got)
	}
	got = claimed{}
	if st := call(t, "GET", fmt.Sprintf("%s/v1/keys/%s/%d", n.base, bob.Account, bob2.Device), alice.Token, nil, &got); st != 200 ||
		len(got.Bundles) != 0 || !slices.Equal(got.Missing, []uint32{bob2.Device}) {
		t.Fatalf("claim of a device without keys: %d %+v", st, got)
	}

	// Draining the pool still gives bundles, with "one_time_prekey": null.
	for range 13 {
		call(t, "GET", n.base+"/v1/keys/"+bob.Account, alice.Token, nil, nil)
	}
	var raw struct {
		Bundles []map[string]json.RawMessage `json:"bundles"`
	}
	if st := call(t, "GET", n.base+"/v1/keys/"+bob.Account, alice.Token, nil, &raw); st != 200 || len(raw.Bundles) != 1 ||
		string(raw.Bundles[0]["one_time_prekey"]) != "null" {
		t.Fatalf("claim from an empty pool: %d %s, want a bundle with \"one_time_prekey\": null", st, raw.Bundles)
	}

	// Unlinking a device deletes its keys.
	if st := call(t, "DELETE", fmt.Sprintf("%s/v1/devices/%d", n.base, bob2.Device), bob.Token, nil, nil); st != 204 {
		t.Fatalf("unlink: status %d", st)
	}
	got = claimed{}
	if st := call(t, "GET", n.base+"/v1/keys/"+bob.Account, alice.Token, nil, &got); st != 200 || len(got.Missing) != 0 || len(got.Bundles) != 1 {
		t.Fatalf("claim after unlinking: %d %+v, want device %d only", st, got, bob.Device)
	}

	if st := call(t, "POST", n.base+"/v1/keys/prekeys", bob.Token, map[string]any{"one_time_prekeys": prekeyList(1000, 1150)}, &c); st != 200 || c.OneTimePrekeys != 150 {
		t.Fatalf("POST /v1/keys/prekeys: %d %+v, want 150", st, c)
	}
	withUpload := func(mutate func(m map[string]any)) map[string]any {
		m := map[string]any{}
		for k, v := range upload {
			m[k] = v
		}
		m["identity_key"] = pub('i', 9) // alice's
		mutate(m)
		return m
	}
	cases := []struct {
		name, method, path string
		token              string
		body               any
		status             int
		code, message      string // message: a part of it
	}{
		{"new-identity", "PUT", "/v1/keys", bob.Token, withUpload(func(m map[string]any) {}), 409, "conflict", "new device"},
		{"bad-base64", "PUT", "/v1/keys", alice.Token, withUpload(func(m map[string]any) { m["identity_key"] = "%%%" }), 400, "invalid", "identity_key"},
		{"unpadded-base64", "PUT", "/v1/keys", alice.Token, withUpload(func(m map[string]any) {
			m["signed_prekey"] = map[string]any{"id": 1, "public_key": pub('s', 1), "signature": strings.TrimRight(sig, "=")}
		}), 400, "invalid", "signed_prekey.signature is not valid base64"},
		{"short-key", "PUT", "/v1/keys", alice.Token, withUpload(func(m map[string]any) { m["identity_key"] = base64.StdEncoding.EncodeToString([]byte{5, 1, 2}) }), 400, "invalid", "33 bytes"},
		{"wrong-key-type", "PUT", "/v1/keys", alice.Token, withUpload(func(m map[string]any) { m["identity_key"] = base64.StdEncoding.EncodeToString(make([]byte, 33)) }), 400, "invalid", "0x05"},
		{"no-signed-prekey", "PUT", "/v1/keys", alice.Token, withUpload(func(m map[string]any) { delete(m, "signed_prekey") }), 400, "invalid", "signed_prekey"},
		{"short-signature", "PUT", "/v1/keys", alice.Token, withUpload(func(m map[string]any) {
			m["signed_prekey"] = map[string]any{"id": 1, "public_key": pub('s', 1), "signature": base64.StdEncoding.EncodeToString(make([]byte, 63))}
		}), 400, "invalid", "64 bytes"},
		{"bad-prekey", "PUT", "/v1/keys", alice.Token, withUpload(func(m map[string]any) {
			m["one_time_prekeys"] = []map[string]any{{"id": 1, "public_key": "AAAA"}}
		}), 400, "invalid", "one-time prekey 1"},
		{"too-many-prekeys", "POST", "/v1/keys/prekeys", bob.Token, map[string]any{"one_time_prekeys": prekeyList(0, 201)}, 413, "too_large", "200"},
		{"pool-full", "POST", "/v1/keys/prekeys", bob.Token, map[string]any{"one_time_prekeys": prekeyList(100, 151)}, 413, "too_large", "200"},
		{"no-prekeys", "POST", "/v1/keys/prekeys", bob.Token, map[string]any{"one_time_prekeys": []any{}}, 400, "invalid", "prekeys"},
		{"prekeys-before-upload", "POST", "/v1/keys/prekeys", alice.Token, map[string]any{"one_time_prekeys": prekeyList(1, 2)}, 404, "not_found", "no keys"},
		{"unknown-field", "PUT", "/v1/keys/signed_prekey", bob.Token, map[string]any{"id": 3, "key": "x"}, 400, "invalid", "unknown field"},
		{"unknown-account", "GET", "/v1/keys/4915100000059", alice.Token, nil, 404, "not_found", "no Parley account"},
		{"unknown-device", "GET", "/v1/keys/" + bob.Account + "/99", alice.Token, nil, 404, "not_found", "device 99"},
		{"bad-device", "GET", "/v1/keys/" + bob.Account + "/x", alice.Token, nil, 400, "invalid", "device id"},
		{"bad-account", "GET", "/v1/keys/bob", alice.Token, nil, 400, "invalid", "phone number"},
		{"own-device", "GET", fmt.Sprintf("/v1/keys/%s/%d", bob.Account, bob.Device), bob.Token, nil, 400, "invalid", "own keys"},
		{"no-token", "GET", "/v1/keys/" + bob.Account, "", nil, 401, "unauthorized", "Bearer"},
		{"unlinked-device", "GET", "/v1/keys/count", bob2.Token, nil, 401, "unauthorized", "unlinked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var e apiError
			st := call(t, tc.method, n.base+tc.path, tc.token, tc.body, &e)
			if st != tc.status || e.Error.Code != tc.code || !strings.Contains(e.Error.Message, tc.message) {
				t.Errorf("got %d %+v, want %d %s with a message containing %q", st, e.Error, tc.status, tc.code, tc.message)
			}
		})
	}
	if st := call(t, "GET", n.base+"/v1/keys/count", bob.Token, nil, &c); st != 200 || c.OneTimePrekeys != 150 {
		t.Errorf("count after refused uploads: %d %+v, want 150 prekeys (nothing added)", st, c)
	}
}

// A claim that leaves a device with fewer than 10 one-time prekeys makes
// the server push keys_low to that device.
func TestKeysLowPush(t *testing.T) {
	n := startNode(t, app.Config{})
	alice := register(t, n, "+4915100000091")
	bob := register(t, n, "+4915100000092")
	upload := map[string]any{
		"identity_key":     pub('i', 9),
		"registration_id":  9,
		"signed_prekey":    map[string]any{"id": 1, "public_key": pub('s', 9), "signature": sig},
		"one_time_prekeys": prekeyList(1, 11), // 10: one claim leaves 9
	}
	if st := call(t, "PUT", n.base+"/v1/keys", bob.Token, upload, nil); st != 200 {
		t.Fatalf("PUT /v1/keys: %d", st)
	}
	b := connect(t, n, bob)
	if st := call(t, "GET", n.base+"/v1/keys/"+bob.Account, alice.Token, nil, nil); st != 200 {
		t.Fatalf("claim: %d", st)
	}
	for {
		f := b.nextAny()
		if f.Type == "keys_low" {
			if f.Remaining != 9 {
				t.Fatalf("keys_low remaining = %d, want 9", f.Remaining)
			}
			break
		}
	}
}

// registerWithKeys registers a device and publishes (well-formed, fake)
// keys for it, as a real client does right after registering: from then
// on senders must give it a copy.
func registerWithKeys(t testing.TB, n *node, phone string) creds {
	t.Helper()
	c := register(t, n, phone)
	upload := map[string]any{
		"identity_key":     pub('i', int(c.Device)),
		"registration_id":  4242,
		"signed_prekey":    map[string]any{"id": 1, "public_key": pub('s', 1), "signature": sig},
		"one_time_prekeys": prekeyList(1, 3),
	}
	if st := call(t, "PUT", n.base+"/v1/keys", c.Token, upload, nil); st != 200 {
		t.Fatalf("publish keys of %s.%d: status %d", c.Account, c.Device, st)
	}
	return c
}

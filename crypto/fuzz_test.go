package crypto_test

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/parley-chat/parley/crypto"
)

// fuzzPeers is a conversation set up once per fuzzing process: bob has a
// session with alice (and a sender key from her), so fuzzed ciphertexts
// reach libsignal's session and group code, not only the envelope parser.
// Failed operations leave a Device unchanged, so it can be reused.
var fuzzPeers = sync.OnceValue(func() (p struct {
	alice, bob *crypto.Device
	seeds      [][]byte
}) {
	ctx := context.Background()
	dir := newDirectory()
	mk := func(account string) *crypto.Device {
		d, err := crypto.NewDevice(addr(account, 1), crypto.Options{Bundles: dir})
		if err != nil {
			panic(err)
		}
		if _, err := d.GenerateOneTimePreKeys(ctx, 10); err != nil {
			panic(err)
		}
		if err := dir.add(d); err != nil {
			panic(err)
		}
		return d
	}
	p.alice, p.bob = mk("alice"), mk("bob")
	pre, _ := p.alice.Encrypt(ctx, p.bob.Address(), []byte("prekey"))
	p.bob.Decrypt(ctx, p.alice.Address(), pre)
	reply, _ := p.bob.Encrypt(ctx, p.alice.Address(), []byte("reply"))
	p.alice.Decrypt(ctx, p.bob.Address(), reply)
	whisper, _ := p.alice.Encrypt(ctx, p.bob.Address(), []byte("whisper"))
	dist, _ := p.alice.GroupKey(ctx, "g")
	p.bob.ProcessGroupKey(ctx, p.alice.Address(), dist)
	group, _ := p.alice.GroupEncrypt(ctx, "g", []byte("group"))
	p.seeds = [][]byte{pre.Encode(), whisper.Encode(), group.Encode()}
	return p
})

func FuzzDecodeCiphertext(f *testing.F) {
	for _, s := range fuzzPeers().seeds {
		f.Add(s)
	}
	f.Add([]byte{1, 2})
	f.Add([]byte{1, 3, 0x33})
	f.Fuzz(func(t *testing.T, data []byte) {
		ct, err := crypto.DecodeCiphertext(data)
		if err != nil {
			return
		}
		if !bytes.Equal(ct.Encode(), data) {
			t.Fatalf("Encode(DecodeCiphertext(x)) != x")
		}
		p := fuzzPeers()
		ctx := context.Background()
		// Must not panic; may succeed only for a message never seen.
		p.bob.Decrypt(ctx, p.alice.Address(), ct)
		p.bob.GroupDecrypt(ctx, "g", p.alice.Address(), ct)
	})
}

func FuzzDecodeBundle(f *testing.F) {
	up, _ := fuzzPeers().bob.Upload()
	for _, b := range []*crypto.Bundle{up.Bundle(0), up.Bundle(-1)} {
		j, _ := json.Marshal(b)
		f.Add(j)
	}
	f.Add([]byte(`{"identity_key":"BQ==","signed_prekey":{"id":1}}`))
	sender, _ := crypto.NewDevice(addr("sender", 1), crypto.Options{})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := crypto.DecodeBundle(data)
		if err != nil {
			return
		}
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := crypto.DecodeBundle(j)
		if err != nil {
			t.Fatalf("re-encoded valid bundle rejected: %v", err)
		}
		j2, _ := json.Marshal(b2)
		if !bytes.Equal(j, j2) {
			t.Fatalf("bundle JSON not stable: %s vs %s", j, j2)
		}
		// A valid bundle must start a session without panicking.
		ctx := context.Background()
		s, _ := crypto.Unmarshal(must(sender.Marshal()), crypto.Options{Bundles: crypto.BundleSourceFunc(
			func(context.Context, crypto.Address) (*crypto.Bundle, error) { return b, nil })})
		if _, err := s.Encrypt(ctx, addr("peer", 1), []byte("x")); err != nil {
			t.Fatalf("Encrypt with a valid bundle: %v", err)
		}
	})
}

func FuzzProcessGroupKey(f *testing.F) {
	dist, _ := fuzzPeers().alice.GroupKey(context.Background(), "g")
	f.Add(dist)
	f.Add([]byte{1, 1, 'g', 0x33})
	f.Fuzz(func(t *testing.T, data []byte) {
		d, _ := crypto.NewDevice(addr("carol", 1), crypto.Options{})
		ctx := context.Background()
		g, err := d.ProcessGroupKey(ctx, addr("alice", 1), data)
		if err != nil {
			return
		}
		// Whatever was accepted must not break decryption later.
		d.GroupDecrypt(ctx, g, addr("alice", 1), crypto.Ciphertext{Type: crypto.TypeSenderKey, Body: fuzzPeers().seeds[2][2:]})
	})
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

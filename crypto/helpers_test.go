package crypto_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/crypto"
)

// directory plays the server's key directory: it keeps each device's
// upload and hands out every one-time prekey once.
type directory struct {
	mu      sync.Mutex
	uploads map[string]*crypto.Upload
	fetches int
}

func newDirectory() *directory { return &directory{uploads: map[string]*crypto.Upload{}} }

func (dir *directory) publish(t testing.TB, d *crypto.Device) {
	t.Helper()
	if err := dir.add(d); err != nil {
		t.Fatalf("Upload: %v", err)
	}
}

func (dir *directory) add(d *crypto.Device) error {
	up, err := d.Upload()
	if err != nil {
		return err
	}
	dir.mu.Lock()
	defer dir.mu.Unlock()
	dir.uploads[d.Address().String()] = &up
	return nil
}

func (dir *directory) FetchBundle(_ context.Context, peer crypto.Address) (*crypto.Bundle, error) {
	dir.mu.Lock()
	defer dir.mu.Unlock()
	dir.fetches++
	up, ok := dir.uploads[peer.String()]
	if !ok {
		return nil, fmt.Errorf("no keys for %s", peer)
	}
	b := up.Bundle(0)
	if len(up.PreKeys) > 0 {
		up.PreKeys = up.PreKeys[1:]
	}
	return b, nil
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func addr(account string, device uint32) crypto.Address {
	return crypto.Address{Account: account, Device: device}
}

// newDevice creates a device with 10 one-time prekeys and publishes it.
func newDevice(t testing.TB, dir *directory, account string, device uint32) *crypto.Device {
	t.Helper()
	d, err := crypto.NewDevice(addr(account, device), crypto.Options{Bundles: dir})
	if err != nil {
		t.Fatalf("NewDevice: %v", err)
	}
	if _, err := d.GenerateOneTimePreKeys(context.Background(), 10); err != nil {
		t.Fatalf("GenerateOneTimePreKeys: %v", err)
	}
	dir.publish(t, d)
	return d
}

func encrypt(t testing.TB, from, to *crypto.Device, msg string) crypto.Ciphertext {
	t.Helper()
	ct, err := from.Encrypt(context.Background(), to.Address(), []byte(msg))
	if err != nil {
		t.Fatalf("%s Encrypt to %s: %v", from.Address(), to.Address(), err)
	}
	return ct
}

func decrypt(t testing.TB, to, from *crypto.Device, ct crypto.Ciphertext, want string) {
	t.Helper()
	got, err := to.Decrypt(context.Background(), from.Address(), ct)
	if err != nil {
		t.Fatalf("%s Decrypt from %s: %v", to.Address(), from.Address(), err)
	}
	if string(got) != want {
		t.Fatalf("%s Decrypt from %s = %q, want %q", to.Address(), from.Address(), got, want)
	}
}

// roundTrip sends msg from a to b over the wire form and checks it.
func roundTrip(t testing.TB, a, b *crypto.Device, msg string) crypto.MessageType {
	t.Helper()
	ct := encrypt(t, a, b, msg)
	wire, err := crypto.DecodeCiphertext(ct.Encode())
	if err != nil {
		t.Fatalf("DecodeCiphertext: %v", err)
	}
	decrypt(t, b, a, wire, msg)
	return ct.Type
}

func wantKind(t testing.TB, err error, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want kind %q", err, kind)
	}
}

func isKind(err, kind error) bool { return errors.Is(err, kind) }

// spliceJSON returns a with field taken from b.
func spliceJSON(t testing.TB, a, b []byte, field string) []byte {
	t.Helper()
	var ma, mb map[string]json.RawMessage
	if err := json.Unmarshal(a, &ma); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &mb); err != nil {
		t.Fatal(err)
	}
	ma[field] = mb[field]
	out, err := json.Marshal(ma)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sha(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

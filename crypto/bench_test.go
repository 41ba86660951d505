package crypto_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parley-chat/parley/crypto"
)

var msg200 = make([]byte, 200)

// Session setup: fetch bob's bundle (and check its signature), X3DH and
// the first encrypt on alice's side, decrypt (X3DH, one-time prekey
// consumed) on bob's. Key generation of the devices is not timed.
func BenchmarkSessionSetup(b *testing.B) {
	ctx := context.Background()
	dir := newDirectory()
	bob, err := crypto.NewDevice(addr("bob", 1), crypto.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		if bob.PreKeyCount() == 0 || i%500 == 0 {
			if n := 500 - bob.PreKeyCount(); n > 0 {
				if _, err := bob.GenerateOneTimePreKeys(ctx, n); err != nil {
					b.Fatal(err)
				}
			}
			dir.publish(b, bob)
		}
		alice, err := crypto.NewDevice(addr(fmt.Sprint("alice", i), 1), crypto.Options{Bundles: dir})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		ct, err := alice.Encrypt(ctx, bob.Address(), msg200)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bob.Decrypt(ctx, alice.Address(), ct); err != nil {
			b.Fatal(err)
		}
	}
}

// established returns two devices that have exchanged one message each
// way, so that both use Whisper messages.
func established(b *testing.B) (alice, bob *crypto.Device) {
	dir := newDirectory()
	alice = newDevice(b, dir, "alice", 1)
	bob = newDevice(b, dir, "bob", 1)
	roundTrip(b, alice, bob, "hi")
	roundTrip(b, bob, alice, "hi")
	return alice, bob
}

// Encrypt + decrypt of one 200-byte message.
func BenchmarkMessage(b *testing.B) {
	ctx := context.Background()
	b.Run("one_way", func(b *testing.B) {
		// Same direction every time: a symmetric chain step per message.
		alice, bob := established(b)
		for b.Loop() {
			ct, err := alice.Encrypt(ctx, bob.Address(), msg200)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := bob.Decrypt(ctx, alice.Address(), ct); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ping_pong", func(b *testing.B) {
		// Alternating direction: a DH ratchet step on every message.
		alice, bob := established(b)
		for i := 0; b.Loop(); i++ {
			from, to := alice, bob
			if i%2 == 1 {
				from, to = bob, alice
			}
			ct, err := from.Encrypt(ctx, to.Address(), msg200)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := to.Decrypt(ctx, from.Address(), ct); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Group encrypt + one member's decrypt of a 200-byte message.
func BenchmarkGroupMessage(b *testing.B) {
	ctx := context.Background()
	alice, bob := established(b)
	dist, err := alice.GroupKey(ctx, "g")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := bob.ProcessGroupKey(ctx, alice.Address(), dist); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		ct, err := alice.GroupEncrypt(ctx, "g", msg200)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bob.GroupDecrypt(ctx, "g", alice.Address(), ct); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSafetyNumber(b *testing.B) {
	alice, bob := established(b)
	for b.Loop() {
		if _, err := alice.SafetyNumber(bob.Address()); err != nil {
			b.Fatal(err)
		}
	}
}

// Marshal of a device with 100 sessions, as stored after each operation.
func BenchmarkMarshal(b *testing.B) {
	dir := newDirectory()
	alice := newDevice(b, dir, "alice", 1)
	for i := range 100 {
		peer := newDevice(b, dir, fmt.Sprint("peer", i), 1)
		roundTrip(b, alice, peer, "hi")
		roundTrip(b, peer, alice, "hi")
	}
	var size int
	for b.Loop() {
		data, err := alice.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		size = len(data)
	}
	b.ReportMetric(float64(size), "bytes")
}

// Seal + open of a 1 MiB attachment.
func BenchmarkAttachment(b *testing.B) {
	plain := make([]byte, 1<<20)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		blob, key, digest, err := crypto.SealAttachment(plain)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := crypto.OpenAttachment(blob, key, digest); err != nil {
			b.Fatal(err)
		}
	}
}

// Marshal of a device with many sessions: what a hosted business device
// (whose state is saved whole after every change) pays per message.
func BenchmarkMarshalSessions(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := newDirectory()
			biz := newDevice(b, dir, "4915100000000", 1)
			for i := range n {
				c := newDevice(b, dir, fmt.Sprintf("49151%08d", i+1), 1)
				encrypt(b, c, biz, "hi") // a PreKey message: the business gets a session
				decrypt(b, biz, c, encrypt(b, c, biz, "again"), "again")
			}
			var size int
			for b.Loop() {
				data, err := biz.Marshal()
				if err != nil {
					b.Fatal(err)
				}
				size = len(data)
			}
			b.ReportMetric(float64(size), "bytes/state")
		})
	}
}

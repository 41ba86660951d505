package crypto_test

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/parley-chat/parley/crypto"
)

func mustKey(t *testing.T, h string) crypto.IdentityKey {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	k, err := crypto.ParseIdentityKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Signal's published test vector (libsignal NumericFingerprintGeneratorTest,
// version 1, 5200 iterations, stable ids +14152222222 and +14153333333).
func TestSafetyNumberSignalVector(t *testing.T) {
	aliceKey := mustKey(t, "0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868")
	bobKey := mustKey(t, "05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b")
	alice := crypto.Party{Account: "14152222222", Keys: []crypto.IdentityKey{aliceKey}}
	bob := crypto.Party{Account: "14153333333", Keys: []crypto.IdentityKey{bobKey}}
	const wantDigits = "300354477692869396892869876765458257569162576843440918079131"
	const wantAliceQR = "080112220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df1a220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d"
	const wantBobQR = "080112220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d1a220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df"

	a, err := crypto.NewSafetyNumber(alice, bob)
	if err != nil {
		t.Fatal(err)
	}
	b, err := crypto.NewSafetyNumber(bob, alice)
	if err != nil {
		t.Fatal(err)
	}
	if a.Digits != wantDigits || b.Digits != wantDigits {
		t.Fatalf("digits = %s / %s, want %s", a.Digits, b.Digits, wantDigits)
	}
	if got := hex.EncodeToString(a.QR); got != wantAliceQR {
		t.Fatalf("alice QR = %s, want %s", got, wantAliceQR)
	}
	if got := hex.EncodeToString(b.QR); got != wantBobQR {
		t.Fatalf("bob QR = %s, want %s", got, wantBobQR)
	}
	if err := a.VerifyQR(b.QR); err != nil {
		t.Fatalf("alice scanning bob: %v", err)
	}
	if err := b.VerifyQR(a.QR); err != nil {
		t.Fatalf("bob scanning alice: %v", err)
	}
	if err := a.VerifyQR(a.QR); !errors.Is(err, crypto.ErrSafetyNumberMismatch) {
		t.Fatalf("scanning own code: %v, want mismatch", err)
	}
	if got := a.String(); len(got) != 71 || got[5] != ' ' {
		t.Fatalf("String() = %q, want 12 blocks of 5 digits", got)
	}
}

func TestSafetyNumberDevices(t *testing.T) {
	ctx := context.Background()
	dir := newDirectory()
	alice := newDevice(t, dir, "4915100000001", 1)
	bob := newDevice(t, dir, "4915100000002", 1)
	if _, err := alice.SafetyNumber(bob.Address()); !errors.Is(err, crypto.ErrNoIdentity) {
		t.Fatalf("safety number before any session: %v, want ErrNoIdentity", err)
	}
	roundTrip(t, alice, bob, "hi")
	sa, err := alice.SafetyNumber(bob.Address())
	if err != nil {
		t.Fatal(err)
	}
	sb, err := bob.SafetyNumber(alice.Address())
	if err != nil {
		t.Fatal(err)
	}
	if sa.Digits != sb.Digits || len(sa.Digits) != 60 {
		t.Fatalf("safety numbers %s and %s: want equal, 60 digits", sa.Digits, sb.Digits)
	}
	if err := sa.VerifyQR(sb.QR); err != nil {
		t.Fatal(err)
	}

	// Bob's key changes: the number changes, old QR codes stop matching.
	bob2 := newDevice(t, dir, "4915100000002", 1)
	_, err = bob2.Encrypt(ctx, alice.Address(), []byte("new"))
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.AcceptIdentity(ctx, bob2.Address(), bob2.IdentityKey()); err != nil {
		t.Fatal(err)
	}
	sa2, _ := alice.SafetyNumber(bob2.Address())
	sb2, _ := bob2.SafetyNumber(alice.Address())
	if sa2.Digits == sa.Digits {
		t.Fatal("safety number unchanged after a key change")
	}
	if sa2.Digits != sb2.Digits {
		t.Fatal("sides disagree after the key change")
	}
	if err := sa2.VerifyQR(sb.QR); !errors.Is(err, crypto.ErrSafetyNumberMismatch) {
		t.Fatalf("old QR against new number: %v, want mismatch", err)
	}
	if err := sa2.VerifyQR([]byte("not a qr")); !errors.Is(err, crypto.ErrMalformed) {
		t.Fatalf("garbage QR: %v, want ErrMalformed", err)
	}

	// Whole accounts: the order of device keys does not matter.
	k1, k2 := alice.IdentityKey(), bob.IdentityKey()
	x, _ := crypto.NewSafetyNumber(crypto.Party{Account: "a", Keys: []crypto.IdentityKey{k1, k2}}, crypto.Party{Account: "b", Keys: []crypto.IdentityKey{k2}})
	y, _ := crypto.NewSafetyNumber(crypto.Party{Account: "a", Keys: []crypto.IdentityKey{k2, k1}}, crypto.Party{Account: "b", Keys: []crypto.IdentityKey{k2}})
	if x.Digits != y.Digits {
		t.Fatal("account safety number depends on key order")
	}
}

package crypto_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/parley-chat/parley/crypto"
)

// tamperedDecrypt makes libsignal log (it logs MAC failures as errors).
func tamperedDecrypt(t *testing.T) {
	dir := newDirectory()
	alice := newDevice(t, dir, "alice", 1)
	bob := newDevice(t, dir, "bob", 1)
	roundTrip(t, alice, bob, "x")
	roundTrip(t, bob, alice, "y")
	ct := encrypt(t, alice, bob, "secret canary 7f3a")
	ct.Body[len(ct.Body)-1] ^= 1
	if _, err := bob.Decrypt(context.Background(), alice.Address(), ct); err == nil {
		t.Fatal("tampered message decrypted")
	}
}

func TestLibsignalLogging(t *testing.T) {
	t.Run("quiet_by_default", func(t *testing.T) {
		f, err := os.CreateTemp(t.TempDir(), "stdout") // os.Pipe does not exist on js/wasm
		if err != nil {
			t.Fatal(err)
		}
		stdout := os.Stdout
		os.Stdout = f
		tamperedDecrypt(t)
		os.Stdout = stdout
		f.Close()
		out, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if len(out) > 0 {
			t.Fatalf("libsignal wrote to stdout: %q", out)
		}
	})
	t.Run("routed_to_slog", func(t *testing.T) {
		var buf bytes.Buffer
		crypto.SetLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
		defer crypto.SetLogger(nil)
		tamperedDecrypt(t)
		out := buf.String()
		if !strings.Contains(out, "lib=libsignal") || !strings.Contains(out, "level=DEBUG") {
			t.Fatalf("no libsignal debug records in %q", out)
		}
		for _, bad := range []string{"canary", "cipherKey", "MAC: ["} {
			if strings.Contains(out, bad) {
				t.Fatalf("log contains %q: %s", bad, out)
			}
		}
	})
}

package atrest_test

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley/atrest"
)

func TestSealOpen(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	k, err := atrest.LoadOrCreate(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, atrest.KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode(), err)
	}
	sealed, err := k.Seal([]byte("app secret"), []byte("app 1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("app secret")) {
		t.Fatal("sealed value contains the plaintext")
	}
	// A second load (restart) opens it; the file is not replaced.
	k2, err := atrest.LoadOrCreate(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k2.Open(sealed, []byte("app 1"))
	if err != nil || string(got) != "app secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	tests := []struct {
		name   string
		sealed []byte
		aad    string
	}{
		{"OtherAAD", sealed, "app 2"},
		{"Tampered", append(append([]byte(nil), sealed[:len(sealed)-1]...), sealed[len(sealed)-1]^1), "app 1"},
		{"Short", sealed[:5], "app 1"},
		{"Version", append([]byte{9}, sealed[1:]...), "app 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := k.Open(tt.sealed, []byte(tt.aad)); err == nil {
				t.Errorf("Open succeeded, want an error")
			}
		})
	}
	other, _ := atrest.New(bytes.Repeat([]byte{7}, 32))
	if _, err := other.Open(sealed, []byte("app 1")); err == nil {
		t.Error("another key opened the value")
	}
}

func TestLoadRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"short": "abcd", "nothex": string(bytes.Repeat([]byte("zz"), 32))} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		if _, err := atrest.Load(p); err == nil {
			t.Errorf("Load(%s) succeeded", name)
		}
	}
	if _, err := atrest.Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("Load(missing) succeeded")
	}
}

package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// Flags beat env, env beats *_FILE, *_FILE beats the config file, and the
// config file beats defaults.
func TestSettlePrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "parley.conf")
	os.WriteFile(cfg, []byte("# comment\naddr = :9000\ndata = \"/from/file\"\nnats = nats://file:4222\nadmin-token = file-token\n"), 0o600)
	secret := filepath.Join(dir, "token")
	os.WriteFile(secret, []byte("secret-from-file\n"), 0o600)
	t.Setenv("PARLEY_DATA", "/from/env")
	t.Setenv("PARLEY_ADMIN_TOKEN_FILE", secret)

	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	addr := fs.String("addr", ":8080", "")
	data := fs.String("data", "./parley-data", "")
	natsURL := fs.String("nats", "", "")
	token := fs.String("admin-token", "", "")
	node := fs.String("node", "default-node", "")
	fs.String("config", "", "")
	if err := fs.Parse([]string{"--addr", ":7000"}); err != nil {
		t.Fatal(err)
	}
	if err := settle(fs, cfg); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"flag", *addr, ":7000"},
		{"env", *data, "/from/env"},
		{"env-file", *token, "secret-from-file"},
		{"config-file", *natsURL, "nats://file:4222"},
		{"default", *node, "default-node"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}

	os.WriteFile(cfg, []byte("no-such-setting = 1\n"), 0o600)
	if err := settle(flag.NewFlagSet("t", flag.ContinueOnError), cfg); err == nil {
		t.Error("unknown setting in the config file accepted")
	}
	os.WriteFile(cfg, []byte("just words\n"), 0o600)
	fs2 := flag.NewFlagSet("t", flag.ContinueOnError)
	if err := settle(fs2, cfg); err == nil {
		t.Error("malformed config line accepted")
	}
}

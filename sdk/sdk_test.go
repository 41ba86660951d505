package sdk

import (
	"fmt"
	"go/build"
	"strings"
	"testing"
)

// TestImports keeps the SDK a client: no server packages (it talks to
// servers over HTTP and WebSocket only; crypto is client-side, and
// internal/jsonscan and internal/jsonenc a JSON reader and writer the
// gateway shares) and no file system
// (it must build for browsers; sdk/profile holds the files).
func TestImports(t *testing.T) {
	for _, goos := range []string{"linux", "js"} {
		ctx := build.Default
		ctx.GOOS = goos
		if goos == "js" {
			ctx.GOARCH = "wasm"
		}
		pkg, err := ctx.ImportDir(".", 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range pkg.Imports {
			client := imp == "github.com/parley-chat/parley/crypto" || imp == "github.com/parley-chat/parley/internal/jsonscan" ||
				imp == "github.com/parley-chat/parley/internal/jsonenc"
			if strings.HasPrefix(imp, "github.com/parley-chat/parley") && !client || imp == "os" || imp == "io/fs" || imp == "path/filepath" {
				t.Errorf("GOOS=%s: sdk imports %s", goos, imp)
			}
		}
	}
}

func TestWebSocketURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"http://127.0.0.1:8080", "ws://127.0.0.1:8080/v1/ws"},
		{"https://chat.example.org/", "wss://chat.example.org/v1/ws"},
		{"https://example.org/parley", "wss://example.org/parley/v1/ws"},
		{"ftp://example.org", ""},
	} {
		got, err := WebSocketURL(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("WebSocketURL(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("WebSocketURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestAccountID(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"+4915112345678", "4915112345678"},
		{"4915112345678", "4915112345678"},
		{"+49 (151) 123-45.678", "4915112345678"},
		{"+1234567", ""},
		{"+0123456789", ""},
		{"+49151abc", ""},
	} {
		got, err := AccountID(tt.in)
		if (err != nil) != (tt.want == "") || got != tt.want {
			t.Errorf("AccountID(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestFatal(t *testing.T) {
	for code, want := range map[int]bool{1000: false, 1001: false, 1008: false, 4001: true, 4002: true,
		4003: true, 4004: true, 4009: true, 4500: false} {
		if got := Fatal(fmt.Errorf("wrapped: %w", &CloseError{Code: code})); got != want {
			t.Errorf("Fatal(%d) = %v, want %v", code, got, want)
		}
	}
}

func TestMemorySeenForgetsOldest(t *testing.T) {
	s := NewMemorySeen(2)
	for _, k := range []string{"a", "b", "a", "c"} {
		s.MarkSeen(k)
	}
	for k, want := range map[string]bool{"a": false, "b": true, "c": true, "d": false} {
		if got, _ := s.Seen(k); got != want {
			t.Errorf("Seen(%q) = %v, want %v", k, got, want)
		}
	}
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte(`{"type":"item","seq":42,"kind":"msg","message_id":"0194f2","from":"4915112345678","from_device":1,"to":"4915187654321","timestamp":1767225600123,"body":"eyJ0eXBlIjoidGV4dCIsInRleHQiOiJoaSJ9"}`))
	f.Add([]byte(`{"type":"error","id":"c-1","code":"stale_devices","message":"x","devices":{"4915187654321":[1,3]}}`))
	f.Add([]byte(`{"type":"ready","version":1,"account":"4915112345678","device":2,"node":"n","server_time":1}`))
	f.Add([]byte(`{"type":"text","text":"hi"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if fr, err := DecodeFrame(b); err == nil {
			if fr.Type == "" {
				t.Fatal("decoded a frame without type")
			}
			_ = fr.Err()
		}
		if p, err := DecodePayload(b); err == nil && p.Type == "" {
			t.Fatal("decoded a payload without type")
		}
	})
}

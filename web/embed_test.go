package web

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h, err := NewHandler()
	if err != nil {
		t.Fatal(err)
	}
	if !h.Has() {
		t.Fatal("no index.html in the embedded bundle (cd web && npm run build)")
	}
	get := func(method, path, enc string) *http.Response {
		r := httptest.NewRequest(method, path, nil)
		if enc != "" {
			r.Header.Set("Accept-Encoding", enc)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Result()
	}
	body := func(t *testing.T, resp *http.Response) string {
		var rd io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			rd = zr
		}
		b, _ := io.ReadAll(rd)
		return string(b)
	}

	tests := []struct {
		name, method, path, enc string
		status                  int
		ctype, encoding         string
		contains                string
	}{
		{"Index", "GET", "/", "", 200, "text/html; charset=utf-8", "", "<div id=\"app\">"},
		{"ClientRouteGetsIndex", "GET", "/chats/123", "gzip", 200, "text/html; charset=utf-8", "", "<div id=\"app\">"},
		{"WasmGzipped", "GET", "/parley.wasm", "gzip, deflate, br", 200, "application/wasm", "gzip", "\x00asm"},
		{"WasmUnpackedWithoutGzip", "GET", "/parley.wasm", "", 200, "application/wasm", "", "\x00asm"},
		{"WasmGzipRefused", "GET", "/parley.wasm", "gzip;q=0", 200, "application/wasm", "", "\x00asm"},
		{"WasmExec", "HEAD", "/wasm_exec.js", "gzip", 200, "text/javascript; charset=utf-8", "gzip", ""},
		{"BusinessApp", "GET", "/business/", "gzip", 200, "text/html; charset=utf-8", "", "/assets/business-"},
		{"BusinessRouteGetsBusinessApp", "GET", "/business/c/abc", "", 200, "text/html; charset=utf-8", "", "/assets/business-"},
		{"BusinessAPIIsNoPage", "GET", "/business/api/nope", "", 404, "", "", ""},
		{"IndexIsNotBusiness", "GET", "/chats/business", "", 200, "text/html; charset=utf-8", "", "parley.wasm"},
		{"MissingAsset", "GET", "/assets/nope.js", "", 404, "", "", ""},
		{"Post", "POST", "/", "", 405, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := get(tc.method, tc.path, tc.enc)
			if resp.StatusCode != tc.status {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status != 200 {
				return
			}
			if got := resp.Header.Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type: got %q, want %q", got, tc.ctype)
			}
			if got := resp.Header.Get("Content-Encoding"); got != tc.encoding {
				t.Errorf("Content-Encoding: got %q, want %q", got, tc.encoding)
			}
			if tc.contains != "" && !strings.Contains(body(t, resp), tc.contains) {
				t.Errorf("body does not contain %q", tc.contains)
			}
		})
	}

	t.Run("ETag", func(t *testing.T) {
		first := get("GET", "/parley.wasm", "gzip")
		r := httptest.NewRequest("GET", "/parley.wasm", nil)
		r.Header.Set("Accept-Encoding", "gzip")
		r.Header.Set("If-None-Match", first.Header.Get("ETag"))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusNotModified {
			t.Errorf("revalidation: got %d, want 304", w.Code)
		}
	})
	t.Run("IndexHeaders", func(t *testing.T) {
		resp := get("GET", "/", "")
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "'wasm-unsafe-eval'") {
			t.Errorf("CSP: got %q", csp)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("Cache-Control: got %q, want no-cache", cc)
		}
	})
}

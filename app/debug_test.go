package app_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/parley-chat/parley/app"
)

// The operator's debugging endpoints answer the operator only: a CPU
// profile and an execution trace (parley bench messages --trace).
func TestDebugEndpoints(t *testing.T) {
	n := startNode(t, app.Config{})
	get := func(path, token string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", n.base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if st, _ := get("/admin/v1/debug/pprof/trace?seconds=0.1", ""); st != http.StatusUnauthorized {
		t.Errorf("trace without the operator token: %d, want 401", st)
	}
	st, b := get("/admin/v1/debug/pprof/trace?seconds=0.1", adminToken(t, n))
	if st != http.StatusOK || !bytes.HasPrefix(b, []byte("go 1.")) {
		t.Errorf("trace: %d, %d bytes starting %q; want 200 and a Go execution trace", st, len(b), b[:min(len(b), 16)])
	}
	if st, b := get("/admin/v1/debug/pprof/goroutine?debug=1", adminToken(t, n)); st != http.StatusOK || !bytes.Contains(b, []byte("goroutine profile")) {
		t.Errorf("goroutine profile: %d, %q…", st, b[:min(len(b), 40)])
	}
}

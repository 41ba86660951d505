package app_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/parley-chat/parley/app"
)

// The operator's debugging endpoints answer the operator only: a CPU
// profile and an execution trace (parley bench messages --trace).
func TestDebugEndpoints(t *testing.T) {
	n := startNode(t, app.Config{})
	trace := n.base + "/admin/v1/debug/pprof/trace?seconds=0.1"
	if st, _, _ := downloadCloud(t, trace, ""); st != http.StatusUnauthorized {
		t.Errorf("trace without the operator token: %d, want 401", st)
	}
	st, _, b := downloadCloud(t, trace, adminToken(t, n))
	if st != http.StatusOK || !bytes.HasPrefix(b, []byte("go 1.")) {
		t.Errorf("trace: %d, %d bytes starting %q; want 200 and a Go execution trace", st, len(b), b[:min(len(b), 16)])
	}
	st, _, b = downloadCloud(t, n.base+"/admin/v1/debug/pprof/goroutine?debug=1", adminToken(t, n))
	if st != http.StatusOK || !bytes.Contains(b, []byte("goroutine profile")) {
		t.Errorf("goroutine profile: %d, %q…", st, b[:min(len(b), 40)])
	}
}

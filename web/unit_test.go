package web_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestUnit runs the web client's unit tests in unit/ (node's test
// runner on modules of src/ transpiled by esbuild). Outside CI it skips
// when node or the npm packages are missing; under CI=true it fails.
func TestUnit(t *testing.T) {
	ci := os.Getenv("CI") == "true"
	node, err := exec.LookPath("node")
	_, err2 := os.Stat(filepath.Join("node_modules", "esbuild"))
	if err != nil || err2 != nil {
		if ci {
			t.Fatal("the web unit tests need node and web/node_modules (cd web && npm ci)")
		}
		t.Skip("skipping web unit tests: node or web/node_modules is missing (CI=true makes this a failure)")
	}
	cmd := exec.Command(node, "--test", "unit/")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("web unit tests failed: %v", err)
	}
}

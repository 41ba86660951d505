// Package natstest gives tests the URL of an external NATS server from
// PARLEY_TEST_NATS. Without it the test is skipped, except under CI (CI
// set to anything), where it fails: CI must not pass by skipping.
package natstest

import (
	"os"
	"testing"
)

// EnvVar names the environment variable holding the NATS URL, e.g.
// nats://127.0.0.1:4222.
const EnvVar = "PARLEY_TEST_NATS"

// URL returns the NATS URL, skipping tb (failing it under CI) when unset.
func URL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv(EnvVar)
	if url == "" {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s not set; CI must run the NATS cluster tests", EnvVar)
		}
		tb.Skipf("%s not set; skipping a test that needs an external NATS server", EnvVar)
	}
	return url
}

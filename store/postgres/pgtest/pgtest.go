// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema in the database named by PARLEY_TEST_POSTGRES, dropped when the
// test ends, so that test packages running in parallel never collide.
//
// Without PARLEY_TEST_POSTGRES the test is skipped, except under CI (CI
// set to anything), where it fails: CI must not pass by skipping.
package pgtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/parley-chat/parley/store/postgres"
)

// EnvVar names the environment variable holding the base DSN, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvVar = "PARLEY_TEST_POSTGRES"

// BaseDSN returns the DSN from EnvVar, skipping tb (failing it under CI)
// when it is not set.
func BaseDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvVar)
	if dsn == "" {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s not set; CI must run the PostgreSQL tests", EnvVar)
		}
		tb.Skipf("%s not set; skipping PostgreSQL tests", EnvVar)
	}
	return dsn
}

// DSN creates a schema with a random name and returns a DSN whose
// search_path is that schema. The schema is dropped when tb ends. Every
// call gives a new, empty schema; to open the same database twice (two
// nodes), call DSN once and use the result twice.
func DSN(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.NewScratch(ctx, BaseDSN(tb), "parley_test_")
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Drop(ctx); err != nil {
			tb.Errorf("pgtest: %v", err)
		}
	})
	return s.DSN
}

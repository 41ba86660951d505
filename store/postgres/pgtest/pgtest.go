// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema in the database named by PARLEY_TEST_POSTGRES, dropped when the
// test ends, so that test packages running in parallel never collide.
//
// Without PARLEY_TEST_POSTGRES the test is skipped, except under CI (CI
// set to anything), where it fails: CI must not pass by skipping.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
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
	base := BaseDSN(tb)
	var b [8]byte
	rand.Read(b[:])
	schema := "parley_test_" + hex.EncodeToString(b[:])

	db, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		tb.Fatalf("pgtest: create schema: %v", err)
	}
	tb.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			tb.Errorf("pgtest: %v", err)
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	return WithSearchPath(base, schema)
}

// WithSearchPath returns dsn with its search_path set to schema. dsn is a
// postgres:// URL or a key=value connection string.
func WithSearchPath(dsn, schema string) string {
	if strings.Contains(dsn, "://") {
		if u, err := url.Parse(dsn); err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " search_path=" + schema
}

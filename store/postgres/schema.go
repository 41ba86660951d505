package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
)

// Scratch is a schema of its own for a run that must not meet anyone
// else's tables (tests, benchmarks); see NewScratch.
type Scratch struct {
	Schema string // its name
	DSN    string // the database's DSN with search_path set to Schema
	base   string
}

// NewScratch creates a schema named prefix followed by 16 random hex
// digits in the database of dsn. prefix must be a lower-case SQL
// identifier.
func NewScratch(ctx context.Context, dsn, prefix string) (*Scratch, error) {
	var b [8]byte
	rand.Read(b[:])
	schema := prefix + hex.EncodeToString(b[:])
	if err := onDatabase(ctx, dsn, `CREATE SCHEMA `+schema); err != nil {
		return nil, fmt.Errorf("postgres: create schema: %w", err)
	}
	return &Scratch{Schema: schema, DSN: WithSearchPath(dsn, schema), base: dsn}, nil
}

// Drop removes the schema with everything in it.
func (s *Scratch) Drop(ctx context.Context) error {
	if err := onDatabase(ctx, s.base, `DROP SCHEMA `+s.Schema+` CASCADE`); err != nil {
		return fmt.Errorf("postgres: drop schema %s: %w", s.Schema, err)
	}
	return nil
}

func onDatabase(ctx context.Context, dsn, stmt string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
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

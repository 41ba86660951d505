package postgres_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/store/postgres"
	"github.com/parley-chat/parley/store/postgres/pgtest"
	"github.com/parley-chat/parley/store/sqlstore"
	"github.com/parley-chat/parley/store/storetest"
)

// harness lets the conformance suite open the database a second time.
type harness struct {
	*sqlstore.Store
	dsn string
}

func (h harness) Reopen(ctx context.Context) (parley.Store, error) { return postgres.Open(ctx, h.dsn) }

func (h harness) Exec(ctx context.Context, query string) error {
	db, err := sql.Open("pgx", h.dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, query)
	return err
}

func open(tb testing.TB) parley.Store {
	tb.Helper()
	dsn := pgtest.DSN(tb)
	s, err := postgres.Open(tb.Context(), dsn)
	if err != nil {
		tb.Fatalf("postgres.Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return harness{s, dsn}
}

func TestStore(t *testing.T) {
	pgtest.BaseDSN(t) // skip (or fail under CI) once, not in every subtest
	storetest.Run(t, func(t *testing.T) parley.Store { return open(t) })
}

func BenchmarkDeliver(b *testing.B) {
	pgtest.BaseDSN(b)
	storetest.BenchmarkDeliver(b, open)
}

func BenchmarkEnqueue(b *testing.B) {
	pgtest.BaseDSN(b)
	storetest.BenchmarkEnqueue(b, open)
}

// Nodes starting at once on an empty schema migrate one after the other.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	const nodes = 4
	var wg sync.WaitGroup
	for range nodes {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), dsn)
			if err != nil {
				t.Errorf("Open: %v", err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(ms))
	}
}

func BenchmarkWebhookOutbox(b *testing.B) {
	pgtest.BaseDSN(b)
	storetest.BenchmarkWebhookOutbox(b, open)
}

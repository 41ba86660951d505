package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/store/sqlite"
	"github.com/parley-chat/parley/store/storetest"
)

// harness lets the conformance suite open the database a second time.
type harness struct {
	*sqlite.Store
	path string
}

func (h harness) Reopen(ctx context.Context) (parley.Store, error) { return sqlite.Open(ctx, h.path) }

func (h harness) Exec(ctx context.Context, query string) error {
	db, err := sql.Open("sqlite", h.path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, query)
	return err
}

func open(tb testing.TB) parley.Store {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "parley.db")
	s, err := sqlite.Open(tb.Context(), path)
	if err != nil {
		tb.Fatalf("sqlite.Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return harness{s, path}
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) parley.Store { return open(t) })
}

func BenchmarkDeliver(b *testing.B) {
	storetest.BenchmarkDeliver(b, open)
}

func TestOpenRejectsNonFilePaths(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if s, err := sqlite.Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

// The service pipelines deliveries when the store can (DeliverAsync);
// the SQLite wrapper must keep that method of sqlstore.Store.
func TestStoreKeepsDeliverAsync(t *testing.T) {
	var s parley.Store = open(t).(harness).Store
	if _, ok := s.(interface {
		DeliverAsync(context.Context, *parley.Delivery) func() error
	}); !ok {
		t.Errorf("%T has no DeliverAsync", s)
	}
}

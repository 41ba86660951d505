package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// readConns is the size of the read pool. Reads in WAL mode do not block
// the writer, so a few connections serve every request handler.
const readConns = 4

// pragmas run on every new connection, in this order. busy_timeout comes
// first so that the others wait for a lock instead of failing.
var pragmas = []string{
	"busy_timeout(5000)",
	"journal_mode(WAL)",
	"synchronous(NORMAL)",
	"foreign_keys(ON)",
}

// Dialect is SQLite's sqlstore.Dialect. Its write transactions begin
// IMMEDIATE, so they hold the database's write lock from the start and
// need no row locks; migrations need no lock of their own for the same
// reason. Open adds the batch connection of its database
// (OpenBatchConn).
var Dialect = sqlstore.Dialect{
	Name:            "sqlite",
	LocalWrites:     true,
	PurgeInRowOrder: true,
	Retryable:       retryable,
	Unavailable:     unavailable,
}

// Store is the SQLite store: sqlstore's, plus the background checkpointer.
type Store struct {
	*sqlstore.Store
	ckpt *checkpointer
}

var _ parley.Store = (*Store)(nil)

// Close stops the store (finishing queued deliveries), then the
// checkpointer.
func (s *Store) Close() error {
	err := s.Store.Close()
	if cerr := s.ckpt.close(); err == nil {
		err = cerr
	}
	return err
}

// Open opens (creating it if needed) the SQLite database at path,
// migrates it, and returns the store. It fails when the database's schema
// is newer than this binary knows (see sqlstore.ErrSchemaTooNew).
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlite.Open: %q: want the path of a database file (no URI, no ?, no :memory:, which the read pool could not share)", path)
	}
	w, err := openPool(path, "?_txlock=immediate", false, writerPragmas...)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1) // SQLite has one writer; the batcher makes the most of it
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	ms, err := Migrations()
	if err == nil {
		err = sqlstore.Migrate(ctx, w, Dialect, ms)
	}
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite.Open: %w", err)
	}

	r, err := openPool(path, "", true)
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(readConns)
	r.SetMaxIdleConns(readConns)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite.Open: read pool: %w", err)
	}
	ckpt, err := startCheckpointer(path)
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	d := Dialect
	d.OpenBatchConn = func() (sqlstore.BatchConn, error) {
		return openBatchConn(path, batchPragmas)
	}
	return &Store{sqlstore.New(w, r, d), ckpt}, nil
}

// Migrations returns the embedded schema migrations.
func Migrations() ([]sqlstore.Migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return sqlstore.LoadMigrations(sub)
}

// writerPragmas follow pragmas on the write pool's connection. The
// checkpointer copies the WAL into the database in the background; the
// writer checkpoints only when the WAL has grown past this many pages,
// finding most of it copied already, and so lets the WAL start over.
// The page cache keeps SQLite's default size (2,000 KiB): every commit
// ends with a pass over the cache's hash table, which with a 32 MB cache
// took 2-3 % of the server's CPU under load, and the writer's CPU per
// message was 4-22 % higher than with the default, whose ~500 pages held
// what the benchmark's batches touch (docs/BENCHMARKS.md, session 10).
// Statement journals stay in memory: a batch's multi-row statements (the
// idempotency keys' INSERT … ON CONFLICT, the mailbox inserts) each keep
// one, and in a temporary file they cost a pwrite per page touched (about
// 5 % of the server's CPU at saturation). They only undo a failed
// statement inside its transaction; the WAL alone makes commits durable.
var writerPragmas = []string{"wal_autocheckpoint(8000)", "cache_size(-2000)", "temp_store(MEMORY)"}

// batchPragmas are the batch connection's: the write pool's, as it
// writes in its stead.
var batchPragmas = append(pragmas[:len(pragmas):len(pragmas)], writerPragmas...)

func openPool(path, query string, readOnly bool, extra ...string) (*sql.DB, error) {
	c, err := sqlite.NewConnector(path + query)
	if err != nil {
		return nil, fmt.Errorf("sqlite.Open: %w", err)
	}
	ps := append(pragmas[:len(pragmas):len(pragmas)], extra...)
	if readOnly {
		ps = append(ps, "query_only(1)")
	}
	return sql.OpenDB(connector{c, ps}), nil
}

// connector runs the pragmas on each new connection in the given order
// (the driver's own _pragma DSN parameters would sort them).
type connector struct {
	driver.Connector
	pragmas []string
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, errors.New("sqlite: driver connection cannot execute statements")
	}
	for _, p := range c.pragmas {
		if _, err := ex.ExecContext(ctx, "PRAGMA "+p, nil); err != nil {
			conn.Close()
			return nil, fmt.Errorf("sqlite: PRAGMA %s: %w", p, err)
		}
	}
	return conn, nil
}

// code returns the SQLite result code of an error of the driver's or of
// the batch connection's.
func code(err error) (int, bool) {
	var e interface{ Code() int }
	if !errors.As(err, &e) {
		return 0, false
	}
	return e.Code(), true
}

func retryable(err error) bool {
	c, ok := code(err)
	if !ok {
		return false
	}
	switch c & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	// A key written by another process sharing the file.
	return c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || c == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

func unavailable(err error) bool {
	c, ok := code(err)
	if !ok {
		return false
	}
	switch c & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
		return true
	}
	return false
}

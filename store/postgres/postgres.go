package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/parley-chat/parley/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// maxConns bounds the pool: the batcher needs one connection, request
// handlers the rest.
const maxConns = 16

// migrationLock is the advisory lock's first key ("parl"); the second is
// a hash of the schema name, so that schemas migrate independently.
const migrationLock = 0x7061726c

// Dialect is PostgreSQL's sqlstore.Dialect.
var Dialect = sqlstore.Dialect{
	Name:           "postgres",
	Numbered:       true,
	LockRows:       " FOR UPDATE",
	LockRowsNoWait: " FOR UPDATE NOWAIT",
	LockBusy:       func(err error) bool { return sqlState(err) == "55P03" }, // lock_not_available
	SkipLocked:     " FOR UPDATE SKIP LOCKED",
	Retryable:      retryable,
	Unavailable:    unavailable,
	LockMigrations: lockMigrations,
}

// Open connects to the database at dsn (a URL or key=value string, as
// pgx accepts), migrates it, and returns the store. It fails when the
// schema is newer than this binary knows (see sqlstore.ErrSchemaTooNew).
func Open(ctx context.Context, dsn string) (*sqlstore.Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres.Open: %w", err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres.Open: %w", err)
	}
	ms, err := Migrations()
	if err == nil {
		err = sqlstore.Migrate(ctx, db, Dialect, ms)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres.Open: %w", err)
	}
	return sqlstore.New(db, db, Dialect), nil
}

// Migrations returns the embedded schema migrations.
func Migrations() ([]sqlstore.Migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return sqlstore.LoadMigrations(sub)
}

func lockMigrations(ctx context.Context, conn *sql.Conn) (func() error, error) {
	const key = `hashtext(current_schema())`
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, `+key+`)`, migrationLock); err != nil {
		return nil, err
	}
	return func() error {
		// The caller's ctx may have ended; the lock must go anyway, or
		// the connection returns to the pool still holding it.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1, `+key+`)`, migrationLock)
		return err
	}, nil
}

func sqlState(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func retryable(err error) bool {
	switch sqlState(err) {
	case "40001", // serialization_failure
		"40P01", // deadlock_detected
		"55P03", // lock_not_available
		"23505": // unique_violation: a key committed by another node meanwhile
		return true
	}
	return false
}

func unavailable(err error) bool {
	if s := sqlState(err); s != "" {
		switch {
		case s[:2] == "08", // connection_exception
			s[:2] == "53",              // insufficient_resources
			s == "57P01", s == "57P03": // admin_shutdown, cannot_connect_now
			return true
		}
		return false
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

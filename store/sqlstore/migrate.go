package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrSchemaTooNew is returned by Migrate when the database was migrated by
// a newer binary: running on a schema this code does not know could lose
// or corrupt data, so the store refuses to open.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary")

// Migration is one versioned schema change.
type Migration struct {
	Version int
	Name    string // file name, for errors
	SQL     string
}

// LoadMigrations reads the *.sql files at the top of fsys. Each name
// starts with its version number ("0001_init.sql"); versions must be
// unique and are returned in ascending order.
func LoadMigrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	ms := make([]Migration, 0, len(names))
	for _, name := range names {
		digits, _, _ := strings.Cut(path.Base(name), "_")
		v, err := strconv.Atoi(digits)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("load migrations: %s: name must start with a positive version number and _", name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("load migrations: %w", err)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("load migrations: %s and %s have the same version", ms[i-1].Name, ms[i].Name)
		}
	}
	if len(ms) == 0 {
		return nil, errors.New("load migrations: no migrations")
	}
	return ms, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    BIGINT PRIMARY KEY,
	applied_at BIGINT NOT NULL
)`

// Migrate brings the database up to the newest of ms. Each migration runs
// in its own transaction together with its row in schema_migrations, so a
// failed migration leaves the schema at the previous version. It returns
// an error wrapping ErrSchemaTooNew, naming both versions, when the
// database has a version newer than the newest of ms.
//
// Processes starting at the same time are serialized by the dialect's
// LockMigrations and, where there is none, by the transactions
// themselves: every migration checks inside its transaction that it has
// not been applied in the meantime.
func Migrate(ctx context.Context, db *sql.DB, d Dialect, ms []Migration) (err error) {
	if len(ms) == 0 {
		return errors.New("migrate: no migrations")
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: migrate: %w", d.Name, err)
	}
	defer conn.Close()
	if d.LockMigrations != nil {
		unlock, err := d.LockMigrations(ctx, conn)
		if err != nil {
			return fmt.Errorf("%s: migrate: lock: %w", d.Name, err)
		}
		defer func() {
			if uerr := unlock(); uerr != nil && err == nil {
				err = fmt.Errorf("%s: migrate: unlock: %w", d.Name, uerr)
			}
		}()
	}
	if _, err := conn.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("%s: migrate: %w", d.Name, err)
	}
	known := ms[len(ms)-1].Version
	current, err := schemaVersion(ctx, conn)
	if err != nil {
		return fmt.Errorf("%s: migrate: %w", d.Name, err)
	}
	if current > known {
		return fmt.Errorf("%s: %w: the database is at schema version %d, this binary knows versions up to %d; upgrade parley before opening this database",
			d.Name, ErrSchemaTooNew, current, known)
	}
	check := d.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`)
	record := d.rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`)
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		if err := applyMigration(ctx, conn, m, check, record); err != nil {
			return fmt.Errorf("%s: migrate: %s: %w", d.Name, m.Name, err)
		}
	}
	return nil
}

func schemaVersion(ctx context.Context, conn *sql.Conn) (int, error) {
	var v sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, err
	}
	return int(v.Int64), nil
}

func applyMigration(ctx context.Context, conn *sql.Conn, m Migration, check, record string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, check, m.Version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil // applied by a process that started at the same time
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, record, m.Version, time.Now().UnixMicro()); err != nil {
		return err
	}
	return tx.Commit()
}

package bench

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the baseline uses the same driver as the store
)

// SQLiteInserts is the storage baseline: rows of 100 bytes inserted in
// batches of batch rows per transaction (WAL, synchronous=NORMAL, one
// connection), as fast as possible. It returns rows per second.
func SQLiteInserts(ctx context.Context, dir string, rows, batch int) (float64, error) {
	dsn := "file:" + filepath.Join(dir, "baseline.db") + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	return inserts(ctx, "sqlite", dsn, `CREATE TABLE msg(id INTEGER PRIMARY KEY, conv TEXT, sender TEXT, ts INTEGER, body BLOB)`,
		`INSERT INTO msg(conv, sender, ts, body) VALUES (?, ?, ?, ?)`, rows, batch)
}

// inserts runs the baselines' loop on one connection of driver to dsn:
// the statement create, then rows of 100 bytes by the prepared statement
// insert, batch rows per transaction. It returns rows per second.
func inserts(ctx context.Context, driver, dsn, create, insert string, rows, batch int) (float64, error) {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, create); err != nil {
		return 0, err
	}
	body := make([]byte, 100)
	start := time.Now()
	for done := 0; done < rows; {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		st, err := tx.PrepareContext(ctx, insert)
		if err != nil {
			tx.Rollback()
			return 0, err
		}
		for i := 0; i < batch && done < rows; i++ {
			if _, err := st.ExecContext(ctx, fmt.Sprint(done%100), "4915100000001", time.Now().UnixMicro(), body); err != nil {
				tx.Rollback()
				return 0, err
			}
			done++
		}
		st.Close()
		if err := tx.Commit(); err != nil {
			return 0, err
		}
	}
	return float64(rows) / time.Since(start).Seconds(), nil
}

package bench

import (
	"context"
	"database/sql"

	_ "github.com/jackc/pgx/v5/stdlib" // the baseline uses the same driver as the store
)

// PostgresInserts is SQLiteInserts on PostgreSQL: rows of 100 bytes
// inserted into a new table of the database (and search_path) of dsn, a
// prepared statement per row, batch rows per transaction, one connection.
// It returns rows per second.
func PostgresInserts(ctx context.Context, dsn string, rows, batch int) (float64, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE baseline_msg (id BIGSERIAL PRIMARY KEY, conv TEXT, sender TEXT, ts BIGINT, body BYTEA)`); err != nil {
		return 0, err
	}
	return inserts(ctx, db, `INSERT INTO baseline_msg (conv, sender, ts, body) VALUES ($1, $2, $3, $4)`, rows, batch)
}

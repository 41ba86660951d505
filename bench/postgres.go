package bench

import (
	"context"

	_ "github.com/jackc/pgx/v5/stdlib" // the baseline uses the same driver as the store
)

// PostgresInserts is SQLiteInserts on PostgreSQL: rows of 100 bytes
// inserted into a new table of the database (and search_path) of dsn, a
// prepared statement per row, batch rows per transaction, one connection.
// It returns rows per second.
func PostgresInserts(ctx context.Context, dsn string, rows, batch int) (float64, error) {
	return inserts(ctx, "pgx", dsn, `CREATE TABLE baseline_msg (id BIGSERIAL PRIMARY KEY, conv TEXT, sender TEXT, ts BIGINT, body BYTEA)`,
		`INSERT INTO baseline_msg (conv, sender, ts, body) VALUES ($1, $2, $3, $4)`, rows, batch)
}

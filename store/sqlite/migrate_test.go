package sqlite_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/store/sqlite"
	"github.com/parley-chat/parley/store/sqlstore"
)

// migratedBefore returns the path of a new database migrated up to, not
// including, version, and a connection to it that the caller closes.
func migratedBefore(t *testing.T, version int) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parley.db")
	ms, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var before []sqlstore.Migration
	for _, m := range ms {
		if m.Version < version {
			before = append(before, m)
		}
	}
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlstore.Migrate(t.Context(), db, sqlite.Dialect, before); err != nil {
		t.Fatal(err)
	}
	return path, db
}

// openMigrated closes db and opens the store at path, which migrates it
// to the current schema.
func openMigrated(t *testing.T, path string, db *sql.DB) *sqlite.Store {
	t.Helper()
	db.Close()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open (migrating to the current schema): %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Migration 0023 rebuilds webhook_events (ids unique per queue): open and
// dead events written under the old schema come through it whole, and
// keep their order.
func TestMigrationKeepsWebhookEvents(t *testing.T) {
	ctx := t.Context()
	path, db := migratedBefore(t, 23)
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC).UnixMicro()
	for i, e := range []struct {
		seq       int
		id, key   string
		state     int
		dead      int64
		lastError string
	}{{3, "e1", "k", 0, 0, ""}, {5, "e2", "k", 0, 0, ""}, {7, "d1", "j", 2, t0, "HTTP 500"}} {
		_, err := db.ExecContext(ctx, `INSERT INTO webhook_events (seq, id, endpoint, okey, body, state, attempts, last_error, created_at, enqueued_at, dead_at)
			VALUES (?, ?, 'app', ?, ?, ?, ?, ?, ?, ?, ?)`, e.seq, e.id, e.key, fmt.Sprintf(`{"n":%d}`, i), e.state, e.state/2, e.lastError, t0, t0, e.dead)
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO webhook_queues (endpoint, okey, open_events, due_at) VALUES ('app', 'k', 2, ?)`, t0); err != nil {
		t.Fatal(err)
	}
	s := openMigrated(t, path, db)
	now := time.UnixMicro(t0)
	qs, err := s.ClaimWebhooks(ctx, parley.WebhookClaim{Now: now, LeaseUntil: now.Add(time.Minute), Lease: "l", Queues: 10, PerQueue: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 1 || len(qs[0].Events) != 2 || qs[0].Events[0].ID != "e1" || qs[0].Events[0].Seq != 3 ||
		qs[0].Events[1].ID != "e2" || string(qs[0].Events[1].Body) != `{"n":1}` {
		t.Fatalf("claimed %+v after the migration, want app/k with e1 (seq 3), e2", qs)
	}
	dead, err := s.DeadWebhooks(ctx, parley.WebhookFilter{})
	if err != nil || len(dead) != 1 || dead[0].ID != "d1" || dead[0].LastError != "HTTP 500" || dead[0].Attempts != 1 {
		t.Fatalf("DeadWebhooks = %+v, %v; want d1", dead, err)
	}
	if n, err := s.ReplayWebhooks(ctx, []string{"d1"}, now); err != nil || n != 1 {
		t.Errorf("ReplayWebhooks(d1) = %d, %v; want 1", n, err)
	}
	if open, dead, err := s.WebhookDepth(ctx); err != nil || open != 3 || dead != 0 {
		t.Errorf("WebhookDepth = %d, %d, %v; want 3 open, 0 dead", open, dead, err)
	}
}

// Migration 0028 rebuilds idempotency with the client id first in its
// key: keys committed before it still make their resends duplicates.
func TestMigrationKeepsIdempotencyKeys(t *testing.T) {
	ctx := t.Context()
	path, db := migratedBefore(t, 28)
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i, k := range []struct{ from, client string }{{"15550001", "c-1"}, {"15550002", "c-1"}, {"15550001", "c-2"}} {
		_, err := db.ExecContext(ctx, `INSERT INTO idempotency (from_account, from_device, client_id, message_id, sent_at) VALUES (?, 1, ?, ?, ?)`,
			k.from, k.client, fmt.Sprintf("m%d", i), t0.Add(time.Duration(i)*time.Second).UnixMicro())
		if err != nil {
			t.Fatal(err)
		}
	}
	s := openMigrated(t, path, db)
	for i, k := range []struct{ from, client string }{{"15550001", "c-1"}, {"15550002", "c-1"}, {"15550001", "c-2"}} {
		id, at, err := s.Sent(ctx, k.from, 1, k.client)
		if want := fmt.Sprintf("m%d", i); err != nil || id != want || !at.Equal(t0.Add(time.Duration(i)*time.Second)) {
			t.Errorf("Sent(%s, 1, %s) = %q, %v, %v; want %s at %v", k.from, k.client, id, at, err, want, t0.Add(time.Duration(i)*time.Second))
		}
	}
	if _, _, err := s.Sent(ctx, "15550002", 1, "c-2"); err == nil {
		t.Error("Sent(15550002, 1, c-2) found a key that was never committed")
	}
}

// Migration 0030 rebuilds idempotency as a table in claim order: keys
// committed before it keep making their resends duplicates, their rows
// come oldest first (the purge reads them in that order), and a key is
// still unique.
func TestMigrationKeysInRowOrder(t *testing.T) {
	ctx := t.Context()
	path, db := migratedBefore(t, 30)
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	// Inserted out of time order: c-3 is the oldest, c-1 the youngest.
	for i, c := range []string{"c-1", "c-2", "c-3"} {
		_, err := db.ExecContext(ctx, `INSERT INTO idempotency (from_account, from_device, client_id, message_id, sent_at) VALUES ('15550001', 1, ?, ?, ?)`,
			c, "m-"+c, t0.Add(-time.Duration(i)*time.Hour).UnixMicro())
		if err != nil {
			t.Fatal(err)
		}
	}
	s := openMigrated(t, path, db)
	for i, c := range []string{"c-1", "c-2", "c-3"} {
		id, at, err := s.Sent(ctx, "15550001", 1, c)
		if want := t0.Add(-time.Duration(i) * time.Hour); err != nil || id != "m-"+c || !at.Equal(want) {
			t.Errorf("Sent(15550001, 1, %s) = %q, %v, %v; want m-%s at %v", c, id, at, err, c, want)
		}
	}
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var order []string
	rows, err := db.QueryContext(ctx, `SELECT client_id FROM idempotency ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		order = append(order, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != "[c-3 c-2 c-1]" {
		t.Errorf("rows in rowid order: %v, want oldest first [c-3 c-2 c-1]", order)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO idempotency (from_account, from_device, client_id, message_id, sent_at) VALUES ('15550001', 1, 'c-2', 'other', 0)`)
	if err == nil {
		t.Error("a second row with the key (15550001, 1, c-2) was inserted")
	}
}

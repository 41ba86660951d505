package sqlite_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/store/sqlite"
)

// openWithSQL opens a store in a new database, and a second connection
// to it for the test's own statements; both close with the test.
func openWithSQL(t *testing.T) (*sqlite.Store, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return s, db
}

// SQLite's mailbox and idempotency keys have no index on sent_at: Purge
// reads the oldest rows by rowid and stops at a slice that is not
// entirely past the retention. A row stored after younger ones with an
// older time (a resent copy keeps its message's time; a key claimed while
// the clock was set back) goes once the rows stored before it have gone.
func TestPurgeInRowOrder(t *testing.T) {
	for _, c := range []struct {
		table  string
		insert string // the i-th row, stored at a time
		args   func(i int, at int64) []any
		// after checks what is left after the first purge.
		after func(t *testing.T, s *sqlite.Store)
	}{{
		table: "mailbox",
		insert: `INSERT INTO mailbox (account, device, seq, kind, message_id, client_id, from_account, from_device,
			to_account, sent_at) VALUES ('15550001', 1, ?, 'message', ?, '', '15550002', 1, '15550001', ?)`,
		args:  func(i int, at int64) []any { return []any{i, i, at} },
		after: func(*testing.T, *sqlite.Store) {},
	}, {
		table:  "idempotency",
		insert: `INSERT INTO idempotency (from_account, from_device, client_id, message_id, sent_at) VALUES ('15550002', 1, ?, ?, ?)`,
		args:   func(i int, at int64) []any { return []any{fmt.Sprintf("c-%05d", i), fmt.Sprintf("m-%05d", i), at} },
		// The young keys still make resends duplicates; the old ones not.
		after: func(t *testing.T, s *sqlite.Store) {
			if _, _, err := s.Sent(t.Context(), "15550002", 1, "c-00001"); err == nil {
				t.Error("a purged key is still found")
			}
			if id, _, err := s.Sent(t.Context(), "15550002", 1, "c-02501"); err != nil || id != "m-02501" {
				t.Errorf("Sent of a young key = %q, %v; want m-02501", id, err)
			}
		},
	}} {
		t.Run(c.table, func(t *testing.T) {
			ctx := t.Context()
			s, db := openWithSQL(t)
			t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
			old, young := t0.Add(-48*time.Hour).UnixMicro(), t0.UnixMicro()
			i := 0
			store := func(at int64, n int) {
				t.Helper()
				for range n {
					i++
					if _, err := db.ExecContext(ctx, c.insert, c.args(i, at)...); err != nil {
						t.Fatal(err)
					}
				}
			}
			store(old, 2500)   // several purge slices
			store(young, 1000) // a whole slice
			store(old, 3)      // stored last with an older time

			left := func() (n, oldLeft int) {
				t.Helper()
				err := db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE sent_at = ?) FROM `+c.table, old).Scan(&n, &oldLeft)
				if err != nil {
					t.Fatal(err)
				}
				return n, oldLeft
			}
			n, err := s.Purge(ctx, t0.Add(-24*time.Hour))
			if err != nil || n != 2500 {
				t.Fatalf("Purge = %d, %v; want the 2,500 old rows stored before the young ones", n, err)
			}
			if total, o := left(); total != 1003 || o != 3 {
				t.Errorf("after Purge %d rows are left, %d of them old; want the 1,000 young ones and the 3 stored last", total, o)
			}
			c.after(t, s)
			if n, err := s.Purge(ctx, t0.Add(-24*time.Hour)); err != nil || n != 0 {
				t.Errorf("second Purge = %d, %v; want 0 (the oldest row is within the retention)", n, err)
			}
			if n, err := s.Purge(ctx, t0.Add(time.Second)); err != nil || n != 1003 {
				t.Errorf("Purge once the young rows are past the retention = %d, %v; want 1,003", n, err)
			}
			if total, _ := left(); total != 0 {
				t.Errorf("%d rows left, want none", total)
			}
		})
	}
}

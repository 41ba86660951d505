package sqlite_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/store/sqlite"
)

// SQLite's mailbox has no index on sent_at: Purge reads the oldest rows by
// rowid and stops at a slice that is not entirely past the retention. An
// item stored after younger ones with an older time (a resent copy keeps
// its message's time) goes once the items stored before it have gone.
func TestPurgeInRowOrder(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	old, young := t0.Add(-48*time.Hour).UnixMicro(), t0.UnixMicro()
	seq := 0
	store := func(at int64, n int) {
		t.Helper()
		for range n {
			seq++
			_, err := db.ExecContext(ctx, `INSERT INTO mailbox (account, device, seq, kind, message_id, client_id, from_account,
				from_device, to_account, sent_at) VALUES ('15550001', 1, ?, 'message', ?, '', '15550002', 1, '15550001', ?)`,
				seq, seq, at)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	store(old, 2500)   // several purge slices
	store(young, 1000) // a whole slice
	store(old, 3)      // resent copies, stored last

	left := func() (n, oldLeft int) {
		t.Helper()
		err := db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE sent_at = ?) FROM mailbox`, old).Scan(&n, &oldLeft)
		if err != nil {
			t.Fatal(err)
		}
		return n, oldLeft
	}
	n, err := s.Purge(ctx, t0.Add(-24*time.Hour))
	if err != nil || n != 2500 {
		t.Fatalf("Purge = %d, %v; want the 2,500 old items stored before the young ones", n, err)
	}
	if total, o := left(); total != 1003 || o != 3 {
		t.Errorf("after Purge %d items are left, %d of them old; want the 1,000 young ones and the 3 resent", total, o)
	}
	if n, err := s.Purge(ctx, t0.Add(-24*time.Hour)); err != nil || n != 0 {
		t.Errorf("second Purge = %d, %v; want 0 (the oldest row is within the retention)", n, err)
	}
	if n, err := s.Purge(ctx, t0.Add(time.Second)); err != nil || n != 1003 {
		t.Errorf("Purge once the young items are past the retention = %d, %v; want 1,003", n, err)
	}
	if total, _ := left(); total != 0 {
		t.Errorf("%d items left, want none", total)
	}
}

// The idempotency keys are purged the same way: in rowid order, up to the
// first slice not entirely past the retention; keys within it stay and
// still make resends duplicates.
func TestPurgeKeysInRowOrder(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	old, young := t0.Add(-48*time.Hour).UnixMicro(), t0.UnixMicro()
	n := 0
	claim := func(at int64, count int) {
		t.Helper()
		for range count {
			n++
			_, err := db.ExecContext(ctx, `INSERT INTO idempotency (from_account, from_device, client_id, message_id, sent_at)
				VALUES ('15550002', 1, ?, ?, ?)`, fmt.Sprintf("c-%05d", n), fmt.Sprintf("m-%05d", n), at)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	claim(old, 2500)   // several purge slices
	claim(young, 1000) // a whole slice
	claim(old, 3)      // claimed last with an older time (a clock set back)

	if got, err := s.Purge(ctx, t0.Add(-24*time.Hour)); err != nil || got != 2500 {
		t.Fatalf("Purge = %d, %v; want the 2,500 old keys claimed before the young ones", got, err)
	}
	var left, oldLeft int
	if err := db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE sent_at = ?) FROM idempotency`, old).Scan(&left, &oldLeft); err != nil {
		t.Fatal(err)
	}
	if left != 1003 || oldLeft != 3 {
		t.Errorf("after Purge %d keys are left, %d of them old; want the 1,000 young ones and the 3 claimed last", left, oldLeft)
	}
	if _, _, err := s.Sent(ctx, "15550002", 1, "c-00001"); err == nil {
		t.Error("a purged key is still found")
	}
	if id, _, err := s.Sent(ctx, "15550002", 1, "c-02501"); err != nil || id != "m-02501" {
		t.Errorf("Sent of a young key = %q, %v; want m-02501", id, err)
	}
	if got, err := s.Purge(ctx, t0.Add(time.Second)); err != nil || got != 1003 {
		t.Errorf("Purge once the young keys are past the retention = %d, %v; want 1,003", got, err)
	}
}

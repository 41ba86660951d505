package sqlite

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/store/sqlstore"
)

// The store suites run every mailbox batch on the batch connection; these
// check its edges: conversions, errors, transactions.

func openTestBatchConn(t *testing.T) (*batchConn, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "b.db")
	db, err := openPool(path, "", false) // creates the file, as Open does before the batch connection
	if err == nil {
		err = db.PingContext(t.Context())
		db.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	c, err := openBatchConn(path, batchPragmas)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c, path
}

func TestBatchConnPragmas(t *testing.T) {
	c, _ := openTestBatchConn(t)
	for name, want := range map[string]int64{"busy_timeout": 5000, "synchronous": 1, "foreign_keys": 1, "temp_store": 2,
		"wal_autocheckpoint": 8000, "cache_size": -2000} {
		var got []int64
		err := c.Query("PRAGMA "+name, nil, func(r sqlstore.Row) error {
			var v int64
			err := r.Scan(&v)
			got = append(got, v)
			return err
		})
		if err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("PRAGMA %s = %v, %v; want %d", name, got, err, want)
		}
	}
	var mode string
	if err := c.Query("PRAGMA journal_mode", nil, func(r sqlstore.Row) error { return r.Scan(&mode) }); err != nil || mode != "wal" {
		t.Errorf("PRAGMA journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestBatchConnValues(t *testing.T) {
	c, _ := openTestBatchConn(t)
	if _, err := c.Exec(`CREATE TABLE v (i INTEGER PRIMARY KEY, s, b, n)`, nil); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 200<<10) // past the first buffer
	rows := []struct {
		args  []any
		s     string
		b     []byte
		n     int64
		nullB bool // b is NULL
	}{
		{args: []any{int64(1), "text", []byte("bytes"), int64(-7)}, s: "text", b: []byte("bytes"), n: -7},
		{args: []any{2, "", []byte{}, uint32(4000000000)}, s: "", b: nil, n: 4000000000},
		{args: []any{int32(3), "é\x00z", []byte(nil), true}, s: "é\x00z", nullB: true, n: 1},
		{args: []any{uint64(4), big, []byte(big[:70000]), false}, s: big, b: []byte(big[:70000]), n: 0},
	}
	if err := c.Begin(); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if n, err := c.Exec(`INSERT INTO v VALUES (?, ?, ?, ?)`, r.args); err != nil || n != 1 {
			t.Fatalf("insert %v = %d, %v", r.args[0], n, err)
		}
	}
	if err := c.Commit(); err != nil {
		t.Fatal(err)
	}
	i := 0
	err := c.Query(`SELECT s, b, n, b IS NULL FROM v ORDER BY i`, nil, func(r sqlstore.Row) error {
		var s string
		var b []byte
		var n, isNull int64
		if err := r.Scan(&s, &b, &n, &isNull); err != nil {
			return err
		}
		w := rows[i]
		if s != w.s || !bytes.Equal(b, w.b) || n != w.n || (isNull == 1) != w.nullB {
			t.Errorf("row %d = %.20q %.20q %d null=%d; want %.20q %.20q %d null=%v", i, s, b, n, isNull, w.s, w.b, w.n, w.nullB)
		}
		i++
		return nil
	})
	if err != nil || i != len(rows) {
		t.Fatalf("read %d rows, %v; want %d", i, err, len(rows))
	}

	// What cannot be bound or scanned is an error, and the statement is
	// usable again after it.
	for _, bad := range []struct {
		name string
		run  func() error
	}{
		{"StructArgument", func() error { _, err := c.Exec(`INSERT INTO v (s) VALUES (?)`, []any{struct{}{}}); return err }},
		{"TimeArgument", func() error { _, err := c.Exec(`INSERT INTO v (s) VALUES (?)`, []any{time.Now()}); return err }},
		{"HugeUint", func() error { _, err := c.Exec(`INSERT INTO v (s) VALUES (?)`, []any{uint64(1 << 63)}); return err }},
		{"TooFewArguments", func() error { _, err := c.Exec(`INSERT INTO v (s, n) VALUES (?, ?)`, []any{"a"}); return err }},
		{"TwoStatements", func() error { _, err := c.Exec(`SELECT 1; SELECT 2`, nil); return err }},
		{"SyntaxError", func() error { _, err := c.Exec(`SELEKT 1`, nil); return err }},
		{"NullIntoString", func() error {
			return c.Query(`SELECT NULL`, nil, func(r sqlstore.Row) error { var s string; return r.Scan(&s) })
		}},
		{"TextIntoInteger", func() error {
			return c.Query(`SELECT 'x'`, nil, func(r sqlstore.Row) error { var n int64; return r.Scan(&n) })
		}},
		{"StatementWhileScanning", func() error {
			return c.Query(`SELECT 1`, nil, func(sqlstore.Row) error { _, err := c.Exec(`SELECT 2`, nil); return err })
		}},
		{"TooFewDestinations", func() error {
			return c.Query(`SELECT 1, 2`, nil, func(r sqlstore.Row) error { var n int64; return r.Scan(&n) })
		}},
	} {
		if err := bad.run(); err == nil {
			t.Errorf("%s: no error", bad.name)
		}
	}
	var n int64
	if err := c.Query(`SELECT count(*) FROM v WHERE s = ?`, []any{"text"}, func(r sqlstore.Row) error { return r.Scan(&n) }); err != nil || n != 1 {
		t.Errorf("after the errors: count = %d, %v; want 1", n, err)
	}
}

func TestBatchConnTransactions(t *testing.T) {
	c, path := openTestBatchConn(t)
	if _, err := c.Exec(`CREATE TABLE k (id TEXT PRIMARY KEY)`, nil); err != nil {
		t.Fatal(err)
	}
	count := func() int64 {
		t.Helper()
		var n int64
		if err := c.Query(`SELECT count(*) FROM k`, nil, func(r sqlstore.Row) error { return r.Scan(&n) }); err != nil {
			t.Fatal(err)
		}
		return n
	}

	if err := c.Begin(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(`INSERT INTO k VALUES (?), (?)`, []any{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Errorf("%d rows after rollback, want 0", n)
	}
	if err := c.Rollback(); err != nil {
		t.Errorf("Rollback without a transaction: %v", err)
	}

	if err := c.Begin(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Exec(`INSERT INTO k VALUES (?) RETURNING id`, []any{"a"}); err != nil || n != 1 {
		t.Fatalf("insert returning = %d, %v; want 1 row", n, err)
	}
	_, err := c.Exec(`INSERT INTO k VALUES (?)`, []any{"a"})
	if k, ok := code(err); !ok || k != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || !retryable(err) {
		t.Errorf("duplicate key: %v (code %d); want a retryable SQLITE_CONSTRAINT_PRIMARYKEY", err, k)
	}
	if err := c.Commit(); err != nil {
		t.Fatal(err)
	}

	// Committed is what another connection reads; the scan stopping
	// early leaves the statement usable.
	db, err := openPool(path, "", true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM k`).Scan(&n); err != nil || n != 1 {
		t.Errorf("another connection reads %d rows, %v; want 1", n, err)
	}
	stop := errors.New("stop")
	if err := c.Query(`SELECT id FROM k`, nil, func(sqlstore.Row) error { return stop }); err != stop {
		t.Errorf("Query = %v, want the scan's error", err)
	}
	if n := count(); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
}

// A batch whose connection cannot be opened fails (after its operations
// were tried one by one, each opening again); a later one opens it and
// runs.
func TestBatchConnOpenedAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close() // migrated; reopened below with a dialect whose first open fails
	w, err := openPool(path, "?_txlock=immediate", false, writerPragmas...)
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	r, err := openPool(path, "", true)
	if err != nil {
		t.Fatal(err)
	}
	broken := errors.New("cannot open")
	opens, fail := 0, true
	d := Dialect
	d.OpenBatchConn = func() (sqlstore.BatchConn, error) {
		if opens++; fail {
			return nil, broken
		}
		return openBatchConn(path, batchPragmas)
	}
	st := sqlstore.New(w, r, d)
	defer st.Close()
	deliver := func() error {
		return st.Deliver(t.Context(), &parley.Delivery{From: "15550001", FromDevice: 1, ClientID: "c1", MessageID: "m1",
			Timestamp: time.Now(), Items: []parley.Item{{Account: "15550002", Device: 1, Kind: parley.KindMessage, MessageID: "m1"}}})
	}
	if err := deliver(); !errors.Is(err, broken) {
		t.Errorf("first Deliver = %v, want the open's error", err)
	}
	failed := opens
	fail = false
	// The device is unknown: a domain error, found by the batch's statements.
	if err := deliver(); parley.ErrorCode(err) != parley.ESTALE {
		t.Errorf("second Deliver = %v, want %s", err, parley.ESTALE)
	}
	if opens != failed+1 {
		t.Errorf("opened %d times after %d failed, want once", opens-failed, failed)
	}
}

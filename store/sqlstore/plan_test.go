package sqlstore_test

import (
	"database/sql"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/parley-chat/parley/store/sqlite"
	"github.com/parley-chat/parley/store/sqlstore"
)

// tableScan matches a plan line that reads a whole table of the mailbox's
// (not a VALUES list or a materialized subquery).
var tableScan = regexp.MustCompile(`\bSCAN (idempotency|mailbox|devices)\b`)

// On SQLite every statement of the mailbox batch finds its rows through
// an index. One that reads a whole table would hold the single writer for
// as long as the table is big. (Older SQLite versions than the driver's
// plan a row-value IN (VALUES …) of several rows as such a scan; this
// test would tell if the driver's did.)
func TestHotStatementsUseIndexes(t *testing.T) {
	ctx := t.Context()
	ms, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := sqlstore.Migrate(ctx, db, sqlite.Dialect, ms); err != nil {
		t.Fatal(err)
	}
	texts := sqlstore.HotStatements(&sqlite.Dialect)
	if len(texts) < 20 {
		t.Fatalf("%d statements to check, want the batch's bulks and queries", len(texts))
	}
	for _, text := range texts {
		args := make([]any, strings.Count(text, "?"))
		rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+text, args...)
		if err != nil {
			t.Fatalf("EXPLAIN QUERY PLAN %s: %v", text, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if len(plan) == 0 && !strings.HasPrefix(text, "INSERT") {
			t.Errorf("no plan for %s", text)
		}
		for _, line := range plan {
			if tableScan.MatchString(line) {
				t.Errorf("%s\nreads a whole table:\n%s", text, strings.Join(plan, "\n"))
				break
			}
		}
	}
}

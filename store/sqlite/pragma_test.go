package sqlite

import (
	"path/filepath"
	"testing"
)

// Both pools' connections carry the pragmas; the read pool is query_only.
func TestPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	for _, tt := range []struct {
		name      string
		readOnly  bool
		extra     []string
		queryOnly int
		tempStore int64 // 2: statement journals in memory
	}{
		{"WritePool", false, writerPragmas, 0, 2},
		{"ReadPool", true, nil, 1, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, err := openPool(path, "", tt.readOnly, tt.extra...)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			want := map[string]any{"busy_timeout": int64(5000), "journal_mode": "wal", "synchronous": int64(1), "foreign_keys": int64(1), "query_only": int64(tt.queryOnly), "temp_store": tt.tempStore}
			for name, w := range want {
				var got any
				if err := db.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&got); err != nil {
					t.Fatalf("PRAGMA %s: %v", name, err)
				}
				if got != w {
					t.Errorf("PRAGMA %s = %v (%T), want %v", name, got, got, w)
				}
			}
		})
	}
}

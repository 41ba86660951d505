package sqlstore

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestRebind(t *testing.T) {
	tests := []struct {
		name     string
		numbered bool
		in, want string
	}{
		{"Question", false, "a = ? AND b = ?", "a = ? AND b = ?"},
		{"Numbered", true, "a = ? AND b IN (?, ?)", "a = $1 AND b IN ($2, $3)"},
		{"NoPlaceholders", true, "SELECT 1", "SELECT 1"},
	}
	for _, tt := range tests {
		d := Dialect{Numbered: tt.numbered}
		if got := d.rebind(tt.in); got != tt.want {
			t.Errorf("%s: rebind(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestEachChunkSizes(t *testing.T) {
	s := &Store{texts: newTexts(&Dialect{Numbered: true})}
	tests := []struct {
		rows int
		want []int
	}{
		{0, nil},
		{1, []int{1}},
		{7, []int{4, 2, 1}},
		{128, []int{128}},
		{300, []int{128, 128, 32, 8, 4}},
	}
	for _, tt := range tests {
		rows := make([]any, 2*tt.rows) // bLockDevices has two placeholders per row
		for i := range rows {
			rows[i] = i
		}
		var got []int
		next := 0
		err := s.eachChunk(bLockDevices, nil, rows, func(text string, args []any) error {
			n := len(args) / 2
			got = append(got, n)
			if c := strings.Count(text, "(?, CAST(") + strings.Count(text, ", CAST($"); c != n {
				t.Errorf("rows=%d: chunk of %d rows has text for %d", tt.rows, n, c)
			}
			if args[0] != next {
				t.Errorf("rows=%d: chunk starts at argument %v, want %d", tt.rows, args[0], next)
			}
			next += len(args)
			return nil
		})
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("rows=%d: chunks = %v, %v; want %v", tt.rows, got, err, tt.want)
		}
	}
}

func TestLoadMigrations(t *testing.T) {
	good := fstest.MapFS{
		"0002_more.sql": {Data: []byte("B")},
		"0001_init.sql": {Data: []byte("A")},
		"README":        {Data: []byte("not a migration")},
	}
	ms, err := LoadMigrations(good)
	if err != nil || len(ms) != 2 || ms[0].Version != 1 || ms[1].Version != 2 || ms[1].SQL != "B" {
		t.Errorf("LoadMigrations = %+v, %v; want versions 1, 2 in order", ms, err)
	}
	bad := []struct {
		name string
		fs   fstest.MapFS
	}{
		{"NoVersion", fstest.MapFS{"init.sql": {}}},
		{"SameVersion", fstest.MapFS{"0001_a.sql": {}, "1_b.sql": {}}},
		{"Empty", fstest.MapFS{}},
	}
	for _, tt := range bad {
		if _, err := LoadMigrations(tt.fs); err == nil {
			t.Errorf("%s: LoadMigrations succeeded, want an error", tt.name)
		}
	}
}

func TestSeqRuns(t *testing.T) {
	for _, c := range []struct {
		seqs []uint64
		want [][2]uint64
	}{
		{nil, nil},
		{[]uint64{5}, [][2]uint64{{5, 5}}},
		{[]uint64{3, 1, 2, 2, 7, 8, 10}, [][2]uint64{{1, 3}, {7, 8}, {10, 10}}},
		{[]uint64{9, 8, 7, 6}, [][2]uint64{{6, 9}}},
	} {
		if got := seqRuns(c.seqs); !slices.Equal(got, c.want) {
			t.Errorf("seqRuns(%v) = %v, want %v", c.seqs, got, c.want)
		}
	}
}

package sqlstore

import (
	"bytes"
	"database/sql/driver"
	"testing"
)

// The raw path converts arguments and scans columns itself; the store
// suites run every batch through it on SQLite. These check the
// conversions at their edges.

func TestRawBind(t *testing.T) {
	tx := rawTx{stmts: &rawStmts{}}
	nv, err := tx.bind([]any{"a", int64(-2), 3, uint32(4), []byte("b"), nil, []byte(nil)})
	if err != nil {
		t.Fatal(err)
	}
	want := []driver.Value{"a", int64(-2), int64(3), int64(4), []byte("b"), nil, []byte(nil)}
	if len(nv) != len(want) {
		t.Fatalf("%d values, want %d", len(nv), len(want))
	}
	for i, v := range nv {
		if v.Ordinal != i+1 {
			t.Errorf("value %d: ordinal %d", i, v.Ordinal)
		}
		switch w := want[i].(type) {
		case []byte:
			if g, ok := v.Value.([]byte); !ok || !bytes.Equal(g, w) {
				t.Errorf("value %d = %#v, want %#v", i, v.Value, w)
			}
		default:
			if v.Value != w {
				t.Errorf("value %d = %#v (%T), want %#v (%T)", i, v.Value, v.Value, w, w)
			}
		}
	}
	if again, err := tx.bind([]any{"x"}); err != nil || len(again) != 1 || &again[0] != &nv[0] {
		t.Errorf("the argument slice is not reused: %v", err)
	}
	if _, err := tx.bind([]any{struct{}{}}); err == nil {
		t.Error("a struct argument was bound")
	}
}

func TestRawScan(t *testing.T) {
	buf := []byte("body")
	r := rawRow{vals: []driver.Value{"s", []byte("t"), int64(7), buf, nil, "u"}}
	var s1, s2 string
	var n int64
	var b1, b2, b3 []byte
	if err := r.Scan(&s1, &s2, &n, &b1, &b2, &b3); err != nil {
		t.Fatal(err)
	}
	if s1 != "s" || s2 != "t" || n != 7 || string(b1) != "body" || b2 != nil || string(b3) != "u" {
		t.Errorf("scanned %q %q %d %q %v %q", s1, s2, n, b1, b2, b3)
	}
	buf[0] = 'X' // the driver reusing its buffer
	if string(b1) != "body" {
		t.Errorf("scanned bytes share the driver's buffer: %q", b1)
	}
	if err := r.Scan(&s1); err == nil {
		t.Error("one destination for six columns scanned")
	}
	bad := rawRow{vals: []driver.Value{"x"}}
	if err := bad.Scan(&n); err == nil {
		t.Error("a string scanned into an int64")
	}
	if err := (&rawRow{vals: []driver.Value{nil}}).Scan(&s1); err == nil {
		t.Error("NULL scanned into a string")
	}
}

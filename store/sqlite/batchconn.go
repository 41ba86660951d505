package sqlite

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unsafe"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parley-chat/parley/store/sqlstore"
)

// batchConn is the mailbox group commit's connection: SQLite's C API
// called directly, without database/sql and the driver between. The
// driver opens every connection SQLITE_OPEN_FULLMUTEX, so each call into
// SQLite (every bound argument among them) takes and releases the
// connection's mutex, and it copies every text argument into memory of
// its own from the C allocator, which has a lock too. With database/sql's
// own layer, that was a quarter to a third of the time of the mailbox
// writer, the bottleneck of a saturated node (docs/BENCHMARKS.md, session
// 12). batchConn is opened
// SQLITE_OPEN_NOMUTEX, which is safe because only the writer goroutine
// uses it, and copies a statement's texts and bytes into one buffer it
// keeps, bound without a copy of SQLite's own.
//
// It runs only the statements of the group commit (sqlstore.BatchConn):
// one statement per text, arguments that are strings, integers, bytes or
// nil, results scanned into strings, integers and bytes, as the write
// pool's driver would. The write pool's connection is held meanwhile
// (see sqlstore), so that the two never wait for each other's lock.
type batchConn struct {
	tls   *libc.TLS
	db    uintptr
	stmts map[string]*batchStmt
	row   batchRow
	// scanning is set while Query calls its scan function: a statement
	// run meanwhile would bind over the arguments the query still reads.
	scanning bool

	buf    uintptr // the arguments' texts and bytes of the statement being run
	bufCap int

	begin, commit, rollback *batchStmt
}

var _ sqlstore.BatchConn = (*batchConn)(nil)

// batchStmt is a statement prepared for the connection's life.
type batchStmt struct {
	p      uintptr
	params int
}

// openBatchConn opens the database at path and runs pragmas on it.
func openBatchConn(path string, pragmas []string) (_ *batchConn, err error) {
	c := &batchConn{tls: libc.NewTLS(), stmts: make(map[string]*batchStmt)}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	name, err := libc.CString(path)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, name)
	pdb := c.tls.Alloc(int(unsafe.Sizeof(uintptr(0))))
	defer c.tls.Free(int(unsafe.Sizeof(uintptr(0))))
	*(*uintptr)(cmem(pdb)) = 0
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, pdb,
		sqlite3.SQLITE_OPEN_READWRITE|sqlite3.SQLITE_OPEN_NOMUTEX|sqlite3.SQLITE_OPEN_EXRESCODE, 0)
	c.db = *(*uintptr)(cmem(pdb)) // set on failure too, to be closed
	if rc != sqlite3.SQLITE_OK {
		return nil, fmt.Errorf("sqlite: opening the batch connection: %w", c.errorOf(rc))
	}
	for _, p := range pragmas {
		if err := c.run("PRAGMA " + p); err != nil {
			return nil, fmt.Errorf("sqlite: PRAGMA %s: %w", p, err)
		}
	}
	if c.begin, err = c.stmt("BEGIN IMMEDIATE"); err != nil {
		return nil, err
	}
	if c.commit, err = c.stmt("COMMIT"); err != nil {
		return nil, err
	}
	if c.rollback, err = c.stmt("ROLLBACK"); err != nil {
		return nil, err
	}
	return c, nil
}

// Close finalizes the statements and closes the connection.
func (c *batchConn) Close() error {
	if c.tls == nil {
		return nil
	}
	for _, st := range c.stmts {
		sqlite3.Xsqlite3_finalize(c.tls, st.p)
	}
	c.stmts = nil
	var err error
	if c.db != 0 {
		if rc := sqlite3.Xsqlite3_close_v2(c.tls, c.db); rc != sqlite3.SQLITE_OK {
			err = c.errorOf(rc)
		}
		c.db = 0
	}
	if c.buf != 0 {
		libc.Xfree(c.tls, c.buf)
		c.buf, c.bufCap = 0, 0
	}
	c.tls.Close()
	c.tls = nil
	return err
}

func (c *batchConn) Begin() error { return c.step0(c.begin) }

func (c *batchConn) Commit() error { return c.step0(c.commit) }

// Rollback ends the transaction; one that SQLite has ended already, as it
// does after some errors, is no error.
func (c *batchConn) Rollback() error {
	if sqlite3.Xsqlite3_get_autocommit(c.tls, c.db) != 0 {
		return nil
	}
	return c.step0(c.rollback)
}

// Exec runs text with args and returns the number of rows it changed.
func (c *batchConn) Exec(text string, args []any) (int64, error) {
	st, err := c.prepared(text, args)
	if err != nil {
		return 0, err
	}
	for {
		rc := sqlite3.Xsqlite3_step(c.tls, st.p)
		if rc == sqlite3.SQLITE_ROW {
			continue // RETURNING rows nobody asked for
		}
		if rc != sqlite3.SQLITE_DONE {
			return 0, c.fail(st, rc)
		}
		break
	}
	n := int64(sqlite3.Xsqlite3_changes64(c.tls, c.db))
	return n, c.reset(st)
}

// Query runs text with args and calls scan for every row.
func (c *batchConn) Query(text string, args []any, scan func(sqlstore.Row) error) error {
	st, err := c.prepared(text, args)
	if err != nil {
		return err
	}
	c.row = batchRow{c: c, p: st.p, cols: int(sqlite3.Xsqlite3_column_count(c.tls, st.p))}
	for {
		rc := sqlite3.Xsqlite3_step(c.tls, st.p)
		if rc == sqlite3.SQLITE_DONE {
			return c.reset(st)
		}
		if rc != sqlite3.SQLITE_ROW {
			return c.fail(st, rc)
		}
		c.scanning = true
		err := scan(&c.row)
		c.scanning = false
		if err != nil {
			sqlite3.Xsqlite3_reset(c.tls, st.p)
			return err
		}
	}
}

// prepared returns text's statement with args bound.
func (c *batchConn) prepared(text string, args []any) (*batchStmt, error) {
	if c.scanning {
		return nil, errors.New("sqlite: a statement run while a query's rows are read")
	}
	st := c.stmts[text]
	if st == nil {
		var err error
		if st, err = c.stmt(text); err != nil {
			return nil, err
		}
	}
	if len(args) != st.params {
		return nil, fmt.Errorf("sqlite: %d arguments for %d parameters", len(args), st.params)
	}
	if err := c.bind(st, args); err != nil {
		return nil, err
	}
	return st, nil
}

// stmt prepares text, which must be one statement, and keeps it.
func (c *batchConn) stmt(text string) (*batchStmt, error) {
	if len(text) > math.MaxInt32-1 {
		return nil, errors.New("sqlite: statement too long")
	}
	z, err := libc.CString(text)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, z)
	const ptr = int(unsafe.Sizeof(uintptr(0)))
	out := c.tls.Alloc(2 * ptr) // the statement, the text's unused tail
	defer c.tls.Free(2 * ptr)
	rc := sqlite3.Xsqlite3_prepare_v3(c.tls, c.db, z, int32(len(text)+1), sqlite3.SQLITE_PREPARE_PERSISTENT, out, out+uintptr(ptr))
	if rc != sqlite3.SQLITE_OK {
		return nil, c.errorOf(rc)
	}
	p := *(*uintptr)(cmem(out))
	tail := libc.GoString(*(*uintptr)(cmem(out + uintptr(ptr))))
	if p == 0 || strings.TrimSpace(tail) != "" {
		if p != 0 {
			sqlite3.Xsqlite3_finalize(c.tls, p)
		}
		return nil, fmt.Errorf("sqlite: the batch connection runs one statement per text, not %q", text)
	}
	st := &batchStmt{p: p, params: int(sqlite3.Xsqlite3_bind_parameter_count(c.tls, p))}
	c.stmts[text] = st
	return st, nil
}

// bind binds args to st's parameters in order. Texts and bytes are
// copied into c.buf first, all of them, and bound from there as
// SQLITE_STATIC: they stay put until the next statement is bound, after
// this one has been reset.
func (c *batchConn) bind(st *batchStmt, args []any) error {
	size := 0
	for _, a := range args {
		switch v := a.(type) {
		case string:
			size += len(v) + 1 // a NUL, so that an empty text has an address
		case []byte:
			size += len(v) + 1
		}
	}
	if size > c.bufCap {
		if size > math.MaxInt32 {
			return errors.New("sqlite: arguments too large")
		}
		n := max(size, 2*c.bufCap, 64<<10)
		p := libc.Xmalloc(c.tls, types.Size_t(n))
		if p == 0 {
			return fmt.Errorf("sqlite: cannot allocate %d bytes", n)
		}
		if c.buf != 0 {
			libc.Xfree(c.tls, c.buf)
		}
		c.buf, c.bufCap = p, n
	}
	buf := unsafe.Slice((*byte)(cmem(c.buf)), c.bufCap)
	off := 0
	for i, a := range args {
		k := int32(i + 1)
		var rc int32
		switch v := a.(type) {
		case nil:
			rc = sqlite3.Xsqlite3_bind_null(c.tls, st.p, k)
		case string:
			n := copy(buf[off:], v)
			buf[off+n] = 0
			rc = sqlite3.Xsqlite3_bind_text(c.tls, st.p, k, c.buf+uintptr(off), int32(n), 0)
			off += n + 1
		case []byte:
			if v == nil {
				rc = sqlite3.Xsqlite3_bind_null(c.tls, st.p, k)
				break
			}
			n := copy(buf[off:], v)
			rc = sqlite3.Xsqlite3_bind_blob(c.tls, st.p, k, c.buf+uintptr(off), int32(n), 0)
			off += n + 1
		default:
			x, ok := integer(a)
			if !ok {
				return fmt.Errorf("sqlite: argument %d: cannot bind a %T", i+1, a)
			}
			rc = sqlite3.Xsqlite3_bind_int64(c.tls, st.p, k, x)
		}
		if rc != sqlite3.SQLITE_OK {
			return c.errorOf(rc)
		}
	}
	return nil
}

// integer returns a as an int64, for the integer types and bool.
func integer(a any) (int64, bool) {
	switch v := a.(type) {
	case int64:
		return v, true
	case int:
		return int64(v), true
	case int32:
		return int64(v), true
	case uint32:
		return int64(v), true
	case uint64:
		if v > math.MaxInt64 {
			return 0, false
		}
		return int64(v), true
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// step0 runs a statement without arguments or rows.
func (c *batchConn) step0(st *batchStmt) error {
	if rc := sqlite3.Xsqlite3_step(c.tls, st.p); rc != sqlite3.SQLITE_DONE {
		return c.fail(st, rc)
	}
	return c.reset(st)
}

// run prepares, runs to its end and finalizes text (a pragma).
func (c *batchConn) run(text string) error {
	st, err := c.stmt(text)
	if err != nil {
		return err
	}
	delete(c.stmts, text)
	defer sqlite3.Xsqlite3_finalize(c.tls, st.p)
	for {
		switch rc := sqlite3.Xsqlite3_step(c.tls, st.p); rc {
		case sqlite3.SQLITE_ROW:
		case sqlite3.SQLITE_DONE:
			return nil
		default:
			return c.errorOf(rc)
		}
	}
}

func (c *batchConn) reset(st *batchStmt) error {
	if rc := sqlite3.Xsqlite3_reset(c.tls, st.p); rc != sqlite3.SQLITE_OK {
		return c.errorOf(rc)
	}
	return nil
}

// fail resets st after step returned rc and returns rc's error, read
// before the reset.
func (c *batchConn) fail(st *batchStmt, rc int32) error {
	err := c.errorOf(rc)
	sqlite3.Xsqlite3_reset(c.tls, st.p)
	return err
}

// errorOf returns rc as an error with SQLite's message for it.
func (c *batchConn) errorOf(rc int32) error {
	msg := libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))
	if c.db != 0 {
		if ext := sqlite3.Xsqlite3_extended_errcode(c.tls, c.db); ext == rc || ext&0xff == rc&0xff {
			rc = ext
			msg = libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db))
		}
	}
	return &connError{code: int(rc), msg: msg}
}

// connError is an error SQLite returned on the batch connection.
type connError struct {
	code int
	msg  string
}

func (e *connError) Error() string { return fmt.Sprintf("sqlite: %s (%d)", e.msg, e.code) }

// Code returns SQLite's (extended) result code.
func (e *connError) Code() int { return e.code }

// batchRow reads the current row of a query's statement.
type batchRow struct {
	c    *batchConn
	p    uintptr
	cols int
}

// Scan reads the row's columns into dest: *string (TEXT or BLOB), *int64
// (INTEGER) and *[]byte (BLOB or TEXT, nil for NULL and empty).
func (r *batchRow) Scan(dest ...any) error {
	if len(dest) != r.cols {
		return fmt.Errorf("sqlite: %d destinations for %d columns", len(dest), r.cols)
	}
	tls := r.c.tls
	for i, d := range dest {
		k := int32(i)
		t := sqlite3.Xsqlite3_column_type(tls, r.p, k)
		switch d := d.(type) {
		case *int64:
			if t == sqlite3.SQLITE_INTEGER {
				*d = int64(sqlite3.Xsqlite3_column_int64(tls, r.p, k))
				continue
			}
		case *string:
			if t == sqlite3.SQLITE_TEXT || t == sqlite3.SQLITE_BLOB {
				*d = string(r.bytes(k, t))
				continue
			}
		case *[]byte:
			switch t {
			case sqlite3.SQLITE_NULL:
				*d = nil
				continue
			case sqlite3.SQLITE_TEXT, sqlite3.SQLITE_BLOB:
				*d = append([]byte(nil), r.bytes(k, t)...)
				continue
			}
		}
		return fmt.Errorf("sqlite: column %d: cannot scan %s into %T", i+1, typeName(t), d)
	}
	return nil
}

// bytes returns column k's value of type t, valid until the next step.
func (r *batchRow) bytes(k, t int32) []byte {
	var p uintptr
	if t == sqlite3.SQLITE_TEXT {
		p = sqlite3.Xsqlite3_column_text(r.c.tls, r.p, k)
	} else {
		p = sqlite3.Xsqlite3_column_blob(r.c.tls, r.p, k)
	}
	n := sqlite3.Xsqlite3_column_bytes(r.c.tls, r.p, k)
	if p == 0 || n <= 0 {
		return nil
	}
	return unsafe.Slice((*byte)(cmem(p)), n)
}

func typeName(t int32) string {
	switch t {
	case sqlite3.SQLITE_INTEGER:
		return "INTEGER"
	case sqlite3.SQLITE_FLOAT:
		return "REAL"
	case sqlite3.SQLITE_TEXT:
		return "TEXT"
	case sqlite3.SQLITE_BLOB:
		return "BLOB"
	}
	return "NULL"
}

// cmem returns the address p of memory SQLite or the C allocator gave
// (outside Go's heap, so never moved or collected) as a pointer. go vet
// cannot tell such an address from a Go pointer kept as an integer, which
// would be unsafe, and so flags converting it directly.
func cmem(p uintptr) unsafe.Pointer { return unsafe.Add(nil, p) }

package profile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// journal is a bounded map of string keys to values, kept in a file of
// lines `"key" "value"` (Go-quoted). The newest value of a key wins; when
// the file holds twice cap lines it is rewritten with the newest cap keys.
type journal struct {
	path  string
	cap   int
	f     *os.File // open for appending; nil until loaded
	vals  map[string]string
	order []string // keys, oldest first; may hold keys overwritten later
	lines int      // lines in the file
}

func newJournal(path string, capacity int) *journal {
	return &journal{path: path, cap: capacity}
}

// load reads the file once; a torn last line is dropped by rewriting.
func (j *journal) load() error {
	if j.f != nil {
		return nil
	}
	j.vals = map[string]string{}
	j.order = nil
	j.lines = 0
	b, err := os.ReadFile(j.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	// A crash during an append leaves a last line without its newline.
	// The file is rewritten so that appends start on a fresh line; a torn
	// line that does not parse is dropped.
	torn := len(b) > 0 && b[len(b)-1] != '\n'
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		k, v, ok := parseLine(sc.Text())
		if !ok {
			torn = true // only a crash makes a bad line; rewrite without it
			continue
		}
		j.put(k, v)
		j.lines++
	}
	if torn {
		return j.compact()
	}
	return j.openAppend()
}

func (j *journal) put(k, v string) {
	if _, ok := j.vals[k]; !ok {
		j.order = append(j.order, k)
	}
	j.vals[k] = v
}

func (j *journal) openAppend() error {
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	j.f = f
	return nil
}

func (j *journal) get(k string) (string, bool, error) {
	if err := j.load(); err != nil {
		return "", false, err
	}
	v, ok := j.vals[k]
	return v, ok, nil
}

// set appends k=v and syncs it.
func (j *journal) set(k, v string) error {
	if err := j.load(); err != nil {
		return err
	}
	if old, ok := j.vals[k]; ok && old == v {
		return nil
	}
	line := strconv.Quote(k) + " " + strconv.Quote(v) + "\n"
	if _, err := j.f.WriteString(line); err != nil {
		return err
	}
	if err := j.f.Sync(); err != nil {
		return err
	}
	j.put(k, v)
	j.lines++
	if j.lines >= 2*j.cap {
		return j.compact()
	}
	return nil
}

// compact rewrites the file with the newest cap keys.
func (j *journal) compact() error {
	if j.f != nil {
		j.f.Close()
		j.f = nil
	}
	if len(j.order) > j.cap {
		for _, k := range j.order[:len(j.order)-j.cap] {
			delete(j.vals, k)
		}
		j.order = append([]string(nil), j.order[len(j.order)-j.cap:]...)
	}
	var buf bytes.Buffer
	for _, k := range j.order {
		buf.WriteString(strconv.Quote(k) + " " + strconv.Quote(j.vals[k]) + "\n")
	}
	if err := writeFile(j.path, buf.Bytes()); err != nil {
		return err
	}
	j.lines = len(j.order)
	return j.openAppend()
}

func (j *journal) close() error {
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

func parseLine(s string) (k, v string, ok bool) {
	qk, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", "", false
	}
	rest, found := strings.CutPrefix(s[len(qk):], " ")
	if !found {
		return "", "", false
	}
	qv, err := strconv.QuotedPrefix(rest)
	if err != nil || len(qv) != len(rest) {
		return "", "", false
	}
	k, err1 := strconv.Unquote(qk)
	v, err2 := strconv.Unquote(qv)
	if err1 != nil || err2 != nil {
		return "", "", false
	}
	return k, v, true
}

// writeFile replaces path with data atomically: temp file, sync, rename,
// sync of the directory.
func writeFile(path string, data []byte) error {
	dir, name := filepath.Split(path)
	f, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: not every platform syncs directories
		d.Close()
	}
	return nil
}

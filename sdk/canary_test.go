package sdk_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/sdk"
	"github.com/parley-chat/parley/store/postgres/pgtest"
)

// The proof of end-to-end encryption: conversations between several
// devices carry unique plaintext canaries; afterwards neither the server's
// data directory (SQLite database, its WAL, everything else) nor the
// PostgreSQL database contains any of them, in any encoding the stores
// use. Some copies stay undelivered on purpose, so ciphertexts are still
// stored when the scan runs.
func TestCanaryNeverReachesTheServer(t *testing.T) {
	noneFound := func(t *testing.T, where string, hits []string) {
		t.Helper()
		for _, h := range hits {
			t.Errorf("%s holds a plaintext canary: %s", where, h)
		}
	}
	t.Run("SQLite", func(t *testing.T) {
		s := startServerOn(t, "")
		canaries := converse(t, s)
		noneFound(t, "the data dir", scanDir(t, s.dir, canaries))
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		s := startServerOn(t, dsn)
		canaries := converse(t, s)
		noneFound(t, "the data dir", scanDir(t, s.dir, canaries))
		noneFound(t, "the database", scanPostgres(t, dsn, canaries))
	})
	// The control: the same scans do find a canary sent without encryption.
	t.Run("ScansFindPlaintext", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		s := startServerOn(t, dsn)
		sqliteSrv := startServerOn(t, "")
		for _, srv := range []*testServer{s, sqliteSrv} {
			a := run(t, srv.register(alicePhone, "alice"), sdk.Options{Cipher: sdk.PlainCipher{}})
			srv.register(bobPhone, "bob") // no keys, offline: the copy stays stored
			c := newCanary("control")
			a.send(bob, c)
			if srv == s {
				if hits := scanPostgres(t, dsn, []string{c}); len(hits) == 0 {
					t.Errorf("the PostgreSQL scan missed an unencrypted canary")
				}
				continue
			}
			if hits := scanDir(t, srv.dir, []string{c}); len(hits) == 0 {
				t.Errorf("the data dir scan missed an unencrypted canary")
			}
		}
	})
}

// newCanary returns a unique plaintext marker.
func newCanary(kind string) string {
	var b [8]byte
	rand.Read(b[:])
	return "CANARY-" + kind + "-" + hex.EncodeToString(b[:])
}

// converse runs the conversations and returns the canaries sent.
func converse(t *testing.T, s *testServer) []string {
	t.Helper()
	aliceCreds := s.register(alicePhone, "alice-phone")
	bobCreds := s.register(bobPhone, "bob-phone")
	alice2Creds := linkDevice(t, s, aliceCreds, "alice-laptop")
	bob2Creds := linkDevice(t, s, bobCreds, "bob-laptop")
	signalCipher(t, bob2Creds) // keys published; this device stays offline
	a1 := run(t, aliceCreds, sdk.Options{})
	a2 := run(t, alice2Creds, sdk.Options{})
	b1 := run(t, bobCreds, sdk.Options{})

	var canaries []string
	say := func(from *device, to, kind string) string {
		c := newCanary(kind)
		canaries = append(canaries, c)
		return from.send(to, "message with "+c+" inside")
	}
	// 1:1 both ways, from both of Alice's devices; Bob's laptop is offline,
	// so its copies stay in its mailbox.
	for i := range 3 {
		id := say(a1, bob, "1to1")
		m := b1.nextMessage()
		if m.ID != id || !strings.Contains(m.Text, "CANARY-1to1-") {
			t.Fatalf("bob got %s %q, want %s", m.ID, m.Text, id)
		}
		ack(t, m)
		if sync := a2.nextMessage(); sync.ID != id || sync.Text != m.Text {
			t.Fatalf("alice's laptop got %s %q, want the sent copy of %s", sync.ID, sync.Text, id)
		} else {
			ack(t, sync)
		}
		reply := say(b1, alice, fmt.Sprintf("reply%d", i))
		for _, d := range []*device{a1, a2} {
			if m := d.nextMessage(); m.ID != reply {
				t.Fatalf("alice's device got %s, want %s", m.ID, reply)
			} else {
				ack(t, m)
			}
		}
	}
	lid := say(a2, bob, "1to1-laptop") // from the second device; bob's laptop never reads it
	for _, d := range []*device{a1, b1} {
		if m := d.nextMessage(); m.ID != lid {
			t.Fatalf("got %s, want %s", m.ID, lid)
		} else {
			ack(t, m)
		}
	}

	// A group of three accounts; Bob's laptop stays offline.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	carolCreds := s.register("+4915100000003", "carol")
	c1 := run(t, carolCreds, sdk.Options{})
	g, err := a1.m.Client().CreateGroup(ctx, "canaries", bob, carolCreds.Account)
	if err != nil {
		t.Fatal(err)
	}
	for i, from := range []*device{a1, b1, c1, a1} {
		c := newCanary(fmt.Sprintf("group%d", i))
		canaries = append(canaries, c)
		id, err := from.m.SendGroupText(ctx, g.ID, "group message with "+c)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range []*device{a1, a2, b1, c1} {
			if d == from {
				continue
			}
			if m := d.groupMessage(); m.ID != id || !strings.Contains(m.Text, c) {
				t.Fatalf("group message %s %q, want %s", m.ID, m.Text, id)
			} else {
				ack(t, m)
			}
		}
	}

	// Media, 1:1 and in the group: the file content and its name are canaries.
	for i, group := range []string{"", g.ID} {
		c := newCanary(fmt.Sprintf("media%d", i))
		canaries = append(canaries, c)
		data := []byte(strings.Repeat(c+" ", 200))
		name := newCanary("filename") + ".pdf"
		canaries = append(canaries, name)
		var r *sdk.SendResult
		if group == "" {
			r, err = a1.m.SendAttachment(ctx, bob, sdk.MediaDocument, data, "application/pdf", name, "", 0)
		} else {
			r, err = a1.m.SendGroupAttachment(ctx, group, sdk.MediaDocument, data, "application/pdf", name, "", 0)
		}
		if err != nil {
			t.Fatal(err)
		}
		m := b1.groupMessage()
		if m.ID != r.MessageID || m.Attachment == nil || m.Attachment.Name != name {
			t.Fatalf("bob got %+v, want the document %s", m, r.MessageID)
		}
		got, err := b1.m.Client().DownloadAttachment(ctx, m.Attachment)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("download: %v", err)
		}
		ack(t, m)
	}
	return canaries
}

// nextMessage returns the next message, acknowledging receipts before it.
func (d *device) nextMessage() *sdk.Message {
	d.t.Helper()
	for {
		switch e := d.next().(type) {
		case *sdk.Message:
			return e
		case *sdk.Receipt:
			ack(d.t, e)
		}
	}
}

// encodings returns the forms in which a canary could sit in storage:
// raw bytes, hex (PostgreSQL's bytea text form) and base64 (JSON).
func encodings(c string) [][]byte {
	b := []byte(c)
	return [][]byte{b, []byte(hex.EncodeToString(b)), []byte(base64.StdEncoding.EncodeToString(b))}
}

// scanDir returns "<file>: <canary>" for every canary found in dir.
func scanDir(t *testing.T, dir string, canaries []string) (hits []string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, c := range canaries {
			for _, enc := range encodings(c) {
				if bytes.Contains(data, enc) {
					hits = append(hits, path+": "+c)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("no files in the data dir %s: the scan proves nothing", dir)
	}
	return hits
}

// scanPostgres returns "<table>: <canary>" for every canary found in a
// row of any table of the database's schema.
func scanPostgres(t *testing.T, dsn string, canaries []string) (hits []string) {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 5 {
		t.Fatalf("found tables %v: the scan would prove nothing", tables)
	}
	stored := 0
	for _, table := range tables {
		// Every row as text: bytea columns appear as \x<hex>.
		rows, err := db.QueryContext(ctx, `SELECT t::text FROM "`+table+`" t`)
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		for rows.Next() {
			var row string
			if err := rows.Scan(&row); err != nil {
				t.Fatal(err)
			}
			stored += len(row)
			for _, c := range canaries {
				for _, enc := range encodings(c) {
					if strings.Contains(strings.ToLower(row), strings.ToLower(string(enc))) {
						hits = append(hits, table+": "+c)
					}
				}
			}
		}
		rows.Close()
	}
	if stored == 0 {
		t.Fatal("the database holds nothing: the scan proves nothing")
	}
	return hits
}

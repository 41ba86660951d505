package profile

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley/sdk"
)

func TestCredentialsRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	p, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Credentials(); err != ErrNoCredentials {
		t.Fatalf("empty profile: %v, want ErrNoCredentials", err)
	}
	want := sdk.Credentials{Server: "http://x", Account: "4915112345678", Device: 3, Token: "secret", ExpiresAt: 5}
	if err := p.SaveCredentials(&want); err != nil {
		t.Fatal(err)
	}
	got, err := p.Credentials()
	if err != nil || *got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	for path, perm := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, CredentialsFile): 0o600} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != perm {
			t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode().Perm(), err, perm)
		}
	}
	if err := p.DeleteCredentials(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Credentials(); err != ErrNoCredentials {
		t.Fatalf("after delete: %v", err)
	}
}

func TestJournalSurvivesReopenAndTornWrite(t *testing.T) {
	dir := t.TempDir()
	p, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.RecordMessage("m1", "4915100000001"); err != nil {
		t.Fatal(err)
	}
	if err := p.MarkSeen("m:m1"); err != nil {
		t.Fatal(err)
	}
	p.Close()

	// A crash in the middle of an append leaves half a line.
	f, err := os.OpenFile(filepath.Join(dir, ReceivedFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`"m2" "49151`)
	f.Close()

	p, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if from, err := p.Sender("m1"); err != nil || from != "4915100000001" {
		t.Fatalf("Sender(m1) = %q, %v", from, err)
	}
	if _, err := p.Sender("m2"); err != ErrUnknownMessage {
		t.Fatalf("Sender(m2) after torn write: %v, want ErrUnknownMessage", err)
	}
	if err := p.RecordMessage("m3", "4915100000003"); err != nil {
		t.Fatal(err)
	}
	if seen, err := p.Seen("m:m1"); err != nil || !seen {
		t.Fatalf("Seen(m:m1) = %v, %v", seen, err)
	}
	p.Close()
	p, _ = Open(dir)
	if from, err := p.Sender("m3"); err != nil || from != "4915100000003" {
		t.Fatalf("Sender(m3) after reopen = %q, %v", from, err)
	}
}

func TestJournalIsBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.log")
	j := newJournal(path, 10)
	for i := range 35 {
		if err := j.set("k"+strconv.Itoa(i), "v\n\"tricky\""); err != nil {
			t.Fatal(err)
		}
	}
	j.close()
	j = newJournal(path, 10)
	defer j.close()
	if err := j.load(); err != nil {
		t.Fatal(err)
	}
	if j.lines >= 20 || len(j.vals) < 10 {
		t.Fatalf("journal holds %d lines, %d keys; want fewer than 20 lines and at least 10 keys", j.lines, len(j.vals))
	}
	if v, ok, _ := j.get("k34"); !ok || v != "v\n\"tricky\"" {
		t.Fatalf("newest key: %q, %v", v, ok)
	}
	if _, ok, _ := j.get("k0"); ok {
		t.Fatal("oldest key was kept")
	}
}

func TestSignalStateAndSentRecords(t *testing.T) {
	dir := t.TempDir()
	p, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := p.LoadState(); b != nil || err != nil {
		t.Fatalf("LoadState of a new profile = %q, %v; want nil, nil", b, err)
	}
	if err := p.SaveState([]byte(`{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, SignalFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v, %v; want 0600", fi.Mode(), err)
	}
	rec := &sdk.SentRecord{ClientID: "c-1", To: "4915100000002", Plaintext: []byte("hi\nthere"), At: time.Unix(1700000000, 0).UTC()}
	if err := p.PutSent(rec); err != nil {
		t.Fatal(err)
	}
	p.Close()

	p, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if b, err := p.LoadState(); string(b) != `{"v":1}` || err != nil {
		t.Fatalf("LoadState after reopen = %q, %v", b, err)
	}
	got, err := p.Sent("c-1")
	if err != nil || got == nil || got.To != rec.To || string(got.Plaintext) != "hi\nthere" || !got.At.Equal(rec.At) {
		t.Fatalf("Sent(c-1) = %+v, %v; want %+v", got, err, rec)
	}
	if got, err := p.Sent("c-unknown"); got != nil || err != nil {
		t.Fatalf("Sent of an unknown id = %+v, %v; want nil, nil", got, err)
	}
	fi, err = os.Stat(filepath.Join(dir, SentFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("sent journal mode %v, %v; want 0600", fi.Mode(), err)
	}
}

func TestOneProcessPerProfile(t *testing.T) {
	dir := t.TempDir()
	p, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	// flock locks are per open file description: a second Open in this
	// process conflicts like another process would.
	if _, err := Open(dir); !errors.Is(err, ErrInUse) {
		t.Fatalf("second Open = %v, want ErrInUse", err)
	}
	p.Close()
	p, err = Open(dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	p.Close()
}

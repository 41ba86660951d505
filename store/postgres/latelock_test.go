package postgres_test

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/store/postgres"
	"github.com/parley-chat/parley/store/postgres/pgtest"
)

// A batch that must lock a device row only after its others — the
// sender's, for the receipt an ack makes — does not wait for it holding
// them, out of the order every batch locks in: a batch of another node
// that holds that row and waits for one of ours would deadlock with it,
// which PostgreSQL finds only after deadlock_timeout (a second) and then
// fails a whole batch. Here the test's transaction plays that node: it
// holds the sender's row; the ack's batch must then wait for it without
// holding the acking device's row, which the test takes next.
func TestLateLockDoesNotHoldEarlierRows(t *testing.T) {
	ctx := t.Context()
	var b [8]byte
	rand.Read(b[:])
	app := "parley_late_lock_" + hex.EncodeToString(b[:])
	dsn := pgtest.DSN(t)
	named := dsn + " application_name=" + app
	if strings.Contains(dsn, "://") {
		named = dsn + "&application_name=" + app
	}
	s, err := postgres.Open(ctx, named)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The sender's account sorts first, so a batch locking in order
	// takes the sender's row before the acking device's.
	sender, reader := "4917000000001", "4917000000002"
	for _, a := range []string{sender, reader} {
		if _, _, err := s.EnsureAccount(ctx, a, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateDevice(ctx, &parley.Device{Account: a, Name: "phone", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	err = s.Deliver(ctx, &parley.Delivery{From: sender, FromDevice: 1, MessageID: "m-1", Timestamp: now, Items: []parley.Item{{
		Account: reader, Device: 1, Kind: parley.KindMessage, MessageID: "m-1", From: sender, FromDevice: 1, To: reader,
		Timestamp: now, Body: []byte("hi")}}})
	if err != nil {
		t.Fatal(err)
	}
	items, err := s.Fetch(ctx, reader, 1, 0, 10, time.Now())
	if err != nil || len(items) != 1 {
		t.Fatalf("Fetch: %v, %d items, want 1", err, len(items))
	}

	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	other, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback()
	lock := `SELECT id FROM devices WHERE account = $1 AND id = 1 FOR UPDATE`
	if _, err := other.ExecContext(ctx, lock, sender); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	var sent []parley.Item
	go func() {
		var err error
		sent, err = s.AckWith(ctx, reader, 1, []uint64{items[0].Seq}, func(deleted []parley.Item) []parley.Item {
			var out []parley.Item
			for _, it := range deleted {
				out = append(out, parley.Item{Account: it.From, Device: it.FromDevice, Kind: parley.KindDelivered,
					MessageID: it.MessageID, From: reader, FromDevice: 1, To: it.From, Timestamp: now})
			}
			return out
		})
		done <- err
	}()
	// Until the ack's batch waits for a lock (the sender's row).
	for waiting := 0; waiting == 0; {
		select {
		case err := <-done:
			t.Fatalf("the ack finished while the sender's device row was locked: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
			app).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
	}
	// The acking device's row is free meanwhile: the other node could
	// take it, and would not deadlock.
	if _, err := other.ExecContext(ctx, lock+` NOWAIT`, reader); err != nil {
		t.Fatalf("the ack's batch holds the acking device's row while it waits for the sender's: %v", err)
	}
	if err := other.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("AckWith: %v", err)
	}
	if len(sent) != 1 || sent[0].Account != sender || sent[0].Seq == 0 {
		t.Fatalf("AckWith sent %+v, want the receipt to the sender's device with a seq", sent)
	}
	got, err := s.Fetch(ctx, sender, 1, 0, 10, time.Now())
	if err != nil || len(got) != 1 || got[0].Kind != parley.KindDelivered || got[0].MessageID != "m-1" {
		t.Fatalf("the sender's mailbox: %v, %+v; want the receipt for m-1", err, got)
	}
}

package postgres_test

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
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
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	receipts := func(deleted []parley.Item) []parley.Item {
		var out []parley.Item
		for _, it := range deleted {
			out = append(out, parley.Item{Account: it.From, Device: it.FromDevice, Kind: parley.KindDelivered,
				MessageID: it.MessageID, From: reader, FromDevice: 1, To: it.From, Timestamp: it.Timestamp})
		}
		return out
	}
	// An ack that names seqs only (its receipts' rows are locked late),
	// and one whose items are known (the senders' rows are locked with
	// the others).
	for _, known := range []bool{false, true} {
		id := fmt.Sprintf("m-%v", known)
		now := time.Now()
		err = s.Deliver(ctx, &parley.Delivery{From: sender, FromDevice: 1, MessageID: id, Timestamp: now, Items: []parley.Item{{
			Account: reader, Device: 1, Kind: parley.KindMessage, MessageID: id, From: sender, FromDevice: 1, To: reader,
			Timestamp: now, Body: []byte("hi")}}})
		if err != nil {
			t.Fatal(err)
		}
		items, err := s.Fetch(ctx, reader, 1, 0, 10, time.Now())
		if err != nil || len(items) != 1 {
			t.Fatalf("Fetch: %v, %d items, want 1", err, len(items))
		}

		other, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		lock := `SELECT id FROM devices WHERE account = $1 AND id = 1 FOR UPDATE`
		if _, err := other.ExecContext(ctx, lock, sender); err != nil {
			t.Fatal(err)
		}
		type result struct {
			sent []parley.Item
			err  error
		}
		done := make(chan result, 1)
		var knownItems []parley.Item
		if known {
			knownItems = items
		}
		err = s.AckWithThen(ctx, reader, 1, []uint64{items[0].Seq}, knownItems, receipts, func(_ *parley.Burst, sent []parley.Item, err error) {
			done <- result{slices.Clone(sent), err}
		})
		if err != nil {
			t.Fatal(err)
		}
		// Until the ack's batch waits for a lock (the sender's row).
		for waiting := 0; waiting == 0; {
			select {
			case r := <-done:
				t.Fatalf("known=%v: the ack finished while the sender's device row was locked: %v", known, r.err)
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
			other.Rollback()
			t.Fatalf("known=%v: the ack's batch holds the acking device's row while it waits for the sender's: %v", known, err)
		}
		if err := other.Commit(); err != nil {
			t.Fatal(err)
		}
		r := <-done
		if r.err != nil {
			t.Fatalf("known=%v: AckWithThen: %v", known, r.err)
		}
		if len(r.sent) != 1 || r.sent[0].Account != sender || r.sent[0].Seq == 0 {
			t.Fatalf("known=%v: the ack sent %+v, want the receipt to the sender's device with a seq", known, r.sent)
		}
		got, err := s.Fetch(ctx, sender, 1, r.sent[0].Seq-1, 10, time.Now())
		if err != nil || len(got) != 1 || got[0].Kind != parley.KindDelivered || got[0].MessageID != id {
			t.Fatalf("known=%v: the sender's mailbox: %v, %+v; want the receipt for %s", known, err, got, id)
		}
	}
}

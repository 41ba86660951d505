package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/store/sqlite"
	"github.com/parley-chat/parley/store/storetest"
)

// harness lets the conformance suite open the database a second time.
type harness struct {
	*sqlite.Store
	path string
}

func (h harness) Reopen(ctx context.Context) (parley.Store, error) { return sqlite.Open(ctx, h.path) }

func (h harness) Exec(ctx context.Context, query string) error {
	db, err := sql.Open("sqlite", h.path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, query)
	return err
}

func open(tb testing.TB) parley.Store {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "parley.db")
	s, err := sqlite.Open(tb.Context(), path)
	if err != nil {
		tb.Fatalf("sqlite.Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return harness{s, path}
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) parley.Store { return open(t) })
}

func BenchmarkDeliver(b *testing.B) {
	storetest.BenchmarkDeliver(b, open)
}

func BenchmarkEnqueue(b *testing.B) {
	storetest.BenchmarkEnqueue(b, open)
}

func TestOpenRejectsNonFilePaths(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if s, err := sqlite.Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

// The service pipelines deliveries when the store can (DeliverAsync);
// the SQLite wrapper must keep that method of sqlstore.Store.
func TestStoreKeepsDeliverAsync(t *testing.T) {
	var s parley.Store = open(t).(harness).Store
	if _, ok := s.(interface {
		DeliverAsync(context.Context, *parley.Delivery) func() error
	}); !ok {
		t.Errorf("%T has no DeliverAsync", s)
	}
}

// OnWebhooks is called after batches that committed webhook events, and
// only then, so that the node's dispatcher wakes at once.
func TestOnWebhooks(t *testing.T) {
	s := open(t).(harness).Store
	var calls atomic.Int32
	s.OnWebhooks(func() { calls.Add(1) })
	ctx := t.Context()
	ev := func() []parley.WebhookEvent {
		return []parley.WebhookEvent{{Endpoint: "app", Key: "k", Body: []byte("{}")}}
	}
	if err := s.EnqueueWebhooks(ctx, ev()); err != nil {
		t.Fatal(err)
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("after EnqueueWebhooks: %d calls, want 1", got)
	}
	if _, _, err := s.EnsureAccount(ctx, "4915100000001", time.Now()); err != nil {
		t.Fatal(err)
	}
	dev := &parley.Device{Account: "4915100000001", Name: "x", Platform: "test", CreatedAt: time.Now()}
	if err := s.CreateDevice(ctx, dev); err != nil {
		t.Fatal(err)
	}
	d := func() *parley.Delivery {
		return &parley.Delivery{From: "4915100000001", FromDevice: dev.ID, ClientID: "c1", MessageID: "m1", Timestamp: time.Now(),
			Items: []parley.Item{{Account: "4915100000001", Device: dev.ID, Kind: parley.KindMessage, MessageID: "m1", Body: []byte("x")}}}
	}
	plain := d()
	plain.ClientID = "c0"
	if err := s.Deliver(ctx, plain); err != nil {
		t.Fatal(err)
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("after a delivery without webhooks: %d calls, want 1", got)
	}
	with := d()
	with.Webhooks = ev()
	if err := s.Deliver(ctx, with); err != nil {
		t.Fatal(err)
	}
	dup := d()
	dup.Webhooks = ev()
	if err := s.Deliver(ctx, dup); err != nil || !dup.Duplicate {
		t.Fatalf("duplicate Deliver = %v, %v", err, dup.Duplicate)
	}
	if got := calls.Load(); got != 2 {
		t.Errorf("after a delivery with webhooks and its duplicate: %d calls, want 2", got)
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	storetest.BenchmarkRoundTrip(b, open)
}

func BenchmarkWebhookOutbox(b *testing.B) {
	storetest.BenchmarkWebhookOutbox(b, open)
}

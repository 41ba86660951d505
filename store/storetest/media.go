package storetest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

var mediaSeq atomic.Int64

// newMediaID returns a media id not used before in this process.
func newMediaID() string { return fmt.Sprintf("m%031d", mediaSeq.Add(1)) }

// blobBytes returns size bytes that differ from chunk to chunk.
func blobBytes(size int, seed byte) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = seed + byte(i/parley.MediaChunkSize) + byte(i*7)
	}
	return b
}

// upload stores data as a new blob of account's device in chunks, and
// completes it unless complete is false.
func upload(t testing.TB, s parley.Store, account string, dev uint32, data []byte, created time.Time, complete bool) *parley.Media {
	t.Helper()
	m := &parley.Media{ID: newMediaID(), Account: account, Device: dev, Kind: parley.MediaDocument, CreatedAt: created}
	if err := s.CreateMedia(ctxT(t), m); err != nil {
		t.Fatalf("CreateMedia: %v", err)
	}
	for n := 0; n*parley.MediaChunkSize < len(data); n++ {
		chunk := data[n*parley.MediaChunkSize : min((n+1)*parley.MediaChunkSize, len(data))]
		if err := s.PutMediaChunk(ctxT(t), m.ID, n, chunk); err != nil {
			t.Fatalf("PutMediaChunk(%d): %v", n, err)
		}
	}
	if complete {
		sum := sha256.Sum256(data)
		if err := s.CompleteMedia(ctxT(t), m.ID, int64(len(data)), sum[:], created); err != nil {
			t.Fatalf("CompleteMedia: %v", err)
		}
		m.Size, m.SHA256, m.CompletedAt = int64(len(data)), sum[:], created
	}
	return m
}

// readBlob reads every chunk of a complete blob.
func readBlob(t testing.TB, s parley.Store, m *parley.Media) []byte {
	t.Helper()
	var out []byte
	for n := range m.Chunks() {
		c, err := s.MediaChunk(ctxT(t), m.ID, n)
		if err != nil {
			t.Fatalf("MediaChunk(%d): %v", n, err)
		}
		if n < m.Chunks()-1 && len(c) != parley.MediaChunkSize {
			t.Errorf("chunk %d has %d bytes, want %d", n, len(c), parley.MediaChunkSize)
		}
		out = append(out, c...)
	}
	return out
}

// sweep runs SweepMedia at now with a grace period of a day, unlinked
// blobs kept for a day and a retention of 30 days.
func sweep(t testing.TB, s parley.Store, now time.Time) int {
	t.Helper()
	n, err := s.SweepMedia(ctxT(t), parley.MediaSweep{Now: now, ReleasedBefore: now.Add(-24 * time.Hour),
		UnlinkedBefore: now.Add(-24 * time.Hour), CreatedBefore: now.Add(-30 * 24 * time.Hour)})
	if err != nil {
		t.Fatalf("SweepMedia: %v", err)
	}
	return n
}

func wantMedia(t *testing.T, what string, s parley.Store, id string, code string) {
	t.Helper()
	_, err := s.Media(ctxT(t), id)
	if code == "" {
		if err != nil {
			t.Errorf("%s: Media = %v, want the blob", what, err)
		}
		return
	}
	wantCode(t, what+": Media", err, code)
}

func testMedia(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("Chunks", func(t *testing.T) {
		s := open(t)
		a := mustAccount(t, s)
		dev := mustDevice(t, s, a)
		data := blobBytes(2*parley.MediaChunkSize+100, 1)
		m := upload(t, s, a, dev, data, t0, false)

		// Incomplete: never served.
		wantMedia(t, "incomplete", s, m.ID, parley.ENOTFOUND)
		_, err := s.MediaChunk(ctxT(t), m.ID, 0)
		wantCode(t, "MediaChunk of an incomplete blob", err, parley.ENOTFOUND)

		sum := sha256.Sum256(data)
		if err := s.CompleteMedia(ctxT(t), m.ID, int64(len(data)), sum[:], t0.Add(time.Second)); err != nil {
			t.Fatalf("CompleteMedia: %v", err)
		}
		got, err := s.Media(ctxT(t), m.ID)
		if err != nil {
			t.Fatalf("Media: %v", err)
		}
		want := parley.Media{ID: m.ID, Account: a, Device: dev, Kind: parley.MediaDocument, Size: int64(len(data)),
			SHA256: sum[:], CreatedAt: at(0), CompletedAt: at(time.Second)}
		if got.ID != want.ID || got.Account != want.Account || got.Device != want.Device || got.Kind != want.Kind ||
			got.Size != want.Size || !bytes.Equal(got.SHA256, want.SHA256) || !got.CreatedAt.Equal(want.CreatedAt) ||
			!got.CompletedAt.Equal(want.CompletedAt) || got.CreatedAt.Location() != time.UTC {
			t.Errorf("Media = %+v, want %+v", got, want)
		}
		if got.Chunks() != 3 {
			t.Errorf("Chunks() = %d, want 3", got.Chunks())
		}
		if b := readBlob(t, s, got); !bytes.Equal(b, data) {
			t.Errorf("read back %d bytes that differ from the %d uploaded", len(b), len(data))
		}
		_, err = s.MediaChunk(ctxT(t), m.ID, 3)
		wantCode(t, "MediaChunk past the end", err, parley.ENOTFOUND)

		// Complete: no more chunks, no second completion.
		err = s.PutMediaChunk(ctxT(t), m.ID, 3, []byte("more"))
		wantCode(t, "PutMediaChunk after completion", err, parley.ENOTFOUND)
		err = s.CompleteMedia(ctxT(t), m.ID, int64(len(data)), sum[:], t0)
		wantCode(t, "second CompleteMedia", err, parley.ENOTFOUND)
	})
	t.Run("CompleteChecksChunks", func(t *testing.T) {
		s := open(t)
		a := mustAccount(t, s)
		dev := mustDevice(t, s, a)
		m := &parley.Media{ID: newMediaID(), Account: a, Device: dev, Kind: parley.MediaImage, CreatedAt: t0}
		if err := s.CreateMedia(ctxT(t), m); err != nil {
			t.Fatalf("CreateMedia: %v", err)
		}
		full := blobBytes(parley.MediaChunkSize, 3)
		if err := s.PutMediaChunk(ctxT(t), m.ID, 1, []byte("tail")); err != nil {
			t.Fatalf("PutMediaChunk(1): %v", err)
		}
		size := int64(parley.MediaChunkSize + 4)
		err := s.CompleteMedia(ctxT(t), m.ID, size, make([]byte, 32), t0)
		wantCode(t, "CompleteMedia with chunk 0 missing", err, parley.ECONFLICT)
		if err := s.PutMediaChunk(ctxT(t), m.ID, 0, full); err != nil {
			t.Fatalf("PutMediaChunk(0): %v", err)
		}
		err = s.CompleteMedia(ctxT(t), m.ID, size+1, make([]byte, 32), t0)
		wantCode(t, "CompleteMedia with the wrong size", err, parley.ECONFLICT)
		wantMedia(t, "after failed completions", s, m.ID, parley.ENOTFOUND)
		if err := s.CompleteMedia(ctxT(t), m.ID, size, make([]byte, 32), t0); err != nil {
			t.Errorf("CompleteMedia with every chunk: %v", err)
		}
		wantMedia(t, "completed", s, m.ID, "")
	})
	t.Run("Unknown", func(t *testing.T) {
		s := open(t)
		id := newMediaID()
		wantMedia(t, "unknown", s, id, parley.ENOTFOUND)
		wantCode(t, "PutMediaChunk of an unknown blob", s.PutMediaChunk(ctxT(t), id, 0, []byte("x")), parley.ENOTFOUND)
		wantCode(t, "CompleteMedia of an unknown blob", s.CompleteMedia(ctxT(t), id, 1, nil, t0), parley.ENOTFOUND)
		wantCode(t, "DeleteMedia of an unknown blob", s.DeleteMedia(ctxT(t), id, t0), parley.ENOTFOUND)
		_, err := s.MediaChunk(ctxT(t), id, 0)
		wantCode(t, "MediaChunk of an unknown blob", err, parley.ENOTFOUND)
	})
	t.Run("CreateConflict", func(t *testing.T) {
		s := open(t)
		a := mustAccount(t, s)
		m := &parley.Media{ID: newMediaID(), Account: a, Device: 1, Kind: parley.MediaAudio, CreatedAt: t0}
		if err := s.CreateMedia(ctxT(t), m); err != nil {
			t.Fatalf("CreateMedia: %v", err)
		}
		wantCode(t, "CreateMedia with a taken id", s.CreateMedia(ctxT(t), m), parley.ECONFLICT)
	})
	t.Run("Delete", func(t *testing.T) {
		s := open(t)
		a := mustAccount(t, s)
		dev := mustDevice(t, s, a)
		data := blobBytes(3*parley.MediaChunkSize/2, 5)
		m := upload(t, s, a, dev, data, t0, true)
		if err := s.DeleteMedia(ctxT(t), m.ID, t0); err != nil {
			t.Fatalf("DeleteMedia: %v", err)
		}
		wantMedia(t, "deleted", s, m.ID, parley.ENOTFOUND)
		_, err := s.MediaChunk(ctxT(t), m.ID, 0)
		wantCode(t, "MediaChunk of a deleted blob", err, parley.ENOTFOUND)
		wantCode(t, "second DeleteMedia", s.DeleteMedia(ctxT(t), m.ID, t0), parley.ENOTFOUND)
		// Row and chunks are gone: the id can be created again and its
		// chunk 0 stored without a key conflict.
		again := &parley.Media{ID: m.ID, Account: a, Device: dev, Kind: parley.MediaImage, CreatedAt: t0}
		if err := s.CreateMedia(ctxT(t), again); err != nil {
			t.Fatalf("CreateMedia with the id of a deleted blob: %v", err)
		}
		for n := range 2 {
			if err := s.PutMediaChunk(ctxT(t), m.ID, n, []byte("new")); err != nil {
				t.Errorf("PutMediaChunk(%d) after deletion: %v (old chunk left behind?)", n, err)
			}
		}
		if n := sweep(t, s, t0); n != 0 {
			t.Errorf("sweep after deletion removed %d blobs, want 0", n)
		}
	})
	t.Run("DeleteIncomplete", func(t *testing.T) {
		s := open(t)
		a := mustAccount(t, s)
		m := upload(t, s, a, mustDevice(t, s, a), blobBytes(100, 1), t0, false)
		if err := s.DeleteMedia(ctxT(t), m.ID, t0); err != nil {
			t.Fatalf("DeleteMedia of an upload in progress: %v", err)
		}
		wantCode(t, "PutMediaChunk after deletion", s.PutMediaChunk(ctxT(t), m.ID, 1, []byte("x")), parley.ENOTFOUND)
		wantCode(t, "CompleteMedia after deletion", s.CompleteMedia(ctxT(t), m.ID, 100, nil, t0), parley.ENOTFOUND)
	})
	t.Run("InterruptedDeletion", func(t *testing.T) {
		s := open(t)
		r, ok := s.(Reopener)
		if !ok {
			t.Skipf("%T cannot run SQL directly", s)
		}
		a := mustAccount(t, s)
		m := upload(t, s, a, mustDevice(t, s, a), blobBytes(2*parley.MediaChunkSize, 9), t0, true)
		// A deletion that stopped after marking the blob.
		if err := r.Exec(ctxT(t), `UPDATE media SET deleted_at = 1 WHERE id = '`+m.ID+`'`); err != nil {
			t.Fatal(err)
		}
		wantMedia(t, "marked deleted", s, m.ID, parley.ENOTFOUND)
		if n := sweep(t, s, t0); n != 1 {
			t.Errorf("sweep removed %d blobs, want the 1 marked deleted", n)
		}
		if err := s.CreateMedia(ctxT(t), &parley.Media{ID: m.ID, Account: a, Device: 1, Kind: parley.MediaImage, CreatedAt: t0}); err != nil {
			t.Errorf("the swept blob's row is still there: %v", err)
		}
		if err := s.PutMediaChunk(ctxT(t), m.ID, 1, []byte("x")); err != nil {
			t.Errorf("the swept blob's chunk 1 is still there: %v", err)
		}
	})
	t.Run("ReleasedAfterAcksAndGrace", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		m := upload(t, s, p.from, p.fromDev, blobBytes(10, 1), t0, true)
		d := p.delivery("with-media")
		d.Media = []string{m.ID}
		if err := s.Deliver(ctxT(t), d); err != nil {
			t.Fatalf("Deliver: %v", err)
		}
		// Linked: kept past the unlinked limit while copies are pending.
		if n := sweep(t, s, t0.Add(25*time.Hour)); n != 0 {
			t.Fatalf("sweep with copies pending removed %d", n)
		}
		wantMedia(t, "copies pending", s, m.ID, "")
		ackAll(t, s, p.to, p.toA)
		ackAll(t, s, p.to, p.toB)
		if n := sweep(t, s, t0.Add(26*time.Hour)); n != 0 {
			t.Fatalf("sweep with the sender's other device pending removed %d", n)
		}
		ackAll(t, s, p.from, p.fromOther)
		// Released now (26h+1m), deleted only after the grace period.
		released := t0.Add(26*time.Hour + time.Minute)
		if n := sweep(t, s, released); n != 0 {
			t.Fatalf("sweep right after the last ack removed %d", n)
		}
		if n := sweep(t, s, released.Add(23*time.Hour)); n != 0 {
			t.Fatalf("sweep within the grace period removed %d", n)
		}
		wantMedia(t, "within the grace period", s, m.ID, "")
		if n := sweep(t, s, released.Add(24*time.Hour+time.Second)); n != 1 {
			t.Fatalf("sweep after the grace period removed %d, want 1", n)
		}
		wantMedia(t, "after the grace period", s, m.ID, parley.ENOTFOUND)
	})
	t.Run("LinkedAgain", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		m := upload(t, s, p.from, p.fromDev, blobBytes(10, 1), t0, true)
		for i, id := range []string{"first", "second"} {
			d := p.delivery(id)
			d.Media = []string{m.ID}
			if err := s.Deliver(ctxT(t), d); err != nil {
				t.Fatalf("Deliver: %v", err)
			}
			if i == 0 {
				for _, dev := range [][2]any{{p.to, p.toA}, {p.to, p.toB}, {p.from, p.fromOther}} {
					ackAll(t, s, dev[0].(string), dev[1].(uint32))
				}
				sweep(t, s, t0.Add(time.Hour)) // released
			}
		}
		// The second message is pending: the release is void.
		if n := sweep(t, s, t0.Add(26*time.Hour)); n != 0 {
			t.Errorf("sweep removed %d blobs linked again after their release", n)
		}
		wantMedia(t, "linked again", s, m.ID, "")
	})
	t.Run("DuplicateDeliveryLinksOnce", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		m1 := upload(t, s, p.from, p.fromDev, blobBytes(10, 1), t0, true)
		m2 := upload(t, s, p.from, p.fromDev, blobBytes(10, 2), t0, true)
		d := p.delivery("dup")
		d.Media = []string{m1.ID}
		if err := s.Deliver(ctxT(t), d); err != nil {
			t.Fatal(err)
		}
		again := p.delivery("dup")
		again.MessageID = "m-other"
		again.Media = []string{m2.ID}
		if err := s.Deliver(ctxT(t), again); err != nil || !again.Duplicate {
			t.Fatalf("second Deliver = %v, duplicate=%v; want a duplicate", err, again.Duplicate)
		}
		// m2 was not linked by the duplicate: swept as never referenced.
		if n := sweep(t, s, t0.Add(25*time.Hour)); n != 1 {
			t.Errorf("sweep removed %d, want 1 (the blob named only by the duplicate)", n)
		}
		wantMedia(t, "linked", s, m1.ID, "")
		wantMedia(t, "named only by a duplicate", s, m2.ID, parley.ENOTFOUND)
	})
	t.Run("DeletedBlobIsNotLinked", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		m := upload(t, s, p.from, p.fromDev, blobBytes(10, 1), t0, true)
		if err := s.DeleteMedia(ctxT(t), m.ID, t0); err != nil {
			t.Fatal(err)
		}
		d := p.delivery("late")
		d.Media = []string{m.ID}
		if err := s.Deliver(ctxT(t), d); err != nil {
			t.Fatalf("Deliver naming a deleted blob: %v", err)
		}
		wantMedia(t, "deleted, then named", s, m.ID, parley.ENOTFOUND)
	})
	t.Run("Unlinked", func(t *testing.T) {
		s := open(t)
		a := mustAccount(t, s)
		dev := mustDevice(t, s, a)
		done := upload(t, s, a, dev, blobBytes(10, 1), t0, true)
		partial := upload(t, s, a, dev, blobBytes(10, 1), t0, false)
		young := upload(t, s, a, dev, blobBytes(10, 1), t0.Add(2*time.Hour), true)
		if n := sweep(t, s, t0.Add(24*time.Hour)); n != 0 {
			t.Errorf("sweep at 24h removed %d, want 0", n)
		}
		if n := sweep(t, s, t0.Add(25*time.Hour)); n != 2 {
			t.Errorf("sweep at 25h removed %d, want the complete and the partial upload", n)
		}
		wantMedia(t, "never linked", s, done.ID, parley.ENOTFOUND)
		wantCode(t, "PutMediaChunk of a swept upload", s.PutMediaChunk(ctxT(t), partial.ID, 1, []byte("x")), parley.ENOTFOUND)
		wantMedia(t, "uploaded later", s, young.ID, "")
	})
	t.Run("Retention", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		m := upload(t, s, p.from, p.fromDev, blobBytes(10, 1), t0, true)
		d := p.delivery("old")
		d.Media = []string{m.ID}
		if err := s.Deliver(ctxT(t), d); err != nil {
			t.Fatal(err)
		}
		if n := sweep(t, s, t0.Add(29*24*time.Hour)); n != 0 {
			t.Errorf("sweep within the retention removed %d", n)
		}
		if n := sweep(t, s, t0.Add(30*24*time.Hour+time.Second)); n != 1 {
			t.Errorf("sweep past the retention removed %d, want 1 (copies still pending)", n)
		}
	})
	t.Run("ExpiredCopiesRelease", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		m := upload(t, s, p.from, p.fromDev, blobBytes(10, 1), t0, true)
		d := p.delivery("expiring")
		d.Media = []string{m.ID}
		for i := range d.Items {
			d.Items[i].ExpiresIn = time.Hour
		}
		if err := s.Deliver(ctxT(t), d); err != nil {
			t.Fatal(err)
		}
		if n, err := s.PurgeExpired(ctxT(t), t0.Add(time.Hour)); err != nil || n != 3 {
			t.Fatalf("PurgeExpired = %d, %v; want 3", n, err)
		}
		sweep(t, s, t0.Add(time.Hour)) // released
		if n := sweep(t, s, t0.Add(25*time.Hour+time.Second)); n != 1 {
			t.Errorf("sweep after expiry and grace removed %d, want 1", n)
		}
	})
}

// ackAll acknowledges every item of a device.
func ackAll(t testing.TB, s parley.Store, account string, dev uint32) {
	t.Helper()
	items := fetchAll(t, s, account, dev)
	if err := s.Ack(ctxT(t), account, dev, seqsOf(items), nil); err != nil {
		t.Fatalf("Ack: %v", err)
	}
}

func testExpiry(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("FetchLeavesOutExpired", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		p.deliver(t, "plain")
		d := p.delivery("short")
		for i := range d.Items {
			d.Items[i].ExpiresIn = time.Hour
		}
		if err := s.Deliver(ctxT(t), d); err != nil {
			t.Fatal(err)
		}
		p.deliver(t, "after")
		items, err := s.Fetch(ctxT(t), p.to, p.toA, 0, 10, t0.Add(time.Hour-time.Microsecond))
		if err != nil {
			t.Fatal(err)
		}
		if got := clientIDs(items); !equalStrings(got, []string{"plain", "short", "after"}) {
			t.Fatalf("Fetch before expiry = %v", got)
		}
		if items[1].ExpiresIn != time.Hour || items[0].ExpiresIn != 0 {
			t.Errorf("ExpiresIn = %v and %v, want 1h and 0", items[1].ExpiresIn, items[0].ExpiresIn)
		}
		items, err = s.Fetch(ctxT(t), p.to, p.toA, 0, 10, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got := clientIDs(items); !equalStrings(got, []string{"plain", "after"}) {
			t.Errorf("Fetch at expiry = %v, want the expired item left out", got)
		}
		if n, err := s.PurgeExpired(ctxT(t), t0.Add(time.Hour-time.Second)); err != nil || n != 0 {
			t.Errorf("PurgeExpired before expiry = %d, %v; want 0", n, err)
		}
		if n, err := s.PurgeExpired(ctxT(t), t0.Add(time.Hour)); err != nil || n != 3 {
			t.Errorf("PurgeExpired at expiry = %d, %v; want 3", n, err)
		}
		if got := clientIDs(fetchAll(t, s, p.to, p.toB)); !equalStrings(got, []string{"plain", "after"}) {
			t.Errorf("after PurgeExpired the mailbox has %v", got)
		}
	})
}

func clientIDs(items []parley.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ClientID
	}
	return out
}

func equalStrings(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

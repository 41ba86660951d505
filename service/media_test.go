package service_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

func (f *fixture) media() *service.Media { return service.NewMedia(f.store, f.clock, quiet()) }

func TestUploadAndRead(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{})
	m := f.media()
	alice := f.register(t, "+4915140000001")
	data := bytes.Repeat([]byte("0123456789abcdef"), (2*parley.MediaChunkSize+77)/16)
	for _, tc := range []struct {
		name string
		size int64
	}{{"Declared", int64(len(data))}, {"Chunked", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := m.Upload(ctx, alice.Device, parley.MediaDocument, bytes.NewReader(data), tc.size)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			if got.Size != int64(len(data)) || !bytes.Equal(got.SHA256, sum[:]) || !parley.ValidMediaID(got.ID) || got.Account != alice.Device.Account {
				t.Fatalf("Upload = %+v", got)
			}
			stored, err := m.Get(ctx, got.ID)
			if err != nil {
				t.Fatal(err)
			}
			r := m.Reader(ctx, stored)
			all, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(all, data) {
				t.Fatalf("ReadAll = %d bytes, %v; want the %d uploaded", len(all), err, len(data))
			}
			// Seek across a chunk boundary.
			off := int64(parley.MediaChunkSize - 5)
			if _, err := r.Seek(off, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			part := make([]byte, 10)
			if _, err := io.ReadFull(r, part); err != nil || !bytes.Equal(part, data[off:off+10]) {
				t.Fatalf("read at %d = %q, %v; want %q", off, part, err, data[off:off+10])
			}
			if end, _ := r.Seek(0, io.SeekEnd); end != int64(len(data)) {
				t.Fatalf("Seek(0, end) = %d, want %d", end, len(data))
			}
		})
	}
}

func TestUploadLimits(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{})
	m := f.media()
	alice := f.register(t, "+4915140000002")
	limit := parley.MediaSticker.MaxSize()
	tests := []struct {
		name string
		kind parley.MediaKind
		body io.Reader
		size int64
		code string
	}{
		{"AtLimit", parley.MediaSticker, bytes.NewReader(make([]byte, limit)), limit, ""},
		{"DeclaredOver", parley.MediaSticker, failingReader{}, limit + 1, parley.ETOOLARGE},
		{"ChunkedOver", parley.MediaSticker, bytes.NewReader(make([]byte, limit+1)), -1, parley.ETOOLARGE},
		{"UnknownKind", "gif", strings.NewReader("x"), 1, parley.EINVALID},
		{"Empty", parley.MediaImage, strings.NewReader(""), -1, parley.EINVALID},
		{"Short", parley.MediaImage, strings.NewReader("abc"), 4, parley.EINVALID},
		{"CutShort", parley.MediaImage, io.MultiReader(strings.NewReader("abc"), failingReader{}), -1, parley.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Upload(ctx, alice.Device, tt.kind, tt.body, tt.size)
			if tt.code == "" {
				if err != nil || got.Size != limit {
					t.Fatalf("Upload = %+v, %v", got, err)
				}
				return
			}
			wantCode(t, err, tt.code)
		})
	}
	// Failed uploads leave nothing: an unlinked sweep a day later finds
	// only the one that succeeded.
	f.clock.Add(25 * time.Hour)
	if n, err := m.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want only the complete upload", n, err)
	}
}

func TestUploadsInProgressAreBounded(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{})
	m := f.media()
	m.MaxUploads = 1
	alice := f.register(t, "+4915140000008")
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := m.Upload(ctx, alice.Device, parley.MediaImage, &blockingReader{started: started, release: release}, -1)
		done <- err
	}()
	<-started
	_, err := m.Upload(ctx, alice.Device, parley.MediaImage, strings.NewReader("x"), 1)
	wantCode(t, err, parley.EUNAVAILABLE)
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("first upload: %v", err)
	}
	if _, err := m.Upload(ctx, alice.Device, parley.MediaImage, strings.NewReader("x"), 1); err != nil {
		t.Fatalf("upload after the first finished: %v", err)
	}
}

// blockingReader yields one byte once release is closed.
type blockingReader struct {
	started, release chan struct{}
	done             bool
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if r.done {
		return 0, io.EOF
	}
	close(r.started)
	<-r.release
	r.done = true
	p[0] = 'x'
	return 1, nil
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestUploadQuota(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{})
	m := f.media()
	m.UploadsPerHour = 3
	m.BytesPerDay = parley.MediaChunkSize + 10
	alice := f.register(t, "+4915140000003")
	up := func(n int) error {
		_, err := m.Upload(ctx, alice.Device, parley.MediaDocument, bytes.NewReader(make([]byte, n)), int64(n))
		return err
	}
	if err := up(parley.MediaChunkSize); err != nil {
		t.Fatal(err)
	}
	if err := up(10); err != nil {
		t.Fatalf("upload up to the byte quota: %v", err)
	}
	err := up(1)
	wantCode(t, err, parley.ERATELIMIT)
	if !strings.Contains(parley.ErrorMessage(err), "bytes") {
		t.Errorf("third upload: %v, want the byte quota named", err)
	}
	err = up(1)
	wantCode(t, err, parley.ERATELIMIT)
	if !strings.Contains(parley.ErrorMessage(err), "uploads") {
		t.Errorf("fourth upload: %v, want the upload count named", err)
	}
	f.clock.Add(25 * time.Hour)
	if err := up(10); err != nil {
		t.Fatalf("upload the next day: %v", err)
	}
}

func TestMediaDeleteAndSend(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{})
	m := f.media()
	alice := f.register(t, "+4915140000004")
	bob := f.register(t, "+4915140000005")
	A, B := alice.Device.Account, bob.Device.Account
	blob, err := m.Upload(ctx, alice.Device, parley.MediaImage, strings.NewReader("sealed"), 6)
	if err != nil {
		t.Fatal(err)
	}
	send := func(from *parley.Device, to, id string, media ...string) error {
		_, err := f.msg.Send(ctx, from, &parley.Envelope{To: to, ClientID: id, Media: media,
			Copies: []parley.Copy{{Account: to, Device: 1, Body: []byte("x")}}})
		return err
	}
	wantCode(t, send(bob.Device, A, "c1", blob.ID), parley.EFORBIDDEN)
	wantCode(t, send(alice.Device, B, "c2", service.NewMediaID()), parley.ENOTFOUND)
	wantCode(t, send(alice.Device, B, "c3", "short"), parley.EINVALID)
	if err := send(alice.Device, B, "c4", blob.ID); err != nil {
		t.Fatalf("send with own media: %v", err)
	}

	wantCode(t, m.Delete(ctx, bob.Device, blob.ID), parley.EFORBIDDEN)
	if err := m.Delete(ctx, alice.Device, blob.ID); err != nil {
		t.Fatal(err)
	}
	_, err = m.Get(ctx, blob.ID)
	wantCode(t, err, parley.ENOTFOUND)
	wantCode(t, m.Delete(ctx, alice.Device, blob.ID), parley.ENOTFOUND)
}

func TestExpiringMessage(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{})
	alice := f.register(t, "+4915140000006")
	bob := f.register(t, "+4915140000007")
	B := bob.Device.Account
	for _, bad := range []time.Duration{time.Second, 91 * 24 * time.Hour, time.Minute + time.Millisecond} {
		_, err := f.msg.Send(ctx, alice.Device, &parley.Envelope{To: B, ClientID: "bad", ExpiresIn: bad,
			Copies: []parley.Copy{{Account: B, Device: 1, Body: []byte("x")}}})
		wantCode(t, err, parley.EINVALID)
	}
	_, err := f.msg.Send(ctx, alice.Device, &parley.Envelope{To: B, ClientID: "c", ExpiresIn: time.Hour,
		Copies: []parley.Copy{{Account: B, Device: 1, Body: []byte("x")}}})
	if err != nil {
		t.Fatal(err)
	}
	items, _ := f.msg.Fetch(ctx, bob.Device, 0, 10)
	if len(items) != 1 || items[0].ExpiresIn != time.Hour {
		t.Fatalf("items before expiry = %+v, want one expiring in 1h", items)
	}
	f.clock.Add(time.Hour)
	if items, _ := f.msg.Fetch(ctx, bob.Device, 0, 10); len(items) != 0 {
		t.Fatalf("items at expiry = %+v, want none", items)
	}
}

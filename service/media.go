package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley"
)

// MediaStore is what the media service needs from storage.
type MediaStore interface {
	parley.MediaStore
	parley.RateStore
}

// Defaults of media.
const (
	DefaultMediaGrace     = 24 * time.Hour      // kept after the last copy of its messages is gone
	DefaultMediaUnlinked  = 24 * time.Hour      // kept while no message references it
	DefaultMediaRetention = 30 * 24 * time.Hour // kept at most, like undelivered messages
	DefaultUploadsPerHour = 300                 // uploads per device per hour
	DefaultUploadPerDay   = 2 << 30             // bytes uploaded per device per day
	DefaultMaxUploads     = 256                 // uploads in progress on one node (each holds a 1 MiB buffer)
)

// Media stores the encrypted attachments clients upload, serves them to
// any authenticated device that knows their id, and sweeps them when no
// one needs them any more.
//
// Security review: media ids are 192-bit random capabilities: whoever
// holds one may download the blob, so ids must only travel inside
// end-to-end encrypted messages. The server never sees keys or
// plaintext; it checks sizes against the declared kind and counts each
// device's uploads and bytes (UploadsPerHour, BytesPerDay) so that no
// device fills the database.
type Media struct {
	store MediaStore
	clock parley.Clock
	log   *slog.Logger

	// Grace is how long a blob is kept after every copy of every message
	// referencing it was acknowledged (or expired), so that a recipient
	// can download it again after a crash.
	Grace time.Duration
	// Unlinked is how long a blob that no message references is kept.
	Unlinked time.Duration
	// Retention is how long any blob is kept at most.
	Retention time.Duration
	// UploadsPerHour and BytesPerDay limit each device's uploads.
	UploadsPerHour int
	BytesPerDay    int64
	// MaxUploads bounds the uploads in progress on this node, and so the
	// memory they hold; beyond it uploads fail with EUNAVAILABLE.
	MaxUploads int

	active atomic.Int64 // uploads in progress
}

// NewMedia returns the media service with the default settings.
func NewMedia(store MediaStore, clock parley.Clock, log *slog.Logger) *Media {
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Media{store: store, clock: clock, log: log, Grace: DefaultMediaGrace, Unlinked: DefaultMediaUnlinked,
		Retention: DefaultMediaRetention, UploadsPerHour: DefaultUploadsPerHour, BytesPerDay: DefaultUploadPerDay,
		MaxUploads: DefaultMaxUploads}
}

// NewMediaID returns a new media id: 192 random bits, base64url.
func NewMediaID() string {
	var b [parley.MediaIDSize * 3 / 4]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

var chunkBuffers = sync.Pool{New: func() any { b := make([]byte, parley.MediaChunkSize); return &b }}

// Upload stores body as a new blob of the given kind, uploaded by dev,
// and returns it once it is complete. size is the declared length, -1
// when unknown (a chunked request): a declared size over the kind's
// limit fails at once with ETOOLARGE, and so does a body that runs over
// it. The body is read and stored one chunk at a time. On failure
// nothing of the upload is kept.
func (s *Media) Upload(ctx context.Context, dev *parley.Device, kind parley.MediaKind, body io.Reader, size int64) (*parley.Media, error) {
	limit := kind.MaxSize()
	if limit == 0 {
		_, err := parley.ParseMediaKind(string(kind))
		return nil, err
	}
	return s.upload(ctx, dev, kind, body, size, limit, func() error {
		return parley.Errorf(parley.ETOOLARGE, "%s media are at most %d bytes (%d bytes plus encryption overhead)",
			kind, limit, limit-parley.MediaOverhead)
	})
}

// UploadPlain stores a file that is not end-to-end encrypted (business
// media, which the business uploaded as is) with a limit of its own, at
// most the kind's; tooLarge is the error when the file exceeds it.
func (s *Media) UploadPlain(ctx context.Context, dev *parley.Device, kind parley.MediaKind, body io.Reader, size, limit int64,
	tooLarge func() error) (*parley.Media, error) {
	if max := kind.MaxSize(); limit <= 0 || limit > max {
		limit = max
	}
	if limit == 0 {
		_, err := parley.ParseMediaKind(string(kind))
		return nil, err
	}
	return s.upload(ctx, dev, kind, body, size, limit, tooLarge)
}

func (s *Media) upload(ctx context.Context, dev *parley.Device, kind parley.MediaKind, body io.Reader, size, limit int64,
	tooLarge func() error) (*parley.Media, error) {
	const op = "media.Upload"
	if size > limit {
		return nil, tooLarge()
	}
	if size == 0 {
		return nil, parley.Errorf(parley.EINVALID, "the upload is empty")
	}
	if n := s.active.Add(1); n > int64(s.MaxUploads) {
		s.active.Add(-1)
		return nil, parley.Errorf(parley.EUNAVAILABLE, "too many uploads in progress on this server; try again shortly")
	}
	defer s.active.Add(-1)
	now := s.clock.Now()
	if err := s.limit(ctx, "media:"+dev.Address(), time.Hour, 1, int64(s.UploadsPerHour), "uploads", now); err != nil {
		return nil, err
	}
	m := &parley.Media{ID: NewMediaID(), Account: dev.Account, Device: dev.ID, Kind: kind, CreatedAt: now}
	if err := s.store.CreateMedia(ctx, m); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	sum, total, err := s.copyChunks(ctx, dev, m, io.LimitReader(body, limit+1), limit, tooLarge)
	if err == nil && size >= 0 && total != size {
		err = parley.Errorf(parley.EINVALID, "the body has %d bytes, not the %d declared", total, size)
	}
	if err == nil && total == 0 {
		err = parley.Errorf(parley.EINVALID, "the upload is empty")
	}
	if err == nil {
		m.Size, m.SHA256, m.CompletedAt = total, sum, s.clock.Now()
		err = s.store.CompleteMedia(ctx, m.ID, m.Size, m.SHA256, m.CompletedAt)
	}
	if err != nil {
		// Keep nothing of a failed upload, even when the client has gone.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if derr := s.store.DeleteMedia(dctx, m.ID, s.clock.Now()); derr != nil {
			s.log.Warn("delete failed upload", "media", m.ID, "err", derr) // the sweeper removes it later
		}
		if parley.ErrorCode(err) == parley.EINTERNAL {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		return nil, err
	}
	return m, nil
}

// copyChunks reads body in chunks of parley.MediaChunkSize, counts each
// against the device's daily quota and stores it, and returns the
// SHA-256 and length of what it stored.
func (s *Media) copyChunks(ctx context.Context, dev *parley.Device, m *parley.Media, body io.Reader, limit int64, tooLarge func() error) ([]byte, int64, error) {
	bp := chunkBuffers.Get().(*[]byte)
	defer chunkBuffers.Put(bp)
	buf := *bp
	h := sha256.New()
	var total int64
	for n := 0; ; n++ {
		k, rerr := io.ReadFull(body, buf)
		if k > 0 {
			total += int64(k)
			if total > limit {
				return nil, 0, tooLarge()
			}
			if err := s.limit(ctx, "media-bytes:"+dev.Address(), 24*time.Hour, int64(k), s.BytesPerDay, "bytes of uploads", s.clock.Now()); err != nil {
				return nil, 0, err
			}
			h.Write(buf[:k])
			if err := s.store.PutMediaChunk(ctx, m.ID, n, buf[:k]); err != nil {
				return nil, 0, err
			}
		}
		switch {
		case rerr == io.EOF || errors.Is(rerr, io.ErrUnexpectedEOF):
			return h.Sum(nil), total, nil
		case rerr != nil:
			return nil, 0, &parley.Error{Code: parley.EINVALID, Message: "the upload was cut short", Err: rerr}
		}
	}
}

// limit counts n events for key and fails with ERATELIMIT beyond limit.
func (s *Media) limit(ctx context.Context, key string, window time.Duration, n, limit int64, what string, now time.Time) error {
	ok, retry, err := s.store.HitN(ctx, key, window, n, limit, now)
	if err != nil {
		return fmt.Errorf("media: rate limit: %w", err)
	}
	if !ok {
		return parley.Errorf(parley.ERATELIMIT, "too many %s from this device; try again in %s", what, retry.Round(time.Second))
	}
	return nil
}

// Get returns a complete blob by id. Any authenticated device may
// download a blob whose id it knows.
func (s *Media) Get(ctx context.Context, id string) (*parley.Media, error) {
	if !parley.ValidMediaID(id) {
		return nil, parley.Errorf(parley.ENOTFOUND, "media not found")
	}
	return s.store.Media(ctx, id)
}

// ExpiresAt is when an upload is deleted if no message references it by
// then. A referenced blob lives until its messages are delivered (plus
// Grace), and never longer than Retention after its upload.
func (s *Media) ExpiresAt(m *parley.Media) time.Time { return m.CreatedAt.Add(s.Unlinked) }

// Reader returns the blob's bytes, read one chunk at a time as they are
// asked for; it can seek, so that a download can start anywhere. ctx
// bounds every read.
func (s *Media) Reader(ctx context.Context, m *parley.Media) io.ReadSeeker {
	return &blobReader{ctx: ctx, store: s.store, m: m, chunk: -1}
}

// Delete deletes a blob at once; only the uploading account may.
func (s *Media) Delete(ctx context.Context, dev *parley.Device, id string) error {
	m, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if m.Account != dev.Account {
		return parley.Errorf(parley.EFORBIDDEN, "only the account that uploaded media may delete it")
	}
	if err := s.store.DeleteMedia(ctx, id, s.clock.Now()); err != nil {
		return fmt.Errorf("media.Delete: %w", err)
	}
	return nil
}

// Sweep deletes the blobs no one needs any more (see parley.MediaSweep)
// and returns how many.
func (s *Media) Sweep(ctx context.Context) (int, error) {
	now := s.clock.Now()
	n, err := s.store.SweepMedia(ctx, parley.MediaSweep{Now: now, ReleasedBefore: now.Add(-s.Grace),
		UnlinkedBefore: now.Add(-s.Unlinked), CreatedBefore: now.Add(-s.Retention)})
	if err != nil {
		return n, fmt.Errorf("media.Sweep: %w", err)
	}
	return n, nil
}

// blobReader reads a complete blob chunk by chunk, holding one chunk.
type blobReader struct {
	ctx   context.Context
	store parley.MediaStore
	m     *parley.Media
	pos   int64
	chunk int // the chunk in buf; -1 for none
	buf   []byte
}

func (r *blobReader) Read(p []byte) (int, error) {
	if r.pos >= r.m.Size {
		return 0, io.EOF
	}
	n := int(r.pos / parley.MediaChunkSize)
	if n != r.chunk {
		b, err := r.store.MediaChunk(r.ctx, r.m.ID, n)
		if err != nil {
			return 0, err
		}
		r.buf, r.chunk = b, n
	}
	off := int(r.pos - int64(n)*parley.MediaChunkSize)
	if off >= len(r.buf) {
		return 0, io.ErrUnexpectedEOF // the store holds fewer bytes than recorded
	}
	k := copy(p, r.buf[off:])
	r.pos += int64(k)
	return k, nil
}

func (r *blobReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.m.Size
	default:
		return 0, errors.New("media: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("media: seek before the start")
	}
	r.pos = offset
	return offset, nil
}

// checkMedia checks the blobs an envelope names: each must be complete
// and uploaded by the sender's account.
func (s *Messaging) checkMedia(ctx context.Context, env *parley.Envelope) error {
	for _, id := range env.Media {
		m, err := s.store.Media(ctx, id)
		if parley.Match(err, parley.ENOTFOUND) {
			return parley.Errorf(parley.ENOTFOUND, "media %s not found: upload it (completely) first", id)
		}
		if err != nil {
			return fmt.Errorf("messaging.Send: %w", err)
		}
		if m.Account != env.From {
			return parley.Errorf(parley.EFORBIDDEN, "media %s was uploaded by another account; upload it again to send it", id)
		}
	}
	return nil
}

package service

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/parley-chat/parley"
)

// Business media (the Cloud API's media endpoints): files are stored as
// uploaded, in the chunked blob store, under the number's account (device
// 0), and named by a Graph id scoped to the business. The hosted business
// device encrypts a file for each customer when it sends it, and stores
// the files customers send after decrypting them.
//
// Uploads count against the media service's per-device quotas, with the
// number as the device: UploadsPerHour uploads and BytesPerDay bytes.

func (s *Business) media() (*Media, error) {
	if s.opt.Media == nil {
		return nil, parley.Errorf(parley.EUNAVAILABLE, "media are not available on this server")
	}
	return s.opt.Media, nil
}

// mediaDevice is the device business media of a number are counted on.
func mediaDevice(n *parley.BusinessNumber) *parley.Device {
	return &parley.Device{Account: n.Account, ID: 0}
}

func cloudTooLarge(kind parley.MediaKind) func() error {
	return func() error {
		return parley.Errorf(parley.ETOOLARGE, "Param file of kind %s must be at most %d bytes.", kind, parley.CloudMediaLimit(kind))
	}
}

// UploadMedia stores a file uploaded on the caller's number (POST
// /{phone-number-id}/media). hint is the file's MIME type as far as it is
// known before the body (the file part's Content-Type; "" or an
// unsupported type when unknown): it selects the size limit while the body
// is stored. finish is called once the file is stored and returns the
// final MIME type and file name (the request's type field may follow the
// file); the type must be one the Cloud API supports and the size within
// its kind's limit, or the file is deleted again.
func (s *Business) UploadMedia(ctx context.Context, c *Caller, numberID, hint string, file io.Reader,
	finish func() (mimeType, filename string, err error)) (*parley.BusinessMedia, error) {
	n, err := s.number(ctx, c, numberID)
	if err != nil {
		return nil, err
	}
	media, err := s.media()
	if err != nil {
		return nil, err
	}
	kind, limit := parley.MediaDocument, int64(parley.MaxCloudMedia)
	if _, k, err := parley.ParseCloudMediaType(hint); err == nil {
		kind, limit = k, parley.CloudMediaLimit(k)
	}
	blob, err := media.UploadPlain(ctx, mediaDevice(n), kind, file, -1, limit, cloudTooLarge(kind))
	if err != nil {
		if parley.Match(err, parley.EINVALID) && parley.ErrorMessage(err) == "the upload is empty" {
			return nil, parley.Errorf(parley.EINVALID, "Param file must not be empty.")
		}
		return nil, err
	}
	mimeType, filename, err := finish()
	if err == nil {
		var k parley.MediaKind
		if mimeType, k, err = parley.ParseCloudMediaType(mimeType); err == nil && blob.Size > parley.CloudMediaLimit(k) {
			err = cloudTooLarge(k)()
		}
	}
	var bm *parley.BusinessMedia
	if err == nil {
		bm = &parley.BusinessMedia{ID: NewGraphID(), Business: n.Business, Number: n.ID, Blob: blob.ID, MIMEType: mimeType,
			Filename: filename, Size: blob.Size, SHA256: blob.SHA256, CreatedAt: s.clock.Now()}
		err = s.store.PutBusinessMedia(ctx, bm)
	}
	if err != nil {
		s.dropBlob(ctx, media, blob.ID)
		return nil, err
	}
	return bm, nil
}

func (s *Business) dropBlob(ctx context.Context, media *Media, id string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := media.store.DeleteMedia(dctx, id, s.clock.Now()); err != nil {
		s.log.Warn("delete business media blob", "media", id, "err", err) // the sweeper removes it later
	}
}

// MediaInfo returns a media object of the caller's business; with
// numberID (phone_number_id) only one of that number.
func (s *Business) MediaInfo(ctx context.Context, c *Caller, id, numberID string) (*parley.BusinessMedia, error) {
	if c == nil || c.Business == "" || !parley.ValidGraphID(id) {
		return nil, objectNotFound(id)
	}
	m, err := s.store.BusinessMedia(ctx, id)
	if parley.Match(err, parley.ENOTFOUND) || err == nil && (m.Business != c.Business || numberID != "" && m.Number != numberID) {
		return nil, objectNotFound(id)
	}
	return m, err
}

// OpenMedia returns a media object of the caller's business and its
// bytes (read chunk by chunk; seekable for ranges).
func (s *Business) OpenMedia(ctx context.Context, c *Caller, id string) (*parley.BusinessMedia, io.ReadSeeker, error) {
	m, err := s.MediaInfo(ctx, c, id, "")
	if err != nil {
		return nil, nil, err
	}
	media, err := s.media()
	if err != nil {
		return nil, nil, err
	}
	return m, media.Reader(ctx, &parley.Media{ID: m.Blob, Size: m.Size}), nil
}

// DeleteMedia deletes a media object of the caller's business and its
// bytes.
func (s *Business) DeleteMedia(ctx context.Context, c *Caller, id, numberID string) error {
	m, err := s.MediaInfo(ctx, c, id, numberID)
	if err != nil {
		return err
	}
	media, err := s.media()
	if err != nil {
		return err
	}
	if err := s.store.DeleteBusinessMedia(ctx, id); parley.Match(err, parley.ENOTFOUND) {
		return objectNotFound(id)
	} else if err != nil {
		return err
	}
	if err := media.store.DeleteMedia(ctx, m.Blob, s.clock.Now()); err != nil && !parley.Match(err, parley.ENOTFOUND) {
		return fmt.Errorf("business.DeleteMedia: %w", err)
	}
	return nil
}

// NumberMedia is what the hosted device of number n uses to send a media
// object by id: it must belong to n's business. It returns the object
// and its bytes (at most the Cloud API's largest file).
func (s *Business) NumberMedia(ctx context.Context, n *parley.BusinessNumber, id string) (*parley.BusinessMedia, []byte, error) {
	m, r, err := s.OpenMedia(ctx, &Caller{Business: n.Business}, id)
	if err != nil {
		return nil, nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, parley.MaxCloudMedia+1))
	if err != nil {
		return nil, nil, fmt.Errorf("business.NumberMedia: %w", err)
	}
	return m, data, nil
}

// ReceiveMedia stores a file a customer sent to number n (decrypted by
// its hosted device) as a media object of n's business. The type need
// not be one the Cloud API accepts for uploads; files are limited to
// 100 MB (Meta's limit for media from users).
func (s *Business) ReceiveMedia(ctx context.Context, n *parley.BusinessNumber, kind parley.MediaKind, mimeType, filename string,
	data []byte) (*parley.BusinessMedia, error) {
	media, err := s.media()
	if err != nil {
		return nil, err
	}
	if kind.MaxSize() == 0 {
		kind = parley.MediaDocument
	}
	if int64(len(data)) > kind.MaxSize() {
		kind = parley.MediaDocument
	}
	blob, err := media.UploadPlain(ctx, mediaDevice(n), kind, bytes.NewReader(data), int64(len(data)), parley.MaxCloudMedia,
		cloudTooLarge(parley.MediaDocument))
	if err != nil {
		return nil, err
	}
	if mimeType == "" {
		mimeType = "application/octet-stream"
	}
	bm := &parley.BusinessMedia{ID: NewGraphID(), Business: n.Business, Number: n.ID, Blob: blob.ID, MIMEType: mimeType,
		Filename: filename, Size: blob.Size, SHA256: blob.SHA256, CreatedAt: s.clock.Now()}
	if err := s.store.PutBusinessMedia(ctx, bm); err != nil {
		s.dropBlob(ctx, media, blob.ID)
		return nil, err
	}
	return bm, nil
}

package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// Profile pictures (docs/cloudapi.md, "Profile picture"): Meta's
// resumable upload hands out a handle for an image; setting
// profile_picture_handle to it copies the image into the number's
// picture, which a public route serves.

// StartUpload opens an upload session on an app of the caller's business
// (POST /{app-id}/uploads). Only images for profile pictures are taken:
// image/jpeg (image/jpg) or image/png of at most parley.MaxPictureSize.
func (s *Business) StartUpload(ctx context.Context, c *Caller, appID, fileName string, fileLength int64, fileType string) (*parley.UploadSession, error) {
	app, err := s.AppAccess(ctx, c, appID)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(strings.TrimSpace(fileType)) {
	case "image/jpeg", "image/jpg":
		fileType = "image/jpeg"
	case "image/png":
		fileType = "image/png"
	default:
		return nil, parley.Errorf(parley.EINVALID, "Param file_type must be image/jpeg or image/png (Parley takes uploads for profile pictures only), not %q.", clipID(fileType))
	}
	if fileLength <= 0 {
		return nil, parley.Errorf(parley.EINVALID, "Param file_length must be the file's size in bytes.")
	}
	if fileLength > parley.MaxPictureSize {
		return nil, parley.Errorf(parley.ETOOLARGE, "Param file_length must be at most %d bytes (5 MB).", parley.MaxPictureSize)
	}
	if len(fileName) > 255 {
		return nil, parley.Errorf(parley.EINVALID, "Param file_name must be at most 255 bytes.")
	}
	now := s.clock.Now()
	if _, err := s.store.DeleteExpiredUploads(ctx, now); err != nil {
		s.log.Warn("deleting expired upload sessions", "err", err)
	}
	if open, err := s.store.OpenUploads(ctx, app.Business, now); err != nil {
		return nil, err
	} else if open >= parley.MaxOpenUploads {
		e := parley.Errorf(parley.ERATELIMIT, "Application request limit reached: at most %d upload sessions of a business may be open (they expire after 24 hours).", parley.MaxOpenUploads)
		e.Reason = parley.ReasonCallLimit
		return nil, e
	}
	var b [16]byte
	rand.Read(b[:])
	u := &parley.UploadSession{ID: "upload:" + hex.EncodeToString(b[:]), Business: app.Business, App: app.ID, FileName: fileName,
		FileType: fileType, FileLength: fileLength, CreatedAt: now, ExpiresAt: now.Add(parley.UploadSessionTTL)}
	if err := s.store.CreateUploadSession(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// IsUploadID reports whether id names an upload session ("upload:...").
func IsUploadID(id string) bool { return strings.HasPrefix(id, "upload:") }

// upload returns a live session the caller may use: opened by a token
// of its business or by its app's token. Others are unknown objects.
func (s *Business) upload(ctx context.Context, c *Caller, id string) (*parley.UploadSession, error) {
	if c == nil || !IsUploadID(id) || len(id) > 100 {
		return nil, objectNotFound(id)
	}
	u, err := s.store.UploadSession(ctx, id)
	if parley.Match(err, parley.ENOTFOUND) {
		return nil, objectNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if !s.clock.Now().Before(u.ExpiresAt) || !(c.App == u.App || (c.Business != "" && c.Business == u.Business)) {
		return nil, objectNotFound(id)
	}
	return u, nil
}

// UploadStatus returns a session (GET /upload:<session>); its offset is
// len(Data).
func (s *Business) UploadStatus(ctx context.Context, c *Caller, id string) (*parley.UploadSession, error) {
	return s.upload(ctx, c, id)
}

// Upload takes a session's file in one request from offset 0
// (POST /upload:<session>) and returns its handle. The bytes must be as
// many as announced and be an image of the announced type.
func (s *Business) Upload(ctx context.Context, c *Caller, id string, offset int64, data []byte) (string, error) {
	u, err := s.upload(ctx, c, id)
	if err != nil {
		return "", err
	}
	if u.Handle != "" {
		return "", parley.Errorf(parley.ECONFLICT, "The upload session already has its file; its handle was returned.")
	}
	if offset != 0 {
		return "", parley.Errorf(parley.EINVALID, "Param file_offset must be 0: the session has received 0 bytes.")
	}
	if int64(len(data)) != u.FileLength {
		return "", parley.Errorf(parley.EINVALID, "The file has %d bytes; the session announced file_length %d.", len(data), u.FileLength)
	}
	if got := parley.SniffPicture(data); got != u.FileType {
		return "", parley.Errorf(parley.EINVALID, "The file is not an image of type %s.", u.FileType)
	}
	var b [24]byte
	rand.Read(b[:])
	h := "4::" + base64.RawURLEncoding.EncodeToString(b[:])
	if err := s.store.FinishUpload(ctx, u.ID, data, h); err != nil {
		return "", err
	}
	return h, nil
}

// pictureOf resolves a profile_picture_handle for a number of business:
// nil for "" (no picture), the image of a live upload of that business,
// or EINVALID for anything else.
func (s *Business) pictureOf(ctx context.Context, business, number, handle string, now time.Time) (*parley.ProfilePicture, error) {
	if handle == "" {
		return nil, nil
	}
	bad := parley.Errorf(parley.EINVALID, "Param profile_picture_handle must be the handle of a file uploaded with POST /{app-id}/uploads by this business in the last 24 hours.")
	if len(handle) > 1024 {
		return nil, bad
	}
	u, err := s.store.UploadByHandle(ctx, handle)
	if parley.Match(err, parley.ENOTFOUND) {
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	if u.Business != business || !now.Before(u.ExpiresAt) {
		return nil, bad
	}
	return &parley.ProfilePicture{Number: number, MIMEType: u.FileType, Data: u.Data, UpdatedAt: now}, nil
}

// SetPicture makes data (a JPEG or PNG of at most 5 MB) the picture of a
// number of the caller's business, keeping the rest of its profile. The
// business app uses it; its handle is a Parley one ("parley:" + random),
// never valid as an upload handle.
func (s *Business) SetPicture(ctx context.Context, c *Caller, numberID string, data []byte) (*parley.BusinessProfile, error) {
	if len(data) > parley.MaxPictureSize {
		return nil, parley.Errorf(parley.ETOOLARGE, "The picture must be at most 5 MB.")
	}
	typ := parley.SniffPicture(data)
	if typ == "" {
		return nil, parley.Errorf(parley.EINVALID, "The picture must be a JPEG or PNG image.")
	}
	p, err := s.Profile(ctx, c, numberID)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var b [12]byte
	rand.Read(b[:])
	p.PictureHandle = "parley:" + base64.RawURLEncoding.EncodeToString(b[:])
	p.UpdatedAt = now
	if err := s.store.PutProfileWithPicture(ctx, p, &parley.ProfilePicture{Number: p.Number, MIMEType: typ, Data: data, UpdatedAt: now}); err != nil {
		return nil, err
	}
	return p, nil
}

// PictureInfo returns a number's picture without its bytes; nil when it
// has none.
func (s *Business) PictureInfo(ctx context.Context, numberID string) (*parley.ProfilePicture, error) {
	pic, err := s.store.ProfilePicture(ctx, numberID, false)
	if parley.Match(err, parley.ENOTFOUND) {
		return nil, nil
	}
	return pic, err
}

// PicturePath is the public route of a picture, versioned by its time
// so that caches can keep each version long.
func PicturePath(account string, pic *parley.ProfilePicture) string {
	return "/v1/public/businesses/" + account + "/picture?v=" + strconv.FormatInt(pic.UpdatedAt.UnixMilli(), 10)
}

// PublicPicture returns the picture of a business account for the
// public route (rate-limited like the other public reads).
func (s *Links) PublicPicture(ctx context.Context, account, addr string) (*parley.ProfilePicture, error) {
	if err := s.allowPublic(addr); err != nil {
		return nil, err
	}
	if !parley.ValidAccountID(account) {
		return nil, parley.Errorf(parley.EINVALID, "the number must be 8 to 15 digits with the country code")
	}
	n, err := s.biz.store.BusinessNumberByAccount(ctx, account)
	if parley.Match(err, parley.ENOTFOUND) {
		return nil, parley.Errorf(parley.ENOTFOUND, "+%s has no profile picture", account)
	}
	if err != nil {
		return nil, err
	}
	pic, err := s.biz.store.ProfilePicture(ctx, n.ID, true)
	if parley.Match(err, parley.ENOTFOUND) {
		return nil, parley.Errorf(parley.ENOTFOUND, "+%s has no profile picture", account)
	}
	return pic, err
}

func clipID(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// PutPicture makes data the picture of a number of the agent's business
// (owners and admins; audited as profile.picture) and returns the saved
// profile.
func (p *InboxProfiles) PutPicture(ctx context.Context, a *AgentAuth, numberID string, data []byte) (*parley.BusinessProfile, error) {
	if err := a.require(parley.AgentAdmin); err != nil {
		return nil, err
	}
	if _, _, err := p.Profile(ctx, a, numberID); err != nil {
		return nil, err
	}
	saved, err := p.Business.SetPicture(ctx, agentCaller(a), numberID, data)
	if err != nil {
		return nil, err
	}
	p.Inbox.audit(ctx, a.Agent.Business, a.Agent.ID, "profile.picture", numberID, "")
	return saved, nil
}

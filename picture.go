package parley

import (
	"bytes"
	"context"
	"time"
)

// Profile pictures. A business uploads the image with Meta's resumable
// upload (POST /{app-id}/uploads, then POST /upload:<session> with the
// bytes), which answers a handle; setting profile_picture_handle to that
// handle copies the image into the number's profile picture, served on
// a public route. Sessions and their bytes live in the database: they are
// small (MaxPictureSize), scoped to the business of the token that opened
// them, and expire (UploadSessionTTL).
type UploadSession struct {
	ID         string // "upload:" + random
	Business   string // the WABA of the token that opened it
	App        string
	FileName   string
	FileType   string // image/jpeg or image/png
	FileLength int64  // announced when opened; the upload must match it
	Data       []byte // nil until uploaded
	Handle     string // "" until uploaded
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// ProfilePicture is a number's profile picture.
type ProfilePicture struct {
	Number    string
	MIMEType  string
	Data      []byte // nil when read without data
	UpdatedAt time.Time
}

// MaxPictureSize is the largest upload session (Meta's image limit).
const MaxPictureSize = 5 << 20

// UploadSessionTTL is how long an upload session and its handle live.
const UploadSessionTTL = 24 * time.Hour

// MaxOpenUploads bounds a business's live upload sessions (and so the
// bytes they keep: 20 × 5 MB).
const MaxOpenUploads = 20

// SniffPicture returns image/jpeg or image/png by the data's magic bytes,
// or "" for anything else.
func SniffPicture(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte{0xff, 0xd8, 0xff}):
		return "image/jpeg"
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	}
	return ""
}

// PictureStore keeps upload sessions and profile pictures.
type PictureStore interface {
	// CreateUploadSession stores a new, empty session.
	CreateUploadSession(ctx context.Context, u *UploadSession) error
	// UploadSession returns a session with its data (ENOTFOUND when
	// unknown; expiry is the caller's to check).
	UploadSession(ctx context.Context, id string) (*UploadSession, error)
	// UploadByHandle returns the session a handle was issued by.
	UploadByHandle(ctx context.Context, handle string) (*UploadSession, error)
	// FinishUpload stores the bytes and handle of an empty session;
	// ECONFLICT when it already has them, ENOTFOUND when unknown.
	FinishUpload(ctx context.Context, id string, data []byte, handle string) error
	// OpenUploads counts a business's sessions not expired at now.
	OpenUploads(ctx context.Context, business string, now time.Time) (int, error)
	// DeleteExpiredUploads deletes the sessions expired at now.
	DeleteExpiredUploads(ctx context.Context, now time.Time) (int64, error)
	// PutProfileWithPicture stores the whole profile and, in the same
	// transaction, its picture (nil: the number has none).
	PutProfileWithPicture(ctx context.Context, p *BusinessProfile, pic *ProfilePicture) error
	// ProfilePicture returns a number's picture, with its bytes when
	// withData (ENOTFOUND when it has none).
	ProfilePicture(ctx context.Context, number string, withData bool) (*ProfilePicture, error)
}

package parley

import (
	"context"
	"mime"
	"strings"
	"time"
)

// Business media: files a business uploads through the Cloud API
// (POST /{phone-number-id}/media) and files customers send to a business
// number, which its hosted device decrypts for the business. They are the
// business's data, not end-to-end encrypted chats: the blob holds the file
// as uploaded (the hosted device encrypts for each customer when it sends),
// in the same chunked blob store as attachments. A business media object
// names the blob and is scoped to its business.
type BusinessMedia struct {
	ID        string // Graph id
	Business  string // WABA id
	Number    string // phone_number_id it was uploaded on or received by
	Blob      string // the media blob (Media.ID)
	MIMEType  string
	Filename  string
	Size      int64  // from the blob
	SHA256    []byte // from the blob
	CreatedAt time.Time
}

// BusinessMediaStore keeps business media objects. The blobs they name
// are never swept as unlinked; retention still applies.
type BusinessMediaStore interface {
	// PutBusinessMedia stores a new object; its blob must be complete.
	PutBusinessMedia(ctx context.Context, m *BusinessMedia) error
	// BusinessMedia returns an object whose blob is complete and not
	// being deleted (ENOTFOUND otherwise).
	BusinessMedia(ctx context.Context, id string) (*BusinessMedia, error)
	// DeleteBusinessMedia deletes the object (not its blob); ENOTFOUND
	// when unknown.
	DeleteBusinessMedia(ctx context.Context, id string) error
}

// Cloud media types and limits (cloud-api reference §4.4).
var cloudMediaTypes = map[string]MediaKind{
	"audio/aac": MediaAudio, "audio/amr": MediaAudio, "audio/mpeg": MediaAudio, "audio/mp4": MediaAudio, "audio/ogg": MediaAudio,
	"text/plain": MediaDocument, "application/pdf": MediaDocument, "application/msword": MediaDocument,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": MediaDocument,
	"application/vnd.ms-excel": MediaDocument,
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         MediaDocument,
	"application/vnd.ms-powerpoint":                                             MediaDocument,
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": MediaDocument,
	"image/jpeg": MediaImage, "image/png": MediaImage,
	"image/webp": MediaSticker,
	"video/mp4":  MediaVideo, "video/3gpp": MediaVideo,
}

// CloudMediaLimit is the largest file of a kind the Cloud API accepts.
// Stickers: 500 KB (Meta's animated limit; static ones are 100 KB, which
// Parley does not tell apart).
func CloudMediaLimit(k MediaKind) int64 {
	switch k {
	case MediaImage:
		return 5 << 20
	case MediaAudio, MediaVideo:
		return 16 << 20
	case MediaDocument:
		return 100 << 20
	case MediaSticker:
		return 500 << 10
	}
	return 0
}

// MaxCloudMedia is the largest Cloud API media file of any type.
const MaxCloudMedia = 100 << 20

// ParseCloudMediaType checks a MIME type against the Cloud API's list and
// returns its normalized form and kind. audio/ogg must be OPUS (no codecs
// parameter, or codecs=opus).
func ParseCloudMediaType(s string) (string, MediaKind, error) {
	t, params, err := mime.ParseMediaType(s)
	if err != nil || s == "" {
		return "", "", Errorf(EINVALID, "Param type must be a MIME type, not %q.", clip(s, 100))
	}
	k, ok := cloudMediaTypes[t]
	if !ok {
		return "", "", Errorf(EINVALID, "Param file must be a file of type image/jpeg, image/png, image/webp, audio/aac, audio/amr, audio/mpeg, audio/mp4, audio/ogg, video/mp4, video/3gpp, text/plain, application/pdf or an Office document, not %s.", clip(t, 100))
	}
	if t == "audio/ogg" {
		if c, ok := params["codecs"]; ok && !strings.EqualFold(c, "opus") {
			return "", "", Errorf(EINVALID, "Param file of type audio/ogg must use the OPUS codec, not %s.", clip(c, 40))
		}
		if _, ok := params["codecs"]; ok {
			return "audio/ogg; codecs=opus", k, nil
		}
	}
	return t, k, nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

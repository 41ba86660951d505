package parley

import (
	"time"
)

// Media: clients encrypt every attachment themselves (crypto.SealAttachment,
// a fresh key per file) and upload the result as an opaque blob. The key
// and the blob's digest travel inside the end-to-end encrypted message that
// names the blob, so the server stores bytes it cannot read. It sees the
// size, the kind the uploader declares, the times, and which message
// references which blob.
//
// Blobs live in the database, in chunks of MediaChunkSize, so that every
// node of a cluster serves every blob and neither an upload nor a download
// holds a whole file in memory. A blob is served only once it is complete.

// MediaKind is what the uploader says a blob is; it selects the size limit.
type MediaKind string

// Media kinds.
const (
	MediaImage    MediaKind = "image"
	MediaVideo    MediaKind = "video"
	MediaAudio    MediaKind = "audio"
	MediaDocument MediaKind = "document"
	MediaSticker  MediaKind = "sticker"
)

// MediaOverhead is what crypto.SealAttachment adds to a file: a version
// byte, a 12-byte nonce and a 16-byte GCM tag. A test in package crypto
// keeps the two in step.
const MediaOverhead = 1 + 12 + 16

// Limits of media.
const (
	MediaChunkSize     = 1 << 20 // bytes per stored chunk; every chunk but the last is full
	MaxMediaPerMessage = 10      // blobs one message may reference
	MediaIDSize        = 32      // characters of a media id: 192 random bits, base64url
)

// MaxSize returns the largest blob of kind k that the server accepts: the
// plaintext limit plus MediaOverhead. It is 0 for an unknown kind.
func (k MediaKind) MaxSize() int64 {
	switch k {
	case MediaDocument:
		return 100<<20 + MediaOverhead
	case MediaImage, MediaVideo, MediaAudio:
		return 16<<20 + MediaOverhead
	case MediaSticker:
		return 1<<20 + MediaOverhead
	}
	return 0
}

// ParseMediaKind returns the kind named s.
func ParseMediaKind(s string) (MediaKind, error) {
	k := MediaKind(s)
	if k.MaxSize() == 0 {
		return "", Errorf(EINVALID, "media kind must be image, video, audio, document or sticker")
	}
	return k, nil
}

// ValidMediaID reports whether id has the form of a media id: MediaIDSize
// characters of the base64url alphabet. The id is a capability: whoever
// knows it may download the blob, so it is random and never listed.
func ValidMediaID(id string) bool {
	if len(id) != MediaIDSize {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ValidateMediaIDs checks the blobs a message names: at most
// MaxMediaPerMessage well-formed ids, none twice.
func ValidateMediaIDs(ids []string) error {
	if len(ids) > MaxMediaPerMessage {
		return Errorf(ETOOLARGE, "a message references at most %d media", MaxMediaPerMessage)
	}
	for i, id := range ids {
		if !ValidMediaID(id) {
			return Errorf(EINVALID, "media[%d] is not a media id", i)
		}
		for _, prev := range ids[:i] {
			if prev == id {
				return Errorf(EINVALID, "media %s is listed twice", id)
			}
		}
	}
	return nil
}

// Media is a stored blob. Account and Device uploaded it; Size and SHA256
// are those of the bytes stored, set when the upload completes.
type Media struct {
	ID          string
	Account     string
	Device      uint32
	Kind        MediaKind
	Size        int64
	SHA256      []byte
	CreatedAt   time.Time
	CompletedAt time.Time // zero while the upload is in progress
}

// Chunks returns the number of chunks that hold the blob.
func (m *Media) Chunks() int { return int((m.Size + MediaChunkSize - 1) / MediaChunkSize) }

// MediaSweep says which blobs the sweeper deletes; the service computes
// the cutoffs from its settings. A blob is deleted when any rule holds.
type MediaSweep struct {
	// Now is the time of the sweep: blobs whose every referencing message
	// has no mailbox item left are marked released at Now.
	Now time.Time
	// ReleasedBefore deletes blobs released before it (the grace period
	// after the last copy was acknowledged, or expired).
	ReleasedBefore time.Time
	// UnlinkedBefore deletes blobs created before it that no message
	// references, complete or not.
	UnlinkedBefore time.Time
	// CreatedBefore deletes every blob created before it (the retention).
	CreatedBefore time.Time
}

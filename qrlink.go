package parley

import (
	"context"
	"crypto/rand"
	"strings"
	"time"
	"unicode/utf8"
)

// QR codes and short links (the Cloud API's message_qrdls): a code names
// a business number and a prefilled message. https://HOST/message/CODE
// opens a chat with the number, the message in the composer; the QR
// image encodes that link. Codes are random (QRCodeLength characters of
// QRCodeAlphabet, about 72 bits), unique across the server and never
// reused: a deleted code stays as a tombstone so that its link can say
// it expired.
type QRLink struct {
	Code      string
	Business  string // WABA id
	Number    string // phone_number_id
	Account   string // the number's Parley account (digits)
	Prefilled string // prefilled_message
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt time.Time // zero while the code is live
}

// Limits of QR codes and short links (cloud-api reference §8.1).
const (
	MaxPrefilled   = 140  // characters of prefilled_message
	MaxQRLinks     = 2000 // live codes per number
	QRCodeLength   = 14
	QRCodeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	QRFormatSVG    = "SVG"
	QRFormatPNG    = "PNG"
)

// NewQRCode returns a random code.
func NewQRCode() string {
	var b [QRCodeLength]byte
	// 36 does not divide 256: draw again above the largest multiple
	// (252) so that every character is equally likely.
	for i := 0; i < len(b); {
		var r [16]byte
		rand.Read(r[:])
		for _, x := range r {
			if x < 252 && i < len(b) {
				b[i] = QRCodeAlphabet[x%36]
				i++
			}
		}
	}
	return string(b[:])
}

// ValidQRCode reports whether code has the form of a code (so that
// lookups of garbage never reach the store).
func ValidQRCode(code string) bool {
	if len(code) != QRCodeLength {
		return false
	}
	for i := 0; i < len(code); i++ {
		if !strings.ContainsRune(QRCodeAlphabet, rune(code[i])) {
			return false
		}
	}
	return true
}

// ValidatePrefilled checks a prefilled message: at most MaxPrefilled
// characters of valid UTF-8. An empty message is allowed (the link only
// opens the chat).
func ValidatePrefilled(s string) error {
	switch {
	case !utf8.ValidString(s):
		return Errorf(EINVALID, "Param prefilled_message must be valid UTF-8.")
	case utf8.RuneCountInString(s) > MaxPrefilled:
		return Errorf(EINVALID, "Param prefilled_message must be at most %d characters long.", MaxPrefilled)
	}
	return nil
}

// QRLinkStore keeps QR codes and short links.
type QRLinkStore interface {
	// CreateQRLink stores a new code unless the number has max live
	// codes already (ERATELIMIT then); ECONFLICT when the code exists.
	CreateQRLink(ctx context.Context, l *QRLink, max int) error
	// QRLink returns a code, deleted ones included (DeletedAt set);
	// ENOTFOUND when unknown.
	QRLink(ctx context.Context, code string) (*QRLink, error)
	// QRLinks lists a number's live codes, newest first, after the
	// code after ("" from the start), at most limit, and whether more
	// follow.
	QRLinks(ctx context.Context, number, after string, limit int) ([]QRLink, bool, error)
	// UpdateQRLink changes a live code's prefilled message; ENOTFOUND
	// when the code is unknown or deleted.
	UpdateQRLink(ctx context.Context, code, prefilled string, at time.Time) error
	// DeleteQRLink marks a live code deleted; ENOTFOUND when it is
	// unknown or deleted already.
	DeleteQRLink(ctx context.Context, code string, at time.Time) error
}

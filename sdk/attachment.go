package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/parley-chat/parley/crypto"
)

// Attachment is a file inside a message: the id of its encrypted blob on
// the server and what opens it. It travels only inside the end-to-end
// encrypted payload; the server sees the blob and its size, never the key.
type Attachment struct {
	ID     string `json:"id"`     // the blob on the server
	Key    []byte `json:"key"`    // AES-256-GCM key of this file only
	Digest []byte `json:"sha256"` // SHA-256 of the blob
	Size   int64  `json:"size"`   // plaintext bytes
	MIME   string `json:"mime,omitempty"`
	Name   string `json:"name,omitempty"`
}

// UploadAttachment encrypts data with a new key (crypto.SealAttachment)
// and uploads the blob as the given kind (MediaImage, …). The result goes
// into a payload (MediaPayload) and its ID into Outgoing.Media.
func (c *Client) UploadAttachment(ctx context.Context, kind string, data []byte, mime, name string) (*Attachment, error) {
	blob, key, digest, err := crypto.SealAttachment(data)
	if err != nil {
		return nil, err
	}
	up, err := c.UploadMedia(ctx, kind, bytes.NewReader(blob), int64(len(blob)))
	if err != nil {
		return nil, err
	}
	return &Attachment{ID: up.ID, Key: key, Digest: digest, Size: int64(len(data)), MIME: mime, Name: name}, nil
}

// DownloadAttachment downloads a blob and decrypts it, checking its digest
// (crypto.ErrAuthFailed when the blob was changed).
func (c *Client) DownloadAttachment(ctx context.Context, a *Attachment) ([]byte, error) {
	if a == nil || a.ID == "" {
		return nil, fmt.Errorf("sdk: no attachment")
	}
	r, err := c.DownloadMedia(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	limit := a.Size + 1024 // the blob is the plaintext plus a few bytes
	blob, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", a.ID, err)
	}
	if int64(len(blob)) > limit {
		return nil, fmt.Errorf("download %s: the blob is larger than the attachment says", a.ID)
	}
	return crypto.OpenAttachment(blob, a.Key, a.Digest)
}

// MediaPayload is the plaintext of a message with an attachment; kind is
// the payload type (MediaImage, MediaDocument, …).
func MediaPayload(kind string, a *Attachment, caption string) []byte {
	b, _ := json.Marshal(Payload{Type: kind, Media: a, Caption: caption})
	return b
}

// TimerPayload is the plaintext that sets a chat's disappearing-message
// timer (0 turns it off). Clients that receive it send their following
// messages in that chat with that ExpiresIn and show the change.
func TimerPayload(d time.Duration) []byte {
	s := int64(d / time.Second)
	b, _ := json.Marshal(Payload{Type: "timer", ExpiresIn: &s})
	return b
}

// SendAttachment uploads data encrypted and sends it to an account (or,
// with GroupMessage, see SendGroupAttachment) as a message of kind.
func (m *Messenger) SendAttachment(ctx context.Context, to, kind string, data []byte, mime, name, caption string, expiresIn time.Duration) (*SendResult, error) {
	a, err := m.client.UploadAttachment(ctx, kind, data, mime, name)
	if err != nil {
		return nil, err
	}
	return m.Send(ctx, Outgoing{To: to, Plaintext: MediaPayload(kind, a, caption), Media: []string{a.ID}, ExpiresIn: expiresIn})
}

// SendGroupAttachment is SendAttachment for a group.
func (m *Messenger) SendGroupAttachment(ctx context.Context, group, kind string, data []byte, mime, name, caption string, expiresIn time.Duration) (*SendResult, error) {
	a, err := m.client.UploadAttachment(ctx, kind, data, mime, name)
	if err != nil {
		return nil, err
	}
	return m.SendGroupMessage(ctx, GroupMessage{Group: group, Plaintext: MediaPayload(kind, a, caption), Media: []string{a.ID}, ExpiresIn: expiresIn})
}

package sdk_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/crypto"
	"github.com/parley-chat/parley/sdk"
)

// Attachments are encrypted on the client with a key of their own, which
// travels inside the message; the recipient downloads and decrypts them.
// Timer payloads and expiring sends reach the recipient too.
func TestAttachmentsAndTimers(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := run(t, s.register(alicePhone, "alice"), sdk.Options{})
	b := run(t, s.register(bobPhone, "bob"), sdk.Options{})

	data := bytes.Repeat([]byte("a picture of a cat "), 3000)
	r, err := a.m.SendAttachment(ctx, bob, sdk.MediaImage, data, "image/png", "cat.png", "look", 0)
	if err != nil {
		t.Fatal(err)
	}
	m := b.message()
	if m.ID != r.MessageID || m.Type != sdk.MediaImage || m.Caption != "look" || m.Attachment == nil ||
		m.Attachment.Name != "cat.png" || m.Attachment.MIME != "image/png" || m.Attachment.Size != int64(len(data)) {
		t.Fatalf("bob got %+v (attachment %+v)", m, m.Attachment)
	}
	got, err := b.m.Client().DownloadAttachment(ctx, m.Attachment)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("download: %d bytes, %v; want the %d bytes sent", len(got), err, len(data))
	}
	// The blob on the server is ciphertext.
	raw, err := b.m.Client().DownloadMedia(ctx, m.Attachment.ID)
	if err != nil {
		t.Fatal(err)
	}
	var blob bytes.Buffer
	blob.ReadFrom(raw)
	raw.Close()
	if bytes.Contains(blob.Bytes(), []byte("a picture of a cat")) {
		t.Fatal("the stored blob contains the plaintext")
	}
	// A wrong digest (or key) is refused.
	bad := *m.Attachment
	bad.Digest = bytes.Clone(bad.Digest)
	bad.Digest[0] ^= 1
	if _, err := b.m.Client().DownloadAttachment(ctx, &bad); !errors.Is(err, crypto.ErrAuthFailed) {
		t.Fatalf("download with a wrong digest: %v, want ErrAuthFailed", err)
	}
	ack(t, m)

	if _, err := a.m.Send(ctx, sdk.Outgoing{To: bob, Plaintext: sdk.TimerPayload(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if m := b.message(); m.Type != "timer" || m.Timer != time.Hour {
		t.Fatalf("timer message %+v", m)
	} else {
		ack(t, m)
	}
	if _, err := a.m.Send(ctx, sdk.Outgoing{To: bob, Plaintext: sdk.TextPayload("gone in an hour"), ExpiresIn: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if m := b.message(); m.Text != "gone in an hour" || m.ExpiresIn != time.Hour {
		t.Fatalf("expiring message %+v", m)
	} else {
		ack(t, m)
	}
}

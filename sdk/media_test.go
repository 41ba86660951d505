package sdk_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"testing"
	"time"

	"github.com/parley-chat/parley/sdk"
)

func TestMediaUploadDownloadDelete(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := sdk.NewClient(*s.register(alicePhone, "alice"))
	b := sdk.NewClient(*s.register(bobPhone, "bob"))
	blob := bytes.Repeat([]byte("sealed attachment "), 100_000) // 1.8 MB: two chunks on the server
	sum := sha256.Sum256(blob)

	for _, size := range []int64{int64(len(blob)), -1} {
		up, err := a.UploadMedia(ctx, sdk.MediaDocument, bytes.NewReader(blob), size)
		if err != nil {
			t.Fatalf("upload (size %d): %v", size, err)
		}
		if up.Size != int64(len(blob)) || !bytes.Equal(up.SHA256, sum[:]) || up.ID == "" || time.Until(up.ExpiresAt) < 23*time.Hour {
			t.Fatalf("upload = %+v", up)
		}
		rc, err := b.DownloadMedia(ctx, up.ID)
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, blob) {
			t.Fatalf("download = %d bytes, %v; want the %d uploaded", len(got), err, len(blob))
		}
		rc, err = b.DownloadMediaFrom(ctx, up.ID, 1<<20+3)
		if err != nil {
			t.Fatalf("resume: %v", err)
		}
		got, _ = io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, blob[1<<20+3:]) {
			t.Fatalf("resumed download = %d bytes, want the last %d", len(got), len(blob)-(1<<20+3))
		}
		if err := b.DeleteMedia(ctx, up.ID); sdk.ErrorCode(err) != sdk.CodeForbidden {
			t.Fatalf("delete by another account: %v, want forbidden", err)
		}
		if err := a.DeleteMedia(ctx, up.ID); err != nil {
			t.Fatalf("delete: %v", err)
		}
		if _, err := b.DownloadMedia(ctx, up.ID); sdk.ErrorCode(err) != sdk.CodeNotFound {
			t.Fatalf("download after delete: %v, want not_found", err)
		}
	}
	if _, err := a.UploadMedia(ctx, sdk.MediaSticker, bytes.NewReader(make([]byte, 2<<20)), 2<<20); sdk.ErrorCode(err) != sdk.CodeTooLarge {
		t.Fatalf("oversized sticker: %v, want too_large", err)
	}
	if _, err := a.UploadMedia(ctx, "gif", bytes.NewReader([]byte("x")), 1); sdk.ErrorCode(err) != sdk.CodeInvalid {
		t.Fatalf("unknown kind: %v, want invalid", err)
	}
}

func TestSendWithMediaAndExpiry(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ac := s.register(alicePhone, "alice")
	a := run(t, ac, sdk.Options{})
	b := run(t, s.register(bobPhone, "bob"), sdk.Options{})
	up, err := sdk.NewClient(*ac).UploadMedia(ctx, sdk.MediaImage, bytes.NewReader([]byte("sealed")), 6)
	if err != nil {
		t.Fatal(err)
	}
	r, err := a.m.Send(ctx, sdk.Outgoing{To: bob, Plaintext: sdk.TextPayload("photo"), Media: []string{up.ID}, ExpiresIn: time.Hour})
	if err != nil {
		t.Fatalf("send with media: %v", err)
	}
	m := b.message()
	if m.ID != r.MessageID || m.ExpiresIn != time.Hour || m.Text != "photo" {
		t.Fatalf("bob got %+v, want the photo message expiring in 1h", m)
	}
	ack(t, m)
	_, err = a.m.Send(ctx, sdk.Outgoing{To: bob, Plaintext: sdk.TextPayload("x"), Media: []string{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}})
	if sdk.ErrorCode(err) != sdk.CodeNotFound {
		t.Fatalf("send naming an unknown blob: %v, want not_found", err)
	}
	_, err = a.m.Send(ctx, sdk.Outgoing{To: bob, Plaintext: sdk.TextPayload("x"), ExpiresIn: time.Second})
	if sdk.ErrorCode(err) != sdk.CodeInvalid {
		t.Fatalf("send expiring in 1s: %v, want invalid", err)
	}
}

package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// testBusinessMedia: business media objects name complete blobs, are
// not swept as unlinked, go away with their blob (retention), and are
// deleted one by one.
func testBusinessMedia(t *testing.T, open func(t *testing.T) parley.Store) {
	s := open(t)
	acc := mustAccount(t, s)
	dev := mustDevice(t, s, acc)
	data := blobBytes(parley.MediaChunkSize+10, 3)
	b := upload(t, s, acc, dev, data, at(0), true)
	m := &parley.BusinessMedia{ID: "1000000000000001", Business: "2000000000000001", Number: "3000000000000001", Blob: b.ID,
		MIMEType: "image/png", Filename: "a.png", CreatedAt: at(time.Second)}
	if err := s.PutBusinessMedia(ctxT(t), m); err != nil {
		t.Fatalf("PutBusinessMedia: %v", err)
	}
	got, err := s.BusinessMedia(ctxT(t), m.ID)
	if err != nil {
		t.Fatalf("BusinessMedia: %v", err)
	}
	if got.Business != m.Business || got.Number != m.Number || got.Blob != b.ID || got.MIMEType != "image/png" ||
		got.Filename != "a.png" || got.Size != int64(len(data)) || !bytes.Equal(got.SHA256, b.SHA256) || !got.CreatedAt.Equal(m.CreatedAt) {
		t.Errorf("BusinessMedia = %+v, want %+v with the blob's size and digest", got, m)
	}
	_, err = s.BusinessMedia(ctxT(t), "1000000000000009")
	wantCode(t, "unknown BusinessMedia", err, parley.ENOTFOUND)

	// An unlinked blob of a business media object outlives the unlinked rule.
	other := upload(t, s, acc, dev, []byte("x"), at(0), true)
	sweep(t, s, at(48*time.Hour))
	wantMedia(t, "business blob after 2 days", s, b.ID, "")
	wantMedia(t, "plain unlinked blob after 2 days", s, other.ID, parley.ENOTFOUND)

	// Delete: the object goes; the blob is the caller's to delete.
	if err := s.DeleteBusinessMedia(ctxT(t), m.ID); err != nil {
		t.Fatalf("DeleteBusinessMedia: %v", err)
	}
	wantCode(t, "DeleteBusinessMedia again", s.DeleteBusinessMedia(ctxT(t), m.ID), parley.ENOTFOUND)
	_, err = s.BusinessMedia(ctxT(t), m.ID)
	wantCode(t, "deleted BusinessMedia", err, parley.ENOTFOUND)

	// Retention removes blob and object together.
	b2 := upload(t, s, acc, dev, []byte("yy"), at(0), true)
	m2 := *m
	m2.ID, m2.Blob = "1000000000000002", b2.ID
	if err := s.PutBusinessMedia(ctxT(t), &m2); err != nil {
		t.Fatalf("PutBusinessMedia: %v", err)
	}
	sweep(t, s, at(31*24*time.Hour))
	_, err = s.BusinessMedia(ctxT(t), m2.ID)
	wantCode(t, "BusinessMedia after retention", err, parley.ENOTFOUND)
	wantCode(t, "DeleteBusinessMedia after retention", s.DeleteBusinessMedia(ctxT(t), m2.ID), parley.ENOTFOUND)
}

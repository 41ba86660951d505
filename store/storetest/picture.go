package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// testPicture: an upload session takes its bytes once, is found by its
// handle, expires; a profile and its picture are written together.
func testPicture(t *testing.T, open func(t *testing.T) parley.Store) {
	s := open(t)
	u := &parley.UploadSession{ID: "upload:aaa", Business: "2000000000000001", App: "2000000000000002", FileName: "a.png",
		FileType: "image/png", FileLength: 3, CreatedAt: at(0), ExpiresAt: at(time.Hour)}
	if err := s.CreateUploadSession(ctxT(t), u); err != nil {
		t.Fatalf("CreateUploadSession: %v", err)
	}
	got, err := s.UploadSession(ctxT(t), u.ID)
	if err != nil {
		t.Fatalf("UploadSession: %v", err)
	}
	if got.Business != u.Business || got.App != u.App || got.FileName != "a.png" || got.FileType != "image/png" || got.FileLength != 3 ||
		got.Data != nil || got.Handle != "" || !got.CreatedAt.Equal(u.CreatedAt) || !got.ExpiresAt.Equal(u.ExpiresAt) {
		t.Errorf("UploadSession = %+v, want %+v", got, u)
	}
	if err := s.FinishUpload(ctxT(t), u.ID, []byte{1, 2, 3}, "4::h1"); err != nil {
		t.Fatalf("FinishUpload: %v", err)
	}
	wantCode(t, "FinishUpload again", s.FinishUpload(ctxT(t), u.ID, []byte{4}, "4::h2"), parley.ECONFLICT)
	wantCode(t, "FinishUpload unknown", s.FinishUpload(ctxT(t), "upload:zzz", []byte{4}, "4::h3"), parley.ENOTFOUND)
	got, err = s.UploadByHandle(ctxT(t), "4::h1")
	if err != nil {
		t.Fatalf("UploadByHandle: %v", err)
	}
	if got.ID != u.ID || !bytes.Equal(got.Data, []byte{1, 2, 3}) || got.Handle != "4::h1" {
		t.Errorf("UploadByHandle = %+v, want the finished session", got)
	}
	_, err = s.UploadByHandle(ctxT(t), "4::h2")
	wantCode(t, "UploadByHandle of a refused upload", err, parley.ENOTFOUND)
	_, err = s.UploadSession(ctxT(t), "upload:zzz")
	wantCode(t, "UploadSession unknown", err, parley.ENOTFOUND)

	// Expiry.
	if n, err := s.OpenUploads(ctxT(t), u.Business, at(time.Hour-time.Second)); err != nil || n != 1 {
		t.Errorf("OpenUploads before expiry = %d, %v; want 1", n, err)
	}
	if n, err := s.OpenUploads(ctxT(t), "2000000000000009", at(0)); err != nil || n != 0 {
		t.Errorf("OpenUploads of another business = %d, %v; want 0", n, err)
	}
	if n, err := s.OpenUploads(ctxT(t), u.Business, at(time.Hour)); err != nil || n != 0 {
		t.Errorf("OpenUploads at expiry = %d, %v; want 0", n, err)
	}
	if n, err := s.DeleteExpiredUploads(ctxT(t), at(time.Hour-time.Second)); err != nil || n != 0 {
		t.Errorf("DeleteExpiredUploads before expiry = %d, %v; want 0", n, err)
	}
	if n, err := s.DeleteExpiredUploads(ctxT(t), at(time.Hour)); err != nil || n != 1 {
		t.Errorf("DeleteExpiredUploads at expiry = %d, %v; want 1", n, err)
	}
	_, err = s.UploadByHandle(ctxT(t), "4::h1")
	wantCode(t, "UploadByHandle after expiry", err, parley.ENOTFOUND)

	// Profile and picture together.
	number := mustBusiness(t, s).n.ID
	_, err = s.ProfilePicture(ctxT(t), number, true)
	wantCode(t, "ProfilePicture before", err, parley.ENOTFOUND)
	p := &parley.BusinessProfile{Number: number, About: "hi", PictureHandle: "4::h1", UpdatedAt: at(time.Minute)}
	pic := &parley.ProfilePicture{Number: number, MIMEType: "image/png", Data: []byte{9, 8, 7}, UpdatedAt: at(time.Minute)}
	if err := s.PutProfileWithPicture(ctxT(t), p, pic); err != nil {
		t.Fatalf("PutProfileWithPicture: %v", err)
	}
	gp, err := s.Profile(ctxT(t), number)
	if err != nil || gp.PictureHandle != "4::h1" || gp.About != "hi" {
		t.Errorf("Profile = %+v, %v; want the handle and about", gp, err)
	}
	gpic, err := s.ProfilePicture(ctxT(t), number, true)
	if err != nil || gpic.MIMEType != "image/png" || !bytes.Equal(gpic.Data, pic.Data) || !gpic.UpdatedAt.Equal(pic.UpdatedAt) {
		t.Errorf("ProfilePicture = %+v, %v; want %+v", gpic, err, pic)
	}
	meta, err := s.ProfilePicture(ctxT(t), number, false)
	if err != nil || meta.Data != nil || meta.MIMEType != "image/png" {
		t.Errorf("ProfilePicture without data = %+v, %v; want the type and no data", meta, err)
	}
	p.PictureHandle = ""
	if err := s.PutProfileWithPicture(ctxT(t), p, nil); err != nil {
		t.Fatalf("PutProfileWithPicture(nil): %v", err)
	}
	_, err = s.ProfilePicture(ctxT(t), number, true)
	wantCode(t, "ProfilePicture after removal", err, parley.ENOTFOUND)
}

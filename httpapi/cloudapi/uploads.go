package cloudapi

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

// Meta's resumable upload, for profile pictures (docs/cloudapi.md,
// "Profile picture"):
//
//	POST /{app-id}/uploads?file_name=&file_length=&file_type=  {"id":"upload:<session>"}
//	POST /upload:<session>  (header file_offset: 0, the bytes)  {"h":"<handle>"}
//	GET  /upload:<session>                                       {"id","file_offset"}

// startUpload is POST /{app-id}/uploads.
func (a *API) startUpload(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(w, r)
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(p.str("file_length"), 10, 64)
	if err != nil {
		return parley.Errorf(parley.EINVALID, "Param file_length must be the file's size in bytes.")
	}
	u, err := a.Business.StartUpload(r.Context(), caller(r), r.PathValue("id"), p.str("file_name"), n, p.str("file_type"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, object{"id": u.ID})
	return nil
}

// uploadStatus is GET /upload:<session>.
func (a *API) uploadStatus(w http.ResponseWriter, r *http.Request, id string) error {
	u, err := a.Business.UploadStatus(r.Context(), caller(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, object{"id": u.ID, "file_offset": len(u.Data)})
	return nil
}

// uploadFile is POST /upload:<session>: the whole file from offset 0.
func (a *API) uploadFile(w http.ResponseWriter, r *http.Request, id string) error {
	off := strings.TrimSpace(r.Header.Get("file_offset"))
	if off == "" {
		off = "0"
	}
	offset, err := strconv.ParseInt(off, 10, 64)
	if err != nil {
		return parley.Errorf(parley.EINVALID, "Header file_offset must be a number of bytes.")
	}
	// The session first: an unknown or foreign session costs no upload,
	// and no more than the announced length (+1, to tell a longer file)
	// is read.
	u, err := a.Business.UploadStatus(r.Context(), caller(r), id)
	if err != nil {
		return err
	}
	limit := min(u.FileLength, parley.MaxPictureSize) + 1
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		if u.FileLength < parley.MaxPictureSize {
			return parley.Errorf(parley.EINVALID, "The file has more than the %d bytes the session announced (file_length).", u.FileLength)
		}
		return parley.Errorf(parley.ETOOLARGE, "The file must be at most %d bytes (5 MB).", parley.MaxPictureSize)
	}
	if err != nil {
		return parley.Errorf(parley.EINVALID, "The file could not be read.")
	}
	h, err := a.Business.Upload(r.Context(), caller(r), id, offset, data)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, object{"h": h})
	return nil
}

// pictureURL is the public URL of a number's picture; "" when it has none.
func (a *API) pictureURL(r *http.Request, n *parley.BusinessNumber) string {
	pic, err := a.Business.PictureInfo(r.Context(), n.ID)
	if err != nil || pic == nil {
		return ""
	}
	return BaseURL(r, a.PublicURL, a.TrustProxy) + service.PicturePath(n.Account, pic)
}

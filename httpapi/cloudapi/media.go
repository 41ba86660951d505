package cloudapi

import (
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/parley-chat/parley"
)

// The media endpoints (cloud-api reference §4): POST /{phone-number-id}/media
// (multipart/form-data), GET /{media-id} (in getObject), GET
// /{media-id}/download (the url GET /{media-id} answers) and DELETE
// /{media-id}.

const (
	maxField     = 4 << 10 // bytes of a form field other than file
	maxFields    = 32      // form fields besides file
	maxMediaBody = parley.MaxCloudMedia + 1<<20
)

// uploadMedia is POST /{phone-number-id}/media. messaging_product comes
// from the form or the query; the type from the type field or else the
// file part's Content-Type; parts come in any order. The file is stored as
// it streams in; fields after it are read before the object is created.
func (a *API) uploadMedia(w http.ResponseWriter, r *http.Request) error {
	ctx, c, id := r.Context(), caller(r), r.PathValue("id")
	if _, err := a.Business.Number(ctx, c, id); err != nil {
		return err
	}
	ct, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "multipart/form-data" || params["boundary"] == "" {
		return parley.Errorf(parley.EINVALID, "The request must be multipart/form-data with a file part.")
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, maxMediaBody), params["boundary"])
	fields := map[string]string{}
	file, err := readFields(mr, fields)
	if err != nil {
		return err
	}
	if file == nil {
		return parley.Errorf(parley.EINVALID, "Param file is required.")
	}
	partType := file.Header.Get("Content-Type")
	hint := partType
	if t := fields["type"]; t != "" {
		hint = t
	}
	m, err := a.Business.UploadMedia(ctx, c, id, hint, file, func() (string, string, error) {
		more, err := readFields(mr, fields)
		if err != nil {
			return "", "", err
		}
		if more != nil {
			return "", "", parley.Errorf(parley.EINVALID, "Param file must be sent once.")
		}
		if err := checkProduct(r, fields); err != nil {
			return "", "", err
		}
		t := fields["type"]
		if t == "" {
			t = partType
		}
		if t == "" {
			return "", "", parley.Errorf(parley.EINVALID, "Param type is required (or a Content-Type on the file part).")
		}
		return t, file.FileName(), nil
	})
	if err != nil {
		return uploadError(err)
	}
	writeJSON(w, http.StatusOK, object{"id": m.ID})
	return nil
}

// readFields reads form fields into fields (the first value of each name
// counts) up to the file part, which it returns (nil at the end).
func readFields(mr *multipart.Reader, fields map[string]string) (*multipart.Part, error) {
	n := 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, uploadError(err)
		}
		name := p.FormName()
		if name == "file" {
			return p, nil
		}
		if n++; n > maxFields {
			return nil, parley.Errorf(parley.EINVALID, "The form has too many fields.")
		}
		b, err := io.ReadAll(io.LimitReader(p, maxField+1))
		if err != nil {
			return nil, uploadError(err)
		}
		if len(b) > maxField {
			return nil, parley.Errorf(parley.EINVALID, "Param %s is too long.", clipName(name))
		}
		if _, ok := fields[name]; !ok {
			fields[name] = strings.TrimSpace(string(b))
		}
	}
}

func clipName(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}

func checkProduct(r *http.Request, fields map[string]string) error {
	mp, ok := fields["messaging_product"]
	if !ok {
		mp = r.URL.Query().Get("messaging_product")
	}
	switch mp {
	case "whatsapp":
		return nil
	case "":
		return parley.Errorf(parley.EINVALID, "The parameter messaging_product is required.")
	}
	return parley.Errorf(parley.EINVALID, "Param messaging_product must be \"whatsapp\".")
}

// uploadError turns a failure to read the request into Meta's error.
func uploadError(err error) error {
	var mbe *http.MaxBytesError
	var pe *parley.Error
	switch {
	case errors.As(err, &mbe):
		return parley.Errorf(parley.ETOOLARGE, "Request body is larger than %d bytes.", maxMediaBody)
	case errors.As(err, &pe):
		return err
	}
	return parley.Errorf(parley.EINVALID, "Request body is not valid multipart/form-data.")
}

// mediaURL is where a media object is downloaded: on the API's own
// origin (clients send their token only there), with the request's
// version.
func (a *API) mediaURL(r *http.Request, id string) string {
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if a.TrustProxy {
		if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
			scheme = p
		}
		if h := r.Header.Get("X-Forwarded-Host"); h != "" {
			host, _, _ = strings.Cut(h, ",")
			host = strings.TrimSpace(host)
		}
	}
	return scheme + "://" + host + "/" + versionOf(r) + "/" + id + "/download"
}

func mediaObject(a *API, r *http.Request, m *parley.BusinessMedia) object {
	return object{"messaging_product": "whatsapp", "url": a.mediaURL(r, m.ID), "mime_type": m.MIMEType,
		"sha256": hex.EncodeToString(m.SHA256), "file_size": m.Size, "id": m.ID}
}

// downloadMedia is GET /{media-id}/download: the file as uploaded, with
// its type; ranges work.
func (a *API) downloadMedia(w http.ResponseWriter, r *http.Request) error {
	m, rd, err := a.Business.OpenMedia(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", m.MIMEType)
	h.Set("Cache-Control", "private, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	if m.Filename != "" {
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": m.Filename}))
	}
	h.Set("ETag", strconv.Quote(hex.EncodeToString(m.SHA256)))
	http.ServeContent(w, r, "", m.CreatedAt, rd)
	return nil
}

// deleteObject is DELETE /{id}: media objects.
func (a *API) deleteObject(w http.ResponseWriter, r *http.Request) error {
	if err := a.Business.DeleteMedia(r.Context(), caller(r), r.PathValue("id"), r.URL.Query().Get("phone_number_id")); err != nil {
		return err
	}
	return success(w)
}

package httpapi

import (
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// Media (docs/protocol.md, "Media"). Bodies are raw bytes, not JSON: the
// encrypted blob goes up as the request body and comes down as the
// response body, never whole in memory.

type mediaJSON struct {
	ID        string `json:"id"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`     // hex of the bytes stored
	ExpiresAt int64  `json:"expires_at"` // unix seconds: deleted then unless a message references it
}

// uploadMedia stores the request body as a blob: POST /v1/media?kind=….
// A Content-Length over the kind's limit is refused before the body is
// read; a chunked body is refused once it runs over.
func (s *Server) uploadMedia(w http.ResponseWriter, r *http.Request) error {
	kind, err := parley.ParseMediaKind(r.URL.Query().Get("kind"))
	if err != nil {
		return err
	}
	m, err := s.Media.Upload(r.Context(), device(r), kind, r.Body, r.ContentLength)
	if err != nil {
		if parley.Match(err, parley.ETOOLARGE) {
			// Close instead of draining the rest of a large body.
			w.Header().Set("Connection", "close")
		}
		return err
	}
	writeJSON(w, http.StatusCreated, mediaJSON{ID: m.ID, Size: m.Size, SHA256: hex.EncodeToString(m.SHA256),
		ExpiresAt: s.Media.ExpiresAt(m).Unix()})
	return nil
}

// downloadMedia streams a blob: GET /v1/media/{id}, with a single Range
// (bytes=a-b, a-, -n) so that downloads can resume, and the ETag (the
// blob's SHA-256) for If-None-Match and If-Range. Any authenticated
// device may download: the id is the capability.
func (s *Server) downloadMedia(w http.ResponseWriter, r *http.Request) error {
	m, err := s.Media.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if strings.Contains(r.Header.Get("Range"), ",") {
		r.Header.Del("Range") // several ranges: the whole blob, as RFC 9110 allows
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("ETag", `"`+hex.EncodeToString(m.SHA256)+`"`)
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	// ServeContent answers Range, If-Range, If-None-Match and HEAD and
	// sets Content-Length and Content-Range; the reader fetches one chunk
	// at a time from the store.
	http.ServeContent(w, r, "", time.Time{}, s.Media.Reader(r.Context(), m))
	return nil
}

// deleteMedia deletes a blob: DELETE /v1/media/{id}, by its uploader's
// account only.
func (s *Server) deleteMedia(w http.ResponseWriter, r *http.Request) error {
	if err := s.Media.Delete(r.Context(), device(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

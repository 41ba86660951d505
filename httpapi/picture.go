package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

// publicPicture is GET /v1/public/businesses/{account}/picture: the
// business's profile picture, for anyone (rate-limited per address).
// Its URL carries the picture's version (?v=), so caches may keep it a
// day; the ETag answers revalidations.
func (s *Server) publicPicture(w http.ResponseWriter, r *http.Request) error {
	pic, err := s.Links.PublicPicture(r.Context(), r.PathValue("account"), s.clientIP(r))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(pic.Data)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", pic.MIMEType)
	h.Set("Content-Length", strconv.Itoa(len(pic.Data)))
	w.Write(pic.Data)
	return nil
}

// inboxPutPicture is PUT /business/api/numbers/{id}/picture: the body is
// the image (JPEG or PNG, at most 5 MB); owners and admins only.
func (s *Server) inboxPutPicture(w http.ResponseWriter, r *http.Request) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, parley.MaxPictureSize+1))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return parley.Errorf(parley.ETOOLARGE, "The picture must be at most 5 MB.")
	}
	if err != nil {
		return parley.Errorf(parley.EINVALID, "The picture could not be read.")
	}
	ps := s.inboxProfiles()
	a := agentOf(r)
	saved, err := ps.PutPicture(r.Context(), a, r.PathValue("id"), data)
	if err != nil {
		return err
	}
	n, _, err := ps.Profile(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	profileAnswer(w, n, saved, s.pictureURL(r, n), ps.Now())
	return nil
}

// pictureURL is the path of a number's picture; "" when it has none.
func (s *Server) pictureURL(r *http.Request, n *parley.BusinessNumber) string {
	pic, err := s.Business.PictureInfo(r.Context(), n.ID)
	if err != nil || pic == nil {
		return ""
	}
	return service.PicturePath(n.Account, pic)
}

func picturePath(account string, pic *parley.ProfilePicture) string {
	return service.PicturePath(account, pic)
}

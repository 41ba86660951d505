package httpapi

import (
	"net/http"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi/cloudapi"
	"github.com/parley-chat/parley/qrimage"
)

// Public routes behind click-to-chat links, short links and QR codes.
// They need no account (the people who follow a link may have none) and
// are rate-limited per client address:
//
//	GET /v1/public/businesses/{account}  a business's public card (404 for accounts that are no business)
//	GET /v1/public/businesses/{account}/picture  its profile picture (404 when none; cacheable)
//	GET /v1/public/links/{code}          a short link's number, business name and prefilled message (410 once deleted)
//	GET /qr/{code}.png, /qr/{code}.svg   the QR image of /message/{code}?src=qr
//
// The pages themselves (/c/{digits}, /send, /message/{code}) are client
// routes of the web client.

func (s *Server) linkRoutes(mux *http.ServeMux) {
	mux.Handle("GET /v1/public/businesses/{account}", s.handle(s.publicCard))
	mux.Handle("GET /v1/public/businesses/{account}/picture", s.handle(s.publicPicture))
	mux.Handle("GET /v1/public/links/{code}", s.handle(s.publicLink))
	mux.Handle("GET /qr/{file}", s.handle(s.qrImage))
}

type publicCardJSON struct {
	Account      string         `json:"account"`
	VerifiedName string         `json:"verified_name"`
	Hosted       bool           `json:"hosted"`
	Profile      *publicProfile `json:"profile,omitempty"`
	PictureURL   string         `json:"picture_url,omitempty"`
}

type publicProfile struct {
	About       string   `json:"about,omitempty"`
	Description string   `json:"description,omitempty"`
	Websites    []string `json:"websites,omitempty"`
	Vertical    string   `json:"vertical,omitempty"`
}

func (s *Server) publicCard(w http.ResponseWriter, r *http.Request) error {
	c, err := s.Links.PublicCard(r.Context(), r.PathValue("account"), s.clientIP(r))
	if err != nil {
		return err
	}
	out := publicCardJSON{Account: c.Account, VerifiedName: c.VerifiedName, Hosted: c.Hosted}
	if c.Picture != nil {
		out.PictureURL = picturePath(c.Account, c.Picture)
	}
	if p := c.Profile; p != nil {
		out.Profile = &publicProfile{About: p.About, Description: p.Description, Websites: p.Websites, Vertical: p.Vertical}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) publicLink(w http.ResponseWriter, r *http.Request) error {
	l, c, err := s.Links.PublicCode(r.Context(), r.PathValue("code"), s.clientIP(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Code             string `json:"code"`
		Account          string `json:"account"`
		VerifiedName     string `json:"verified_name"`
		PrefilledMessage string `json:"prefilled_message"`
	}{l.Code, l.Account, c.VerifiedName, l.Prefilled})
	return nil
}

// qrImage draws the QR code of a live code: it encodes the short link
// with src=qr, so that a chat opened by scanning it is told apart from one
// opened by the link (referral source_type qr and short_link).
func (s *Server) qrImage(w http.ResponseWriter, r *http.Request) error {
	code, ext, _ := strings.Cut(r.PathValue("file"), ".")
	if ext != "png" && ext != "svg" {
		return parley.Errorf(parley.ENOTFOUND, "QR images are .png or .svg")
	}
	l, err := s.Links.QRImage(r.Context(), code, s.clientIP(r))
	if err != nil {
		return err
	}
	link := cloudapi.BaseURL(r, s.PublicURL, s.TrustProxy) + "/message/" + l.Code + "?src=qr"
	var b []byte
	h := w.Header()
	if ext == "png" {
		b, err = qrimage.PNG([]byte(link), 8)
		h.Set("Content-Type", "image/png")
	} else {
		b, err = qrimage.SVG([]byte(link), link)
		h.Set("Content-Type", "image/svg+xml")
		h.Set("Content-Security-Policy", "default-src 'none'")
	}
	if err != nil {
		return err
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=300") // a deleted code's image goes away within minutes
	w.Write(b)
	return nil
}

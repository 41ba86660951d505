package cloudapi

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/parley-chat/parley"
)

// QR codes and short links: /{phone-number-id}/message_qrdls (cloud-api
// reference §8.1). deep_link_url is https://HOST/message/CODE on this
// server and qr_image_url its public image route, HOST being the
// configured public URL or, without one, the request's.

var qrdlDefaultFields = []string{"code", "prefilled_message", "deep_link_url"}

// qrImageField matches qr_image_url with its format in a fields list:
// "qr_image_url.format(SVG)".
var qrImageField = regexp.MustCompile(`(?i)qr_image_url(?:\.format\(([^)]*)\))?`)

// BaseURL is the server's public base URL for links ("https://host",
// no trailing slash): public when set, else the request's scheme (TLS,
// or X-Forwarded-Proto behind a trusted proxy) and Host.
func BaseURL(r *http.Request, public string, trustProxy bool) string {
	if public != "" {
		return strings.TrimSuffix(public, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if trustProxy {
		if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
			scheme = p
		}
	}
	return scheme + "://" + r.Host
}

// QRImagePath is the public route of a code's image in format (SVG or
// PNG).
func QRImagePath(code, format string) string { return "/qr/" + code + "." + strings.ToLower(format) }

func (a *API) qrdlObject(r *http.Request, l *parley.QRLink, format string) object {
	base := BaseURL(r, a.PublicURL, a.TrustProxy)
	o := object{"code": l.Code, "prefilled_message": l.Prefilled, "deep_link_url": base + "/message/" + l.Code}
	if format != "" {
		o["qr_image_url"] = base + QRImagePath(l.Code, format)
	}
	return o
}

// qrFormat checks a generate_qr_image or format(...) value.
func qrFormat(v string) (string, error) {
	switch f := strings.ToUpper(strings.TrimSpace(v)); f {
	case parley.QRFormatSVG, parley.QRFormatPNG:
		return f, nil
	}
	return "", parley.Errorf(parley.EINVALID, "Param generate_qr_image must be one of {SVG, PNG}, not %q.", clipParam(v))
}

func clipParam(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// fieldsFormat reads qr_image_url from a fields list: the image format
// asked for ("" when qr_image_url is not asked for; PNG when it is
// asked for without a format).
func fieldsFormat(fields string) (string, error) {
	m := qrImageField.FindStringSubmatch(fields)
	if m == nil {
		return "", nil
	}
	if m[1] == "" {
		return parley.QRFormatPNG, nil
	}
	f, err := qrFormat(m[1])
	if err != nil {
		return "", parley.Errorf(parley.EINVALID, "Param fields: qr_image_url.format must be SVG or PNG, not %q.", clipParam(m[1]))
	}
	return f, nil
}

func (a *API) qrdlFields(r *http.Request, l *parley.QRLink, fields, format string) object {
	o := a.qrdlObject(r, l, format)
	if fields == "" {
		return o
	}
	return pick(o, fields, qrdlDefaultFields)
}

// createQRDL is POST /{phone-number-id}/message_qrdls: a new code, or,
// with code, an update of its prefilled message.
func (a *API) createQRDL(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(w, r)
	if err != nil {
		return err
	}
	format := ""
	if p.has("generate_qr_image") {
		if format, err = qrFormat(p.str("generate_qr_image")); err != nil {
			return err
		}
	}
	if !p.has("prefilled_message") {
		return parley.Errorf(parley.EINVALID, "The parameter prefilled_message is required.")
	}
	var l *parley.QRLink
	if code := p.str("code"); code != "" {
		l, err = a.Links.Update(r.Context(), caller(r), r.PathValue("id"), code, p.str("prefilled_message"))
	} else {
		l, err = a.Links.Create(r.Context(), caller(r), r.PathValue("id"), p.str("prefilled_message"))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.qrdlObject(r, l, format))
	return nil
}

// listQRDLs is GET /{phone-number-id}/message_qrdls with Graph paging
// (limit, after) and fields (qr_image_url.format(SVG|PNG) adds the
// image's URL).
func (a *API) listQRDLs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	fields := q.Get("fields")
	format, err := fieldsFormat(fields)
	if err != nil {
		return err
	}
	limit := 25
	if l := q.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 {
			return parley.Errorf(parley.EINVALID, "Param limit must be a positive number.")
		}
	}
	after := ""
	if c := q.Get("after"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		code, ok := strings.CutPrefix(string(b), "q:")
		if err != nil || !ok || !parley.ValidQRCode(code) {
			return parley.Errorf(parley.EINVALID, "Param after is not a valid cursor.")
		}
		after = code
	}
	ls, more, err := a.Links.List(r.Context(), caller(r), r.PathValue("id"), after, limit)
	if err != nil {
		return err
	}
	data := make([]object, 0, len(ls))
	for i := range ls {
		data = append(data, a.qrdlFields(r, &ls[i], fields, format))
	}
	out := object{"data": data}
	if len(ls) > 0 {
		cur := func(code string) string { return base64.RawURLEncoding.EncodeToString([]byte("q:" + code)) }
		paging := object{"cursors": object{"before": cur(ls[0].Code), "after": cur(ls[len(ls)-1].Code)}}
		if more {
			paging["next"] = pageURL(r, "after", cur(ls[len(ls)-1].Code))
		}
		out["paging"] = paging
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getQRDL is GET /{phone-number-id}/message_qrdls/{code}: one code,
// still as an array under data (as Meta answers).
func (a *API) getQRDL(w http.ResponseWriter, r *http.Request) error {
	fields := r.URL.Query().Get("fields")
	format, err := fieldsFormat(fields)
	if err != nil {
		return err
	}
	l, err := a.Links.Get(r.Context(), caller(r), r.PathValue("id"), r.PathValue("code"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, object{"data": []object{a.qrdlFields(r, l, fields, format)}})
	return nil
}

// deleteQRDL is DELETE /{phone-number-id}/message_qrdls/{code}.
func (a *API) deleteQRDL(w http.ResponseWriter, r *http.Request) error {
	if err := a.Links.Delete(r.Context(), caller(r), r.PathValue("id"), r.PathValue("code")); err != nil {
		return err
	}
	return success(w)
}

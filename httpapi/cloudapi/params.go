package cloudapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/parley-chat/parley"
)

// MaxBody bounds every request body. The largest valid send (a template
// with many parameters, or contacts) stays far below it.
const MaxBody = 256 << 10

// readBody reads the whole body (chunked or not) up to MaxBody.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, parley.Errorf(parley.ETOOLARGE, "Request body is larger than %d bytes.", MaxBody)
	}
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "Request body could not be read.")
	}
	return b, nil
}

// params are a Graph request's parameters: the JSON body's top-level
// fields, or form fields, with query parameters as fallback (Graph
// accepts parameters in either place).
type params struct {
	json  map[string]json.RawMessage
	form  url.Values
	query url.Values
}

func readParams(w http.ResponseWriter, r *http.Request) (*params, error) {
	p := &params{query: r.URL.Query()}
	if r.Method == http.MethodGet || r.Method == http.MethodDelete && r.ContentLength <= 0 {
		return p, nil
	}
	b, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return p, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/x-www-form-urlencoded" && !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		if p.form, err = url.ParseQuery(string(b)); err != nil {
			return nil, parley.Errorf(parley.EINVALID, "Request body is not valid form data.")
		}
		return p, nil
	}
	if err := json.Unmarshal(b, &p.json); err != nil {
		return nil, parley.Errorf(parley.EINVALID, "Request body is not a valid JSON object: %s", jsonProblem(err))
	}
	return p, nil
}

// str returns a parameter as a string: a JSON string unquoted, other
// JSON values as written, form and query values as given.
func (p *params) str(name string) string {
	if raw, ok := p.json[name]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return string(raw)
	}
	if v, ok := p.form[name]; ok && len(v) > 0 {
		return v[0]
	}
	return p.query.Get(name)
}

// raw returns a parameter as JSON: the JSON value, or a form or query
// value that holds JSON (Graph clients send arrays and objects as JSON
// strings in forms).
func (p *params) raw(name string) json.RawMessage {
	if raw, ok := p.json[name]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil && json.Valid([]byte(s)) && (strings.HasPrefix(s, "[") || strings.HasPrefix(s, "{")) {
			return json.RawMessage(s)
		}
		return raw
	}
	s := p.str(name)
	if s == "" || !json.Valid([]byte(s)) {
		return nil
	}
	return json.RawMessage(s)
}

func (p *params) has(name string) bool {
	_, ok := p.json[name]
	return ok || p.form.Has(name) || p.query.Has(name)
}

// list returns a parameter that is a JSON array of strings or a
// comma-separated string.
func (p *params) list(name string) []string {
	var out []string
	if raw := p.raw(name); raw != nil && json.Unmarshal(raw, &out) == nil {
		return out
	}
	for _, f := range strings.Split(p.str(name), ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// jsonProblem describes a decoding error without echoing input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "syntax error at byte " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &te):
		return "field " + te.Field + " has the wrong type"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end"
	}
	var pe *parley.Error
	if errors.As(err, &pe) {
		return pe.Message
	}
	return "malformed"
}

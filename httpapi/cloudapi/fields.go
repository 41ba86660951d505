package cloudapi

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/parley-chat/parley"
)

// object is a Graph object as a field map: encoding/json writes it with
// sorted keys.
type object map[string]any

// pick keeps the requested fields (the "fields" parameter, comma
// separated; "a{b,c}" sub-selections are reduced to "a") or, when none
// were requested, the defaults. "id" is always kept, as Graph does.
func pick(o object, requested string, defaults []string) object {
	want := defaults
	if requested = strings.TrimSpace(requested); requested != "" {
		want = nil
		depth := 0
		var cur strings.Builder
		flush := func() {
			if f := strings.TrimSpace(cur.String()); f != "" {
				if i := strings.IndexAny(f, "{.("); i >= 0 {
					f = f[:i]
				}
				want = append(want, f)
			}
			cur.Reset()
		}
		for _, r := range requested {
			switch {
			case r == '{' || r == '(':
				depth++
			case r == '}' || r == ')':
				depth--
			case r == ',' && depth == 0:
				flush()
				continue
			}
			if depth == 0 && r != '}' && r != ')' {
				cur.WriteRune(r)
			}
		}
		flush()
	}
	if want == nil {
		return o
	}
	out := object{}
	if id, ok := o["id"]; ok {
		out["id"] = id
	}
	for _, f := range want {
		if v, ok := o[f]; ok {
			out[f] = v
		}
	}
	return out
}

// cursor encodes a paging position (an object id) opaquely.
func cursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte("c:" + id)) }

func parseCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	id, ok := strings.CutPrefix(string(b), "c:")
	if err != nil || !ok || !parley.ValidGraphID(id) {
		return "", parley.Errorf(parley.EINVALID, "Param after/before is not a valid cursor.")
	}
	return id, nil
}

// pageURL is the absolute URL of the same request with the cursor
// parameters replaced.
func pageURL(r *http.Request, key, value string) string {
	q := r.URL.Query()
	q.Del("after")
	q.Del("before")
	q.Del("access_token") // never echo a token into a URL
	q.Set(key, value)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: "/" + versionOf(r) + r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}

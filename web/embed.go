// Package web serves the browser client: the built bundle in dist/ (made
// from web/src and web/wasm by build.mjs, committed, checked by
// check-build.sh) is embedded in the binary, so building Parley needs no
// Node.js.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// file is one asset, with its gzip copy when the build made one.
type file struct {
	raw, gz []byte // raw is nil when only the gzip copy is stored
	ctype   string
	etag    string
}

// Handler serves the web client at /: files from dist, index.html for
// client routes (paths without an extension), business.html (the
// business app) for routes under /business/ except /business/api/,
// Content-Encoding gzip for browsers that accept it.
type Handler struct {
	files map[string]*file
}

// NewHandler indexes the embedded bundle.
func NewHandler() (*Handler, error) {
	h := &Handler{files: map[string]*file{}}
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, err
	}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		name, gz := strings.CutSuffix(p, ".gz")
		f := h.files[name]
		if f == nil {
			f = &file{ctype: contentType(name)}
			h.files[name] = f
		}
		if gz {
			f.gz = b
		} else {
			f.raw = b
			sum := sha256.Sum256(b)
			f.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, f := range h.files {
		if f.etag == "" { // only a gzip copy: tag its bytes
			sum := sha256.Sum256(f.gz)
			f.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
		}
	}
	return h, nil
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".wasm":
		return "application/wasm"
	case ".js":
		return "text/javascript; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// Has reports whether the bundle has a built client (a checkout whose
// web/dist was never built has none).
func (h *Handler) Has() bool { return h.files["index.html"] != nil }

// ServeHTTP serves GET and HEAD requests.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	if name == "business" || strings.HasPrefix(name, "business/") {
		if name == "business/api" || strings.HasPrefix(name, "business/api/") {
			http.NotFound(w, r) // the inbox API is never a page
			return
		}
		if path.Ext(name) == "" {
			name = "business.html" // a route of the business app
		}
	}
	f := h.files[name]
	if f == nil && path.Ext(name) == "" {
		name, f = "index.html", h.files["index.html"] // a client route
	}
	if f == nil {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", f.ctype)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Vary", "Accept-Encoding")
	if strings.HasPrefix(name, "assets/") {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable") // content-hashed names
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	if name == "index.html" || name == "business.html" {
		hd.Set("Content-Security-Policy", csp)
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
	}
	body, etag := f.raw, f.etag
	if f.gz != nil && acceptsGzip(r) {
		hd.Set("Content-Encoding", "gzip")
		body, etag = f.gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
	} else if f.raw == nil {
		zr, err := gzip.NewReader(bytes.NewReader(f.gz))
		if err == nil {
			body, err = io.ReadAll(zr)
		}
		if err != nil {
			http.Error(w, "broken asset", http.StatusInternalServerError)
			return
		}
	}
	hd.Set("ETag", etag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// csp allows only the client's own files; 'wasm-unsafe-eval' lets it
// compile its WebAssembly core, blob: shows decrypted images and plays
// decrypted video and audio.
const csp = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}

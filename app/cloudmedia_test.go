package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/parley-chat/parley/app"
)

// formPart is one part of a multipart upload: a field, or the file when
// filename is set (ctype is then its Content-Type, "" for none).
type formPart struct {
	name, value     string
	filename, ctype string
	data            []byte
}

func fileOf(ctype string, data []byte) formPart {
	return formPart{name: "file", filename: "a.bin", ctype: ctype, data: data}
}

func field(name, value string) formPart { return formPart{name: name, value: value} }

// uploadMedia posts a multipart form to /{number}/media (query appended
// as is); chunked sends it without a Content-Length.
func uploadMedia(t testing.TB, n *node, number, token, query string, chunked bool, parts ...formPart) (int, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		if p.filename == "" {
			mw.WriteField(p.name, p.value)
			continue
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.filename))
		if p.ctype != "" {
			h.Set("Content-Type", p.ctype)
		}
		w, _ := mw.CreatePart(h)
		w.Write(p.data)
	}
	mw.Close()
	var body io.Reader = bytes.NewReader(buf.Bytes())
	if chunked {
		body = io.MultiReader(body) // hides the length: the client sends it chunked
	}
	req, _ := http.NewRequest("POST", n.base+"/v24.0/"+number+"/media"+query, body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// mustUploadCloud uploads and returns the media id.
func mustUploadCloud(t testing.TB, n *node, b business, ctype string, data []byte) string {
	t.Helper()
	st, got := uploadMedia(t, n, b.PhoneNumberID, b.AccessToken, "", false, field("messaging_product", "whatsapp"), fileOf(ctype, data))
	var out struct{ ID string }
	if json.Unmarshal(got, &out); st != 200 || out.ID == "" {
		t.Fatalf("upload %s: %d %s", ctype, st, got)
	}
	return out.ID
}

type mediaInfo struct {
	MessagingProduct string `json:"messaging_product"`
	URL              string `json:"url"`
	MIMEType         string `json:"mime_type"`
	SHA256           string `json:"sha256"`
	FileSize         int64  `json:"file_size"`
	ID               string `json:"id"`
}

// downloadCloud GETs a media URL with a token ("" for none).
func downloadCloud(t testing.TB, url, token string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// The media API: upload in the shapes client libraries send, Meta's type
// and size rules, retrieve, download, delete, and scoping.
func TestCloudAPIMedia(t *testing.T) {
	n := startNode(t, app.Config{})
	b := createBusiness(t, n, nil)
	o := createBusiness(t, n, map[string]any{"name": "Other Shop"})
	png := []byte("\x89PNGDATA")

	// The three shapes of sdk-clients.md §4.2, and chunked.
	shapes := []struct {
		name    string
		query   string
		chunked bool
		parts   []formPart
	}{
		{"whatsapp-api-js", "?messaging_product=whatsapp", false, []formPart{fileOf("image/png", png)}},
		{"kapso", "", false, []formPart{field("messaging_product", "whatsapp"), field("type", "image/png"), fileOf("image/png", png)}},
		{"great-detail", "", false, []formPart{field("messaging_product", "whatsapp"), fileOf("image/png", png), field("type", "image/png")}},
		{"type-field-only", "", true, []formPart{field("messaging_product", "whatsapp"), fileOf("application/octet-stream", png), field("type", "image/png")}},
		{"chunked", "?messaging_product=whatsapp", true, []formPart{field("ttl_minutes", "60"), fileOf("image/png", png)}},
	}
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			st, got := uploadMedia(t, n, b.PhoneNumberID, b.AccessToken, s.query, s.chunked, s.parts...)
			var out map[string]string
			if json.Unmarshal(got, &out); st != 200 || len(out) != 1 || len(out["id"]) != 16 {
				t.Fatalf("upload: %d %s", st, got)
			}
			st, got = graph(t, n, "GET", "/v24.0/"+out["id"], b.AccessToken, nil)
			var info mediaInfo
			json.Unmarshal(got, &info)
			sum := sha256.Sum256(png)
			if st != 200 || info.MessagingProduct != "whatsapp" || info.ID != out["id"] || info.MIMEType != "image/png" ||
				info.FileSize != int64(len(png)) || info.SHA256 != hex.EncodeToString(sum[:]) ||
				info.URL != n.base+"/v24.0/"+out["id"]+"/download" {
				t.Fatalf("GET media: %d %s", st, got)
			}
			st, h, data := downloadCloud(t, info.URL, b.AccessToken)
			if st != 200 || !bytes.Equal(data, png) || h.Get("Content-Type") != "image/png" {
				t.Fatalf("download: %d %q %q", st, h.Get("Content-Type"), data)
			}
		})
	}

	// Every type of §4.4 within its limit, and one byte over.
	types := []struct {
		ctype, want string
		limit       int
	}{
		{"image/jpeg", "image/jpeg", 5 << 20}, {"image/png", "image/png", 5 << 20},
		{"audio/aac", "audio/aac", 16 << 20}, {"audio/amr", "audio/amr", 16 << 20}, {"audio/mpeg", "audio/mpeg", 16 << 20},
		{"audio/mp4", "audio/mp4", 16 << 20}, {"audio/ogg", "audio/ogg", 16 << 20},
		{"audio/ogg; codecs=opus", "audio/ogg; codecs=opus", 16 << 20},
		{"video/mp4", "video/mp4", 16 << 20}, {"video/3gpp", "video/3gpp", 16 << 20},
		{"image/webp", "image/webp", 500 << 10},
		{"text/plain", "text/plain", 100 << 20}, {"application/pdf", "application/pdf", 100 << 20},
		{"application/msword", "application/msword", 100 << 20},
		{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 100 << 20},
		{"application/vnd.ms-excel", "application/vnd.ms-excel", 100 << 20},
		{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 100 << 20},
		{"application/vnd.ms-powerpoint", "application/vnd.ms-powerpoint", 100 << 20},
		{"application/vnd.openxmlformats-officedocument.presentationml.presentation", "application/vnd.openxmlformats-officedocument.presentationml.presentation", 100 << 20},
	}
	for _, tc := range types {
		t.Run("type "+tc.ctype, func(t *testing.T) {
			id := mustUploadCloud(t, n, b, tc.ctype, []byte("x"))
			_, got := graph(t, n, "GET", "/v24.0/"+id, b.AccessToken, nil)
			var info mediaInfo
			if json.Unmarshal(got, &info); info.MIMEType != tc.want {
				t.Errorf("mime_type = %q, want %q", info.MIMEType, tc.want)
			}
			if tc.limit > 16<<20 {
				return // 100 MB documents: the over-limit case is the same code; keep the test fast
			}
			ok := make([]byte, tc.limit)
			if id := mustUploadCloud(t, n, b, tc.ctype, ok); id == "" {
				t.Fatal("no id")
			}
			st, got := uploadMedia(t, n, b.PhoneNumberID, b.AccessToken, "?messaging_product=whatsapp", true, fileOf(tc.ctype, make([]byte, tc.limit+1)))
			wantGraphError(t, st, got, 400, 100, 0)
		})
	}

	// Refusals: code 100 with details.
	bad := []struct {
		name  string
		query string
		parts []formPart
	}{
		{"no messaging_product", "", []formPart{fileOf("image/png", png)}},
		{"wrong messaging_product", "", []formPart{field("messaging_product", "sms"), fileOf("image/png", png)}},
		{"no file", "?messaging_product=whatsapp", []formPart{field("type", "image/png")}},
		{"empty file", "?messaging_product=whatsapp", []formPart{fileOf("image/png", nil)}},
		{"no type", "?messaging_product=whatsapp", []formPart{fileOf("", png)}},
		{"unsupported type", "?messaging_product=whatsapp", []formPart{fileOf("image/gif", png)}},
		{"octet-stream", "?messaging_product=whatsapp", []formPart{fileOf("application/octet-stream", png)}},
		{"ogg vorbis", "?messaging_product=whatsapp", []formPart{fileOf("audio/ogg; codecs=vorbis", png)}},
		{"bad type field", "?messaging_product=whatsapp", []formPart{fileOf("image/png", png), field("type", "video/x-msvideo")}},
		{"two files", "?messaging_product=whatsapp", []formPart{fileOf("image/png", png), fileOf("image/png", png)}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			st, got := uploadMedia(t, n, b.PhoneNumberID, b.AccessToken, tc.query, false, tc.parts...)
			if e := wantGraphError(t, st, got, 400, 100, 0); e.Error.Data.Details == "" {
				t.Errorf("no details: %s", got)
			}
		})
	}
	// Not multipart at all.
	st, got := graph(t, n, "POST", "/v24.0/"+b.PhoneNumberID+"/media", b.AccessToken, []byte(`{"messaging_product":"whatsapp"}`))
	wantGraphError(t, st, got, 400, 100, 0)

	// Scoping: another business's token gets 100/33 everywhere.
	id := mustUploadCloud(t, n, b, "application/pdf", []byte("%PDF-1.4 invoice"))
	st, got = uploadMedia(t, n, b.PhoneNumberID, o.AccessToken, "?messaging_product=whatsapp", false, fileOf("image/png", png))
	wantGraphError(t, st, got, 400, 100, 33)
	for _, m := range []string{"GET", "DELETE"} {
		st, got = graph(t, n, m, "/v24.0/"+id, o.AccessToken, nil)
		wantGraphError(t, st, got, 400, 100, 33)
	}
	st, got = graph(t, n, "GET", "/v24.0/"+id+"/download", o.AccessToken, nil)
	wantGraphError(t, st, got, 400, 100, 33)
	st, got = graph(t, n, "GET", "/v24.0/"+id+"?phone_number_id="+o.PhoneNumberID, b.AccessToken, nil)
	wantGraphError(t, st, got, 400, 100, 33)
	// Download needs the token.
	st, got = graph(t, n, "GET", "/v24.0/"+id+"/download", "", nil)
	wantGraphError(t, st, got, 401, 190, 0)
	// The owner still has it, with a number filter too; a range works.
	if st, got := graph(t, n, "GET", "/v24.0/"+id+"?phone_number_id="+b.PhoneNumberID, b.AccessToken, nil); st != 200 {
		t.Fatalf("owner GET: %d %s", st, got)
	}
	req, _ := http.NewRequest("GET", n.base+"/v24.0/"+id+"/download", nil)
	req.Header.Set("Authorization", "Bearer "+b.AccessToken)
	req.Header.Set("Range", "bytes=0-3")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 206 || string(part) != "%PDF" || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("range: %d %q %q", resp.StatusCode, part, resp.Header.Get("Content-Type"))
	}

	// Delete; then it is gone (100/33), and deleting again too.
	st, got = graph(t, n, "DELETE", "/v24.0/"+id, b.AccessToken, nil)
	if st != 200 || strings.TrimSpace(string(got)) != `{"success":true}` {
		t.Fatalf("DELETE: %d %s", st, got)
	}
	for _, p := range []string{"GET /v24.0/" + id, "GET /v24.0/" + id + "/download", "DELETE /v24.0/" + id} {
		m, path, _ := strings.Cut(p, " ")
		st, got = graph(t, n, m, path, b.AccessToken, nil)
		wantGraphError(t, st, got, 400, 100, 33)
	}
	// DELETE on other objects is not supported.
	st, got = graph(t, n, "DELETE", "/v24.0/"+b.PhoneNumberID, b.AccessToken, nil)
	wantGraphError(t, st, got, 400, 100, 33)
}

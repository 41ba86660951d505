package app_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/store/postgres/pgtest"
)

func tinyPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// rawGraph sends body as is with Meta's upload headers.
func rawGraph(t testing.TB, n *node, method, path, auth string, hdr map[string]string, body []byte) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, n.base+path, bytes.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// startUpload opens a session and returns its id.
func startUpload(t *testing.T, n *node, b business, length int, typ string) string {
	t.Helper()
	q := url.Values{"file_name": {"logo.png"}, "file_length": {strconv.Itoa(length)}, "file_type": {typ}}
	st, body := graph(t, n, "POST", "/v24.0/"+b.AppID+"/uploads?"+q.Encode(), b.AccessToken, nil)
	var out struct{ ID string }
	if json.Unmarshal(body, &out); st != 200 || !strings.HasPrefix(out.ID, "upload:") {
		t.Fatalf("POST /uploads: %d %s", st, body)
	}
	return out.ID
}

// The resumable upload hands out a handle for a JPEG or PNG; setting
// profile_picture_handle to it makes the image the number's picture,
// served publicly and named by profile_picture_url and the cards. Bad
// input gets Meta's envelope; another business's session and handle are
// unknown objects / invalid handles.
func TestProfilePicture(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { testProfilePicture(t, app.Config{}) })
	t.Run("PostgreSQL", func(t *testing.T) { testProfilePicture(t, app.Config{Database: pgtest.DSN(t)}) })
}

func testProfilePicture(t *testing.T, cfg app.Config) {
	n := startNode(t, cfg)
	b := createBusiness(t, n, nil)
	other := createBusiness(t, n, nil)
	pic := tinyPNG(t)

	// Bad session requests.
	for _, q := range []string{
		"file_length=10&file_type=application/pdf", // not an image
		"file_length=10&file_type=image/webp",      // not JPEG/PNG
		"file_length=6000000&file_type=image/png",  // over 5 MB
		"file_length=0&file_type=image/png",        // empty
		"file_length=abc&file_type=image/png",      // not a number
	} {
		st, body := graph(t, n, "POST", "/v24.0/"+b.AppID+"/uploads?"+q, b.AccessToken, nil)
		wantGraphError(t, st, body, 400, 100, 0)
	}
	st, body := graph(t, n, "POST", "/v24.0/"+b.AppID+"/uploads?file_length=10&file_type=image/png", other.AccessToken, nil)
	wantGraphError(t, st, body, 400, 100, 33) // another business's app

	id := startUpload(t, n, b, len(pic), "image/png")
	// Another business cannot see or use the session.
	st, body, _ = rawGraph(t, n, "GET", "/"+id, "OAuth "+other.AccessToken, nil, nil)
	wantGraphError(t, st, body, 400, 100, 33)
	st, body, _ = rawGraph(t, n, "POST", "/"+id, "OAuth "+other.AccessToken, map[string]string{"file_offset": "0"}, pic)
	wantGraphError(t, st, body, 400, 100, 33)
	// Status before: offset 0 (unversioned path, OAuth scheme).
	st, body, _ = rawGraph(t, n, "GET", "/"+id, "OAuth "+b.AccessToken, nil, nil)
	if st != 200 || !strings.Contains(string(body), `"file_offset":0`) || !strings.Contains(string(body), id) {
		t.Fatalf("GET session: %d %s", st, body)
	}
	// Wrong offset, wrong length, wrong type.
	st, body, _ = rawGraph(t, n, "POST", "/v24.0/"+id, "OAuth "+b.AccessToken, map[string]string{"file_offset": "5"}, pic)
	wantGraphError(t, st, body, 400, 100, 0)
	st, body, _ = rawGraph(t, n, "POST", "/v24.0/"+id, "OAuth "+b.AccessToken, map[string]string{"file_offset": "0"}, pic[:len(pic)-1])
	wantGraphError(t, st, body, 400, 100, 0)
	// More than announced: refused after reading one byte past the length.
	st, body, _ = rawGraph(t, n, "POST", "/v24.0/"+id, "OAuth "+b.AccessToken, map[string]string{"file_offset": "0"}, append(slices.Clip(pic), make([]byte, 4096)...))
	wantGraphError(t, st, body, 400, 100, 0)
	if !strings.Contains(string(body), "more than the") {
		t.Fatalf("longer file: %s", body)
	}
	fake := append([]byte("GIF89a"), make([]byte, len(pic)-6)...)
	st, body, _ = rawGraph(t, n, "POST", "/v24.0/"+id, "OAuth "+b.AccessToken, map[string]string{"file_offset": "0"}, fake)
	wantGraphError(t, st, body, 400, 100, 0)
	// The upload.
	st, body, _ = rawGraph(t, n, "POST", "/v24.0/"+id, "OAuth "+b.AccessToken, map[string]string{"file_offset": "0"}, pic)
	var up struct{ H string }
	if json.Unmarshal(body, &up); st != 200 || !strings.HasPrefix(up.H, "4::") {
		t.Fatalf("POST session: %d %s", st, body)
	}
	st, body, _ = rawGraph(t, n, "GET", "/v24.0/"+id, "Bearer "+b.AccessToken, nil, nil)
	if st != 200 || !strings.Contains(string(body), `"file_offset":`+strconv.Itoa(len(pic))) {
		t.Fatalf("GET finished session: %d %s", st, body)
	}
	st, body, _ = rawGraph(t, n, "POST", "/v24.0/"+id, "OAuth "+b.AccessToken, map[string]string{"file_offset": "0"}, pic)
	wantGraphError(t, st, body, 400, 100, 0) // already complete

	// Unknown handle, another business's handle: 100, nothing changes.
	setHandle := func(biz business, h string) (int, []byte) {
		body, _ := json.Marshal(map[string]any{"messaging_product": "whatsapp", "profile_picture_handle": h, "about": "changed"})
		return graph(t, n, "POST", "/v24.0/"+biz.PhoneNumberID+"/whatsapp_business_profile", biz.AccessToken, body)
	}
	st, body = setHandle(b, "4::unknown")
	wantGraphError(t, st, body, 400, 100, 0)
	st, body = setHandle(other, up.H)
	wantGraphError(t, st, body, 400, 100, 0)
	st, body = graph(t, n, "GET", "/v24.0/"+other.PhoneNumberID+"/whatsapp_business_profile", other.AccessToken, nil)
	if st != 200 || strings.Contains(string(body), "changed") || strings.Contains(string(body), "profile_picture_url") {
		t.Fatalf("other's profile after a refused update: %d %s", st, body)
	}
	if st, body, _ := rawGraph(t, n, "GET", "/v1/public/businesses/"+other.Account+"/picture", "", nil, nil); st != 404 {
		t.Fatalf("other's picture: %d %s", st, body)
	}

	// The handle sets the picture.
	if st, body := setHandle(b, up.H); st != 200 {
		t.Fatalf("set handle: %d %s", st, body)
	}
	st, body = graph(t, n, "GET", "/v24.0/"+b.PhoneNumberID+"/whatsapp_business_profile?fields=about,profile_picture_url", b.AccessToken, nil)
	var prof struct {
		Data []struct {
			About string `json:"about"`
			URL   string `json:"profile_picture_url"`
		}
	}
	if json.Unmarshal(body, &prof); st != 200 || len(prof.Data) != 1 || prof.Data[0].About != "changed" ||
		!strings.HasPrefix(prof.Data[0].URL, n.base+"/v1/public/businesses/"+b.Account+"/picture?v=") {
		t.Fatalf("profile: %d %s", st, body)
	}
	st, got, h := rawGraph(t, n, "GET", strings.TrimPrefix(prof.Data[0].URL, n.base), "", nil, nil)
	if st != 200 || !bytes.Equal(got, pic) || h.Get("Content-Type") != "image/png" || !strings.Contains(h.Get("Cache-Control"), "public") || h.Get("ETag") == "" {
		t.Fatalf("public picture: %d %v (%d bytes)", st, h, len(got))
	}
	if st, _, _ := rawGraph(t, n, "GET", "/v1/public/businesses/"+b.Account+"/picture", "", map[string]string{"If-None-Match": h.Get("ETag")}, nil); st != 304 {
		t.Fatalf("revalidation: %d, want 304", st)
	}
	// The public card names it.
	var card map[string]any
	if st := call(t, "GET", n.base+"/v1/public/businesses/"+b.Account, "", nil, &card); st != 200 ||
		!strings.HasPrefix(card["picture_url"].(string), "/v1/public/businesses/"+b.Account+"/picture?v=") {
		t.Fatalf("public card: %d %v", st, card)
	}
	// Sending the same handle again (a full profile update) keeps it;
	// "" removes it.
	if st, body := setHandle(b, up.H); st != 200 {
		t.Fatalf("same handle again: %d %s", st, body)
	}
	if st, body := setHandle(b, ""); st != 200 {
		t.Fatalf("remove picture: %d %s", st, body)
	}
	if st, _, _ := rawGraph(t, n, "GET", "/v1/public/businesses/"+b.Account+"/picture", "", nil, nil); st != 404 {
		t.Fatalf("picture after removal: %d, want 404", st)
	}

	// The business app: admins upload a picture, agents may not, bad
	// images are 400, another business's agent gets 404; audited.
	owner := signIn(t, n, b.WABAID, "owner")
	member := signIn(t, n, b.WABAID, "agent")
	stranger := signIn(t, n, other.WABAID, "owner")
	put := func(a *agentClient, number string, data []byte) (int, map[string]any) {
		req, _ := http.NewRequest("PUT", a.base+"/business/api/numbers/"+number+"/picture", bytes.NewReader(data))
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("X-CSRF-Token", a.csrf)
		resp, err := a.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if st, _ := put(member, b.PhoneNumberID, pic); st != 403 {
		t.Fatalf("agent PUT picture: %d, want 403", st)
	}
	if st, _ := put(stranger, b.PhoneNumberID, pic); st != 404 {
		t.Fatalf("stranger PUT picture: %d, want 404", st)
	}
	if st, out := put(owner, b.PhoneNumberID, []byte("not an image")); st != 400 {
		t.Fatalf("PUT text: %d %v, want 400", st, out)
	}
	if st, out := put(owner, b.PhoneNumberID, append([]byte{0xff, 0xd8, 0xff}, make([]byte, 5<<20)...)); st != 413 && st != 400 {
		t.Fatalf("PUT 5 MB+: %d %v, want 400 or 413", st, out)
	}
	st, out := put(owner, b.PhoneNumberID, pic)
	u, _ := out["picture_url"].(string)
	if st != 200 || !strings.HasPrefix(u, "/v1/public/businesses/"+b.Account+"/picture?v=") {
		t.Fatalf("owner PUT picture: %d %v", st, out)
	}
	if st, got, _ := rawGraph(t, n, "GET", u, "", nil, nil); st != 200 || !bytes.Equal(got, pic) {
		t.Fatalf("picture after the app's upload: %d", st)
	}
	var audit struct {
		Entries []map[string]any `json:"entries"`
	}
	owner.do("GET", "/audit", nil, &audit, false)
	found := false
	for _, a := range audit.Entries {
		found = found || (a["action"] == "profile.picture" && a["target"] == b.PhoneNumberID)
	}
	if !found {
		t.Fatalf("audit has no profile.picture entry: %v", audit.Entries)
	}

	// At most 20 live sessions per business (b has one): then code 4.
	for range 19 {
		startUpload(t, n, b, len(pic), "image/png")
	}
	st, body = graph(t, n, "POST", "/v24.0/"+b.AppID+"/uploads?file_length=10&file_type=image/png", b.AccessToken, nil)
	wantGraphError(t, st, body, 400, 4, 0)
	startUpload(t, n, other, len(pic), "image/png") // another business is not affected
}

package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/sdk"
)

type qrdl struct {
	Code             string `json:"code"`
	PrefilledMessage string `json:"prefilled_message"`
	DeepLinkURL      string `json:"deep_link_url"`
	QRImageURL       string `json:"qr_image_url"`
}

func graphJSON(t *testing.T, n *node, method, path, token, body string, out any) int {
	t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	st, got := graph(t, n, method, path, token, b)
	if out != nil && st == 200 {
		if err := json.Unmarshal(got, out); err != nil {
			t.Fatalf("%s %s: %s: %v", method, path, got, err)
		}
	}
	if st != 200 {
		t.Logf("%s %s: %d %s", method, path, st, got)
	}
	return st
}

func get(t *testing.T, u string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// QR codes and short links through the Cloud API: Meta's shapes for
// create, list (with the image URL by fields), get (an array), update and
// delete; links on the configured public URL; images that decode; errors
// in Meta's envelope; another business sees nothing.
func TestQRCodesAndShortLinks(t *testing.T) {
	n := startNode(t, app.Config{PublicURL: "https://chat.example.test/"})
	b := createBusiness(t, n, nil)
	other := createBusiness(t, n, nil)
	path := "/v24.0/" + b.PhoneNumberID + "/message_qrdls"

	var c qrdl
	if st := graphJSON(t, n, "POST", path, b.AccessToken, `{"prefilled_message":"Cyber Monday","generate_qr_image":"SVG"}`, &c); st != 200 {
		t.Fatalf("create: %d", st)
	}
	if !parley.ValidQRCode(c.Code) || c.PrefilledMessage != "Cyber Monday" || c.DeepLinkURL != "https://chat.example.test/message/"+c.Code ||
		c.QRImageURL != "https://chat.example.test/qr/"+c.Code+".svg" {
		t.Fatalf("create = %+v", c)
	}
	var raw map[string]any
	graphJSON(t, n, "POST", path, b.AccessToken, `{"prefilled_message":"Second","generate_qr_image":"png"}`, &raw)
	if len(raw) != 4 || !strings.HasSuffix(raw["qr_image_url"].(string), ".png") {
		t.Fatalf("create with PNG = %v, want exactly code, prefilled_message, deep_link_url, qr_image_url", raw)
	}
	second := raw["code"].(string)

	// List: defaults without the image; fields add it in the asked format.
	var list struct {
		Data   []map[string]any `json:"data"`
		Paging struct {
			Cursors struct{ Before, After string } `json:"cursors"`
			Next    string                         `json:"next"`
		} `json:"paging"`
	}
	graphJSON(t, n, "GET", path, b.AccessToken, "", &list)
	if len(list.Data) != 2 || list.Data[0]["code"] != second || list.Data[1]["code"] != c.Code || len(list.Data[0]) != 3 {
		t.Fatalf("list = %+v, want the two codes newest first with code, prefilled_message, deep_link_url", list.Data)
	}
	graphJSON(t, n, "GET", path+"?fields=code,prefilled_message,deep_link_url,qr_image_url.format(SVG)&limit=1", b.AccessToken, "", &list)
	if len(list.Data) != 1 || list.Data[0]["qr_image_url"] != "https://chat.example.test/qr/"+second+".svg" || list.Paging.Next == "" {
		t.Fatalf("list with fields = %+v", list)
	}
	u, _ := url.Parse(list.Paging.Next)
	list.Paging.Next = ""
	graphJSON(t, n, "GET", path+"?"+u.RawQuery, b.AccessToken, "", &list)
	if len(list.Data) != 1 || list.Data[0]["code"] != c.Code || list.Paging.Next != "" {
		t.Fatalf("second page = %+v, want %s and no next", list, c.Code)
	}

	// Get: one code, still under data as an array.
	var one struct{ Data []qrdl }
	graphJSON(t, n, "GET", path+"/"+c.Code, b.AccessToken, "", &one)
	if len(one.Data) != 1 || one.Data[0].Code != c.Code || one.Data[0].PrefilledMessage != "Cyber Monday" || one.Data[0].QRImageURL != "" {
		t.Fatalf("get = %+v", one)
	}
	// Update with code.
	var up qrdl
	graphJSON(t, n, "POST", path, b.AccessToken, `{"code":"`+c.Code+`","prefilled_message":"Cyber Tuesday"}`, &up)
	if up.Code != c.Code || up.PrefilledMessage != "Cyber Tuesday" || up.DeepLinkURL != c.DeepLinkURL {
		t.Fatalf("update = %+v", up)
	}

	// Bad input in Meta's envelope.
	st, body := graph(t, n, "POST", path, b.AccessToken, []byte(`{"prefilled_message":"`+strings.Repeat("ü", 141)+`","generate_qr_image":"SVG"}`))
	if e := wantGraphError(t, st, body, 400, 100, 0); !strings.Contains(e.Error.Data.Details, "140") {
		t.Errorf("too long: %s", body)
	}
	st, body = graph(t, n, "POST", path, b.AccessToken, []byte(`{"prefilled_message":"x","generate_qr_image":"GIF"}`))
	wantGraphError(t, st, body, 400, 100, 0)
	st, body = graph(t, n, "GET", path+"?fields=qr_image_url.format(JPG)", b.AccessToken, nil)
	wantGraphError(t, st, body, 400, 100, 0)
	st, body = graph(t, n, "GET", path+"/ZZZZZZZZZZZZZZ", b.AccessToken, nil)
	wantGraphError(t, st, body, 400, 100, 33)
	st, body = graph(t, n, "POST", path, b.AccessToken, []byte(`{"code":"ZZZZZZZZZZZZZZ","prefilled_message":"x"}`))
	wantGraphError(t, st, body, 400, 100, 33)

	// Tenant isolation: another business's token can neither read, list,
	// change nor delete the code, not even through its own number.
	for _, p := range []string{path, path + "/" + c.Code} {
		st, body = graph(t, n, "GET", p, other.AccessToken, nil)
		wantGraphError(t, st, body, 400, 100, 33)
	}
	otherPath := "/v24.0/" + other.PhoneNumberID + "/message_qrdls"
	for _, req := range []struct{ method, path, body string }{
		{"GET", otherPath + "/" + c.Code, ""},
		{"POST", otherPath, `{"code":"` + c.Code + `","prefilled_message":"hijack"}`},
		{"POST", path, `{"code":"` + c.Code + `","prefilled_message":"hijack"}`},
		{"DELETE", otherPath + "/" + c.Code, ""},
		{"DELETE", path + "/" + c.Code, ""},
	} {
		var rb []byte
		if req.body != "" {
			rb = []byte(req.body)
		}
		st, body = graph(t, n, req.method, req.path, other.AccessToken, rb)
		wantGraphError(t, st, body, 400, 100, 33)
	}
	graphJSON(t, n, "GET", path+"/"+c.Code, b.AccessToken, "", &one)
	if one.Data[0].PrefilledMessage != "Cyber Tuesday" {
		t.Fatalf("after the other business's attempts: %+v", one)
	}

	// The public side: the link's details and its images.
	var pub map[string]string
	if st := call(t, "GET", n.base+"/v1/public/links/"+c.Code, "", nil, &pub); st != 200 {
		t.Fatalf("public link: %d", st)
	}
	if pub["code"] != c.Code || pub["account"] != b.Account || pub["verified_name"] != "Lucky Shrub" || pub["prefilled_message"] != "Cyber Tuesday" {
		t.Fatalf("public link = %v", pub)
	}
	st, hd, img := get(t, n.base+"/qr/"+c.Code+".png")
	if st != 200 || hd.Get("Content-Type") != "image/png" {
		t.Fatalf("PNG: %d %s", st, hd.Get("Content-Type"))
	}
	if _, err := png.Decode(bytes.NewReader(img)); err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	st, hd, img = get(t, n.base+"/qr/"+c.Code+".svg")
	if st != 200 || hd.Get("Content-Type") != "image/svg+xml" || !bytes.Contains(img, []byte("<title>https://chat.example.test/message/"+c.Code+"?src=qr</title>")) {
		t.Fatalf("SVG: %d %s %.300s", st, hd.Get("Content-Type"), img)
	}
	if st, _, _ := get(t, n.base+"/qr/"+c.Code+".gif"); st != 404 {
		t.Errorf("GIF: %d, want 404", st)
	}

	// Delete: success, then the code is gone for the API and expired for
	// the public.
	var ok map[string]bool
	if graphJSON(t, n, "DELETE", path+"/"+c.Code, b.AccessToken, "", &ok); !ok["success"] {
		t.Fatalf("delete = %v", ok)
	}
	st, body = graph(t, n, "GET", path+"/"+c.Code, b.AccessToken, nil)
	wantGraphError(t, st, body, 400, 100, 33)
	st, body = graph(t, n, "DELETE", path+"/"+c.Code, b.AccessToken, nil)
	wantGraphError(t, st, body, 400, 100, 33)
	var perr struct {
		Error struct{ Code, Message string }
	}
	if st := call(t, "GET", n.base+"/v1/public/links/"+c.Code, "", nil, &perr); st != 410 || perr.Error.Code != "expired" {
		t.Errorf("public link after delete: %d %+v, want 410 expired", st, perr)
	}
	if st := call(t, "GET", n.base+"/v1/public/links/ZZZZZZZZZZZZZZ", "", nil, &perr); st != 404 {
		t.Errorf("public unknown link: %d, want 404", st)
	}
	if st, _, _ := get(t, n.base+"/qr/"+c.Code+".png"); st != 404 && st != 410 {
		t.Errorf("image of a deleted code: %d, want 404 or 410", st)
	}
	graphJSON(t, n, "GET", path, b.AccessToken, "", &list)
	if len(list.Data) != 1 || list.Data[0]["code"] != second {
		t.Errorf("list after delete = %v", list.Data)
	}

	// The public card: businesses only.
	var card map[string]any
	if st := call(t, "GET", n.base+"/v1/public/businesses/"+b.Account, "", nil, &card); st != 200 || card["verified_name"] != "Lucky Shrub" {
		t.Errorf("public card: %d %v", st, card)
	}
	person := register(t, n, "+4915100000777")
	if st := call(t, "GET", n.base+"/v1/public/businesses/"+person.Account, "", nil, nil); st != 404 {
		t.Errorf("public card of a person: %d, want 404", st)
	}
	if st := call(t, "GET", n.base+"/v1/public/businesses/12ab", "", nil, nil); st != 400 {
		t.Errorf("public card of garbage: %d, want 400", st)
	}
	// Public reads are rate-limited per address (burst 60).
	limited := false
	for i := 0; i < 80 && !limited; i++ {
		limited = call(t, "GET", n.base+"/v1/public/businesses/"+b.Account, "", nil, nil) == 429
	}
	if !limited {
		t.Error("80 public reads in a row were never refused")
	}
}

// sdkCustomer registers a person and runs a Go SDK device with real
// Signal sessions.
func sdkCustomer(t *testing.T, n *node, phone string) *sdk.Messenger {
	t.Helper()
	c := register(t, n, phone)
	creds := sdk.Credentials{Server: n.base, Account: c.Account, Device: c.Device, Token: c.Token}
	cipher, err := sdk.OpenSignalCipher(sdk.NewClient(creds), &sdk.MemoryState{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := sdk.NewMessenger(creds, sdk.Options{Cipher: cipher, MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	go m.Handle(ctx, func(context.Context, sdk.Event) error { return nil })
	t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := m.WaitConnected(wctx); err != nil {
		t.Fatal(err)
	}
	return m
}

// A customer opens a chat from a QR code and sends the prefilled text:
// the first inbound webhook carries Meta's referral object; a later
// message without one does not; a malformed referral is dropped and the
// message still arrives.
func TestReferralEndToEnd(t *testing.T) {
	n := startNode(t, app.Config{})
	recv := &receiver{t: t}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	b := createBusiness(t, n, map[string]any{"webhook_url": srv.URL + "/hook", "verify_token": "vt-1"})
	recv.secret = b.AppSecret
	var c qrdl
	graphJSON(t, n, "POST", "/v24.0/"+b.PhoneNumberID+"/message_qrdls", b.AccessToken, `{"prefilled_message":"Ich möchte bestellen","generate_qr_image":"PNG"}`, &c)

	m := sdkCustomer(t, n, "+4915100000301")
	ctx := t.Context()
	ref := &sdk.Referral{SourceType: sdk.ReferralQR, SourceID: c.Code, SourceURL: c.DeepLinkURL + "?src=qr", Body: c.PrefilledMessage}
	if _, err := m.Send(ctx, sdk.Outgoing{To: b.Account, Plaintext: sdk.TextReferralPayload(c.PrefilledMessage, ref)}); err != nil {
		t.Fatal(err)
	}
	first := recv.find("first message", "messages", func(m map[string]any) bool { return m["type"] == "text" })
	if first["text"].(map[string]any)["body"] != "Ich möchte bestellen" {
		t.Fatalf("first message %v", first)
	}
	want := map[string]any{"source_type": "qr", "source_id": c.Code, "source_url": c.DeepLinkURL + "?src=qr", "body": "Ich möchte bestellen"}
	got, _ := first["referral"].(map[string]any)
	if len(got) != len(want) {
		t.Fatalf("referral = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("referral.%s = %v, want %v", k, got[k], v)
		}
	}
	if _, err := m.SendText(ctx, b.Account, "second"); err != nil {
		t.Fatal(err)
	}
	second := recv.find("second message", "messages", func(m map[string]any) bool {
		t, _ := m["text"].(map[string]any)
		return t != nil && t["body"] == "second"
	})
	if _, ok := second["referral"]; ok {
		t.Errorf("second message carries a referral: %v", second)
	}
	bad := &sdk.Referral{SourceType: "ad", SourceURL: "javascript:alert(1)"}
	if _, err := m.Send(ctx, sdk.Outgoing{To: b.Account, Plaintext: sdk.TextReferralPayload("third", bad)}); err != nil {
		t.Fatal(err)
	}
	third := recv.find("third message", "messages", func(m map[string]any) bool {
		t, _ := m["text"].(map[string]any)
		return t != nil && t["body"] == "third"
	})
	if _, ok := third["referral"]; ok {
		t.Errorf("a malformed referral was passed on: %v", third)
	}
}

// A public URL that links cannot be built on stops the node at start.
func TestPublicURLChecked(t *testing.T) {
	for _, bad := range []string{"ftp://chat.example.test", "chat.example.test", "https://chat.example.test/?x=1", "https://user@chat.example.test", "https://"} {
		m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), PublicURL: bad})
		if err := m.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "public URL") {
			t.Errorf("PublicURL %q: Start = %v, want a public URL error", bad, err)
		}
		m.Close()
	}
}

package app_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
)

// customer drives a sandbox customer through the operator API.
type customer struct {
	t     *testing.T
	n     *node
	phone string
}

func (c customer) post(path string, body map[string]string) string {
	c.t.Helper()
	var out struct {
		MessageID string `json:"message_id"`
	}
	if st := call(c.t, "POST", c.n.base+"/admin/v1/customers/"+url.PathEscape(c.phone)+path, adminToken(c.t, c.n), body, &out); st != 200 {
		c.t.Fatalf("customer %s %s: status %d", c.phone, path, st)
	}
	return out.MessageID
}

// inbox waits until the customer received n messages and returns them.
func (c customer) inbox(n int) []map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var out struct {
			Messages []map[string]any `json:"messages"`
		}
		if st := call(c.t, "GET", c.n.base+"/admin/v1/customers/"+url.PathEscape(c.phone)+"/inbox", adminToken(c.t, c.n), nil, &out); st != 200 {
			c.t.Fatalf("inbox: status %d", st)
		}
		if len(out.Messages) >= n {
			return out.Messages
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s received %d messages in 20s, want %d: %v", c.phone, len(out.Messages), n, out.Messages)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStatus waits until an outbound message has status.
func waitStatus(t *testing.T, n *node, wamid, status string) *parley.Outbound {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		o, err := n.m.Store().Outbound(t.Context(), wamid)
		if err != nil {
			t.Fatal(err)
		}
		if o.Status == status {
			return o
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %s (code %d) after 20s, want %s", wamid, o.Status, o.ErrorCode, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sendCloud(t *testing.T, n *node, b business, body string) string {
	t.Helper()
	st, got := graph(t, n, "POST", "/v24.0/"+b.PhoneNumberID+"/messages", b.AccessToken, []byte(body))
	if st != 200 {
		t.Fatalf("POST messages: %d %s", st, got)
	}
	var res struct {
		Messages []struct{ ID string } `json:"messages"`
	}
	json.Unmarshal(got, &res)
	return res.Messages[0].ID
}

// receiver is a business's webhook endpoint: it answers the verification
// handshake, checks every POST's signature and keeps the changes' values.
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	values []map[string]any
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method == "GET" {
		if req.URL.Query().Get("hub.verify_token") != "vt-1" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		io.WriteString(w, req.URL.Query().Get("hub.challenge"))
		return
	}
	body, _ := io.ReadAll(req.Body)
	mac := hmac.New(sha256.New, []byte(r.secret))
	mac.Write(body)
	if req.Header.Get("X-Hub-Signature-256") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		r.t.Errorf("webhook with a bad signature: %s", body)
	}
	for _, c := range body {
		if c >= 0x80 {
			r.t.Errorf("webhook body is not ASCII: %s", body)
			break
		}
	}
	var n struct {
		Entry []struct {
			Changes []struct {
				Value map[string]any `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &n); err != nil || len(n.Entry) != 1 || len(n.Entry[0].Changes) != 1 {
		r.t.Errorf("webhook %s: want one entry with one change", body)
	} else {
		r.mu.Lock()
		r.values = append(r.values, n.Entry[0].Changes[0].Value)
		r.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

// find waits for a statuses[] or messages[] item that match accepts.
func (r *receiver) find(what, list string, match func(map[string]any) bool) map[string]any {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, v := range r.values {
			items, _ := v[list].([]any)
			for _, it := range items {
				if m, ok := it.(map[string]any); ok && match(m) {
					r.mu.Unlock()
					return m
				}
			}
		}
		r.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatalf("no %s webhook within 20s", what)
	return nil
}

func (r *receiver) status(wamid, status string) map[string]any {
	r.t.Helper()
	return r.find(status+" status of "+wamid, "statuses", func(m map[string]any) bool { return m["id"] == wamid && m["status"] == status })
}

func (r *receiver) message(typ string) map[string]any {
	r.t.Helper()
	return r.find("inbound "+typ, "messages", func(m map[string]any) bool { return m["type"] == typ })
}

// A business sends through the Cloud API; its hosted device encrypts to
// the customer's device; the customer's receipts become statuses; the
// window and account rules fail messages as Meta does.
func TestBusinessDeliveryEndToEnd(t *testing.T) {
	n := startNode(t, app.Config{})
	recv := &receiver{t: t}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	b := createBusiness(t, n, map[string]any{"webhook_url": srv.URL + "/hook", "verify_token": "vt-1"})
	recv.secret = b.AppSecret
	biz := b.Account
	c := customer{t: t, n: n, phone: "+4915100000201"}

	// Free-form before the customer ever wrote: outside the window.
	early := sendCloud(t, n, b, `{"messaging_product":"whatsapp","to":"4915100000201","type":"text","text":{"body":"too early"}}`)
	if o := waitStatus(t, n, early, parley.OutboundFailed); o.ErrorCode != 131047 {
		t.Fatalf("early message failed with %d, want 131047", o.ErrorCode)
	}
	if st := recv.status(early, "failed"); st["errors"].([]any)[0].(map[string]any)["code"] != float64(131047) {
		t.Fatalf("failed status webhook %v", st)
	}
	// The customer writes; now the business may answer.
	c.post("/messages", map[string]string{"to": "+" + biz, "text": "hello shop"})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if last, err := n.m.Store().LastInbound(t.Context(), b.PhoneNumberID, "4915100000201"); err == nil && !last.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the business device did not record the customer's message")
		}
		time.Sleep(20 * time.Millisecond)
	}
	in := recv.message("text")
	if in["from"] != "4915100000201" || in["text"].(map[string]any)["body"] != "hello shop" || !strings.HasPrefix(in["id"].(string), "wamid.") {
		t.Fatalf("inbound webhook %v", in)
	}
	wamid := sendCloud(t, n, b, `{"messaging_product":"whatsapp","to":"+49 151 00000201","type":"interactive","interactive":{"type":"button","body":{"text":"Pick one"},"action":{"buttons":[{"type":"reply","reply":{"id":"yes","title":"Yes"}},{"type":"reply","reply":{"id":"no","title":"No"}}]}}}`)
	got := c.inbox(1)[0]
	if got["id"] != wamid || got["from"] != biz || got["type"] != "interactive" {
		t.Fatalf("customer got %v, want the interactive message %s from %s", got, wamid, biz)
	}
	waitStatus(t, n, wamid, parley.OutboundDelivered)
	c.post("/read", map[string]string{"message_id": wamid})
	waitStatus(t, n, wamid, parley.OutboundRead)
	for _, st := range []string{"sent", "delivered", "read"} {
		recv.status(wamid, st)
	}
	c.post("/reply-button", map[string]string{"message_id": wamid, "button_id": "yes"})
	reply := recv.message("interactive")
	ia := reply["interactive"].(map[string]any)
	if ia["type"] != "button_reply" || ia["button_reply"].(map[string]any)["id"] != "yes" || reply["context"].(map[string]any)["id"] != wamid {
		t.Fatalf("button reply webhook %v", reply)
	}

	// A template may go outside the window, but not to a number without a
	// Parley account.
	createTemplates(t, n, b, "order_update")
	tmpl := strings.Replace(string(fixture(t, "send/template_positional.json")), "16505551234", "4915100000299", 1)
	none := sendCloud(t, n, b, tmpl)
	if o := waitStatus(t, n, none, parley.OutboundFailed); o.ErrorCode != 131026 {
		t.Fatalf("template to a stranger failed with %d, want 131026", o.ErrorCode)
	}
	// The same template reaches the customer outside any window.
	tmpl = strings.Replace(string(fixture(t, "send/template_positional.json")), "16505551234", "4915100000201", 1)
	sent := sendCloud(t, n, b, tmpl)
	waitStatus(t, n, sent, parley.OutboundDelivered)
	got = c.inbox(2)[1]
	if got["id"] != sent || got["type"] != "template" {
		t.Fatalf("customer got %v, want the template %s", got, sent)
	}
	// The approved template's text travels with the parameters, so that the
	// customer's client can show the message itself.
	if b, _ := json.Marshal(got["template"]); !strings.Contains(string(b), "has shipped and is on its way") || !strings.Contains(string(b), "Jane") {
		t.Fatalf("template as received: %s, want the approved body text and the parameters", b)
	}
}

// Media end to end: the business uploads an image and sends it by id; the
// customer's device gets it encrypted for it (the sandbox decrypts it to
// the same bytes); a link and an unknown id fail with 131053; the customer
// sends a document, whose webhook carries a media id the business
// downloads with the exact bytes.
func TestBusinessMediaEndToEnd(t *testing.T) {
	n := startNode(t, app.Config{Dev: true})
	recv := &receiver{t: t}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	b := createBusiness(t, n, map[string]any{"webhook_url": srv.URL + "/hook", "verify_token": "vt-1"})
	recv.secret = b.AppSecret
	c := customer{t: t, n: n, phone: "+4915100000301"}
	c.post("/messages", map[string]string{"to": "+" + b.Account, "text": "hi, send me the picture"})
	recv.message("text") // the window is open

	img := bytes.Repeat([]byte("\x89PNG-image-bytes"), 5000)
	id := mustUploadCloud(t, n, b, "image/png", img)
	wamid := sendCloud(t, n, b, `{"messaging_product":"whatsapp","to":"4915100000301","type":"image","image":{"id":"`+id+`","caption":"your order"}}`)
	waitStatus(t, n, wamid, parley.OutboundDelivered)
	line := c.inbox(1)[0]
	media, _ := line["media"].(map[string]any)
	sum := sha256.Sum256(img)
	if line["id"] != wamid || line["type"] != "image" || media == nil || media["sha256"] != hex.EncodeToString(sum[:]) ||
		media["mime_type"] != "image/png" || media["size"] != float64(len(img)) {
		t.Fatalf("customer's line %v, want the image %s with the uploaded bytes", line, wamid)
	}
	if im := line["image"].(map[string]any); im["id"] != id || im["caption"] != "your order" {
		t.Errorf("line's image object %v", im)
	}

	// By link (development mode allows the local server).
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		io.WriteString(w, "%PDF-1.4 linked")
	}))
	t.Cleanup(files.Close)
	linked := sendCloud(t, n, b, `{"messaging_product":"whatsapp","to":"4915100000301","type":"document","document":{"link":"`+files.URL+`/menu.pdf","filename":"menu.pdf"}}`)
	waitStatus(t, n, linked, parley.OutboundDelivered)
	line = c.inbox(2)[1]
	media, _ = line["media"].(map[string]any)
	lsum := sha256.Sum256([]byte("%PDF-1.4 linked"))
	if line["id"] != linked || media == nil || media["sha256"] != hex.EncodeToString(lsum[:]) || media["filename"] != "menu.pdf" {
		t.Fatalf("linked document line %v", line)
	}
	// Unknown ids, another business's ids and bad links fail with 131053.
	o := createBusiness(t, n, map[string]any{"name": "Other Shop"})
	foreign := mustUploadCloud(t, n, o, "image/png", img)
	for _, ref := range []string{`"id":"1234567890123456"`, `"id":"` + foreign + `"`, `"link":"` + files.URL + `/x"`} {
		w := sendCloud(t, n, b, `{"messaging_product":"whatsapp","to":"4915100000301","type":"video","video":{`+ref+`}}`)
		if o := waitStatus(t, n, w, parley.OutboundFailed); o.ErrorCode != 131053 {
			t.Errorf("video {%s} failed with %d, want 131053", ref, o.ErrorCode)
		}
	}

	// The customer sends a document.
	doc := []byte("%PDF-1.4 the signed contract")
	var out struct {
		MessageID string `json:"message_id"`
	}
	req, _ := http.NewRequest("POST", n.base+"/admin/v1/customers/4915100000301/files?to=%2B"+b.Account+"&kind=document&filename=contract.pdf&caption=signed", bytes.NewReader(doc))
	req.Header.Set("Authorization", "Bearer "+adminToken(t, n))
	req.Header.Set("Content-Type", "application/pdf")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != 200 || out.MessageID == "" {
		t.Fatalf("send-file: %d", resp.StatusCode)
	}
	in := recv.message("document")
	d := in["document"].(map[string]any)
	dsum := sha256.Sum256(doc)
	if d["filename"] != "contract.pdf" || d["caption"] != "signed" || d["mime_type"] != "application/pdf" ||
		d["sha256"] != base64.StdEncoding.EncodeToString(dsum[:]) {
		t.Fatalf("document webhook %v", in)
	}
	st, got := graph(t, n, "GET", "/v24.0/"+d["id"].(string), b.AccessToken, nil)
	var info mediaInfo
	if json.Unmarshal(got, &info); st != 200 || info.FileSize != int64(len(doc)) {
		t.Fatalf("GET media %s: %d %s", d["id"], st, got)
	}
	st, h, data := downloadCloud(t, info.URL, b.AccessToken)
	if st != 200 || !bytes.Equal(data, doc) || h.Get("Content-Type") != "application/pdf" {
		t.Fatalf("download: %d %q %q", st, h.Get("Content-Type"), data)
	}
	// Another business cannot see it.
	st, got = graph(t, n, "GET", "/v24.0/"+d["id"].(string), o.AccessToken, nil)
	wantGraphError(t, st, got, 400, 100, 33)
}

// A customer's client learns that an account is a business served by a
// hosted device, with its published profile; other accounts are not.
func TestBusinessCard(t *testing.T) {
	n := startNode(t, app.Config{})
	b := createBusiness(t, n, map[string]any{"verified_name": "Lucky Shrub"})
	person := register(t, n, "+4915100000301")
	if st, body := graph(t, n, "POST", "/v24.0/"+b.PhoneNumberID+"/whatsapp_business_profile", b.AccessToken,
		[]byte(`{"messaging_product":"whatsapp","about":"Succulents since 1999","websites":["https://shrub.example"]}`)); st != 200 {
		t.Fatalf("profile update: %d %s", st, body)
	}
	var card struct {
		Account      string `json:"account"`
		VerifiedName string `json:"verified_name"`
		Hosted       bool   `json:"hosted"`
		Profile      struct {
			About    string   `json:"about"`
			Websites []string `json:"websites"`
		} `json:"profile"`
	}
	if st := call(t, "GET", n.base+"/v1/accounts/"+b.Account+"/business", person.Token, nil, &card); st != 200 {
		t.Fatalf("business card: status %d", st)
	}
	if card.Account != b.Account || card.VerifiedName != "Lucky Shrub" || !card.Hosted || card.Profile.About != "Succulents since 1999" ||
		len(card.Profile.Websites) != 1 {
		t.Fatalf("business card %+v", card)
	}
	var e struct{ Error struct{ Code string } }
	if st := call(t, "GET", n.base+"/v1/accounts/"+person.Account+"/business", person.Token, nil, &e); st != 404 || e.Error.Code != "not_found" {
		t.Fatalf("card of a person: %d %+v", st, e)
	}
	if st := call(t, "GET", n.base+"/v1/accounts/"+b.Account+"/business", "", nil, nil); st != 401 {
		t.Fatalf("card without a token: %d", st)
	}
}

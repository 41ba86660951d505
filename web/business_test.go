package web_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/sdk"
)

// fakeBusiness is a device run by the test harness (the Go SDK with real
// Signal sessions) that sends a business payload, as a hosted business
// device does for the Cloud API, and records what comes back. It lets the
// browser tests check the rendering of business messages and the reply
// button answer without the Cloud API.
type fakeBusiness struct {
	t       *testing.T
	base    string
	phone   string
	m       *sdk.Messenger
	cancel  context.CancelFunc
	mu      sync.Mutex
	replies []json.RawMessage
}

func startFakeBusiness(t *testing.T, base, phone string) (*fakeBusiness, error) {
	ctx := context.Background()
	if _, err := sdk.RequestCode(ctx, base, phone); err != nil {
		return nil, err
	}
	req, _ := http.NewRequest("GET", base+"/admin/v1/otp?phone="+phone[1:], nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	var otp struct {
		Code string `json:"code"`
	}
	err = json.NewDecoder(resp.Body).Decode(&otp)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("otp: %w", err)
	}
	creds, err := sdk.Verify(ctx, base, phone, otp.Code, "business", "test")
	if err != nil {
		return nil, err
	}
	cipher, err := sdk.OpenSignalCipher(sdk.NewClient(*creds), &sdk.MemoryState{}, nil)
	if err != nil {
		return nil, err
	}
	b := &fakeBusiness{t: t, base: base, phone: phone,
		m: sdk.NewMessenger(*creds, sdk.Options{Cipher: cipher, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})}
	rctx, cancel := context.WithCancel(ctx)
	b.cancel = cancel
	go b.m.Run(rctx)
	go b.m.Handle(rctx, func(_ context.Context, ev sdk.Event) error {
		if msg, ok := ev.(*sdk.Message); ok && msg.Err == nil {
			b.mu.Lock()
			b.replies = append(b.replies, append(json.RawMessage(nil), msg.Raw...))
			b.mu.Unlock()
		}
		return nil
	})
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := b.m.WaitConnected(wctx); err != nil {
		return nil, err
	}
	return b, nil
}

// interactive is the Cloud API message object the fake business sends.
const interactive = `{"type":"interactive","interactive":{"type":"button","body":{"text":"Your order has shipped. How was it?"},` +
	`"action":{"buttons":[{"type":"reply","reply":{"id":"good","title":"Great"}},{"type":"reply","reply":{"id":"bad","title":"Not good"}}]}}}`

// send sends msg (a Cloud API message object; the reply buttons above
// when empty) with wamid (wamid.test-1 when empty).
func (b *fakeBusiness) send(ctx context.Context, to, wamid string, msg []byte) error {
	if len(msg) == 0 {
		msg = []byte(interactive)
	}
	if wamid == "" {
		wamid = "wamid.test-1"
	}
	p, _ := json.Marshal(sdk.BusinessPayload{Type: sdk.PayloadBusiness, WAMID: wamid, Message: json.RawMessage(msg)})
	_, err := b.m.Send(ctx, sdk.Outgoing{To: to, Plaintext: p})
	return err
}

func (b *fakeBusiness) received() []json.RawMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]json.RawMessage(nil), b.replies...)
}

// serveBusiness adds the fake business's control endpoints:
// POST /business/start?phone=, POST /business/send?to=[&wamid=] (the body,
// if any, is the Cloud API message object), GET /business/replies.
func serveBusiness(t *testing.T, mux *http.ServeMux, base func() string) (stop func()) {
	var mu sync.Mutex
	var b *fakeBusiness
	mux.HandleFunc("POST /business/start", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		nb, err := startFakeBusiness(t, base(), r.URL.Query().Get("phone"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		b = nb
	})
	mux.HandleFunc("POST /business/send", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if b == nil {
			http.Error(w, "no business started", http.StatusConflict)
			return
		}
		msg, _ := io.ReadAll(r.Body)
		if err := b.send(r.Context(), r.URL.Query().Get("to"), r.URL.Query().Get("wamid"), msg); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /business/replies", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		out := []json.RawMessage{}
		if b != nil {
			out = append(out, b.received()...)
		}
		json.NewEncoder(w).Encode(out)
	})
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if b != nil {
			b.cancel()
		}
	}
}

// cloudBusiness is a real business of the node under test: created
// through the operator API, sending through the Cloud API, with a webhook
// receiver that checks every delivery's signature with the app secret.
type cloudBusiness struct {
	PhoneNumberID string `json:"phone_number_id"`
	AppID         string `json:"app_id"`
	WABAID        string `json:"waba_id"`
	Account       string `json:"account"`
	AccessToken   string `json:"access_token"`
	AppSecret     string `json:"app_secret"`

	mu       sync.Mutex
	messages []json.RawMessage // messages[] and user_preferences[] items of signed webhooks
	bad      int               // deliveries with a bad signature
}

func (b *cloudBusiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == "GET" { // the verification handshake
		if r.URL.Query().Get("hub.verify_token") != "vt-browser" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		io.WriteString(w, r.URL.Query().Get("hub.challenge"))
		return
	}
	body, _ := io.ReadAll(r.Body)
	mac := hmac.New(sha256.New, []byte(b.AppSecret))
	mac.Write(body)
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.Header.Get("X-Hub-Signature-256") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		b.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var n struct {
		Entry []struct {
			Changes []struct {
				Value struct {
					Messages        []json.RawMessage `json:"messages"`
					UserPreferences []json.RawMessage `json:"user_preferences"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	json.Unmarshal(body, &n)
	for _, e := range n.Entry {
		for _, c := range e.Changes {
			b.messages = append(b.messages, c.Value.Messages...)
			b.messages = append(b.messages, c.Value.UserPreferences...)
		}
	}
}

// serveCloud adds the control endpoints of a real business:
// POST /cloud/create (→ {account, phone_number_id, waba_id}), POST /cloud/send
// (a Cloud API message body, sent with the access token; the answer is
// the Graph API's), GET /cloud/webhooks (the signed messages[] items so
// far and the number of badly signed deliveries).
func serveCloud(t *testing.T, mux *http.ServeMux, base func() string) (stop func()) {
	var mu sync.Mutex
	var b *cloudBusiness
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cur := b
		mu.Unlock()
		if cur == nil {
			http.NotFound(w, r)
			return
		}
		cur.ServeHTTP(w, r)
	}))
	post := func(url, token string, body any) (*http.Response, error) {
		raw, _ := json.Marshal(body)
		if s, ok := body.(json.RawMessage); ok {
			raw = s
		}
		req, _ := http.NewRequest("POST", url, bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		return http.DefaultClient.Do(req)
	}
	mux.HandleFunc("POST /cloud/create", func(w http.ResponseWriter, r *http.Request) {
		nb := &cloudBusiness{}
		mu.Lock()
		b = nb // the handshake during creation reaches it
		mu.Unlock()
		resp, err := post(base()+"/admin/v1/businesses", adminToken, map[string]any{
			"name": "Lucky Shrub", "verified_name": "Lucky Shrub", "phone": r.URL.Query().Get("phone"),
			"webhook_url": hooks.URL + "/hook", "verify_token": "vt-browser"})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			raw, _ := io.ReadAll(resp.Body)
			http.Error(w, "create business: "+resp.Status+" "+string(raw), http.StatusInternalServerError)
			return
		}
		if err := json.NewDecoder(resp.Body).Decode(nb); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		handle, err := uploadPicture(base(), nb.AppID, nb.AccessToken)
		if err != nil {
			http.Error(w, "picture: "+err.Error(), http.StatusInternalServerError)
			return
		}
		presp, err := post(base()+"/v24.0/"+nb.PhoneNumberID+"/whatsapp_business_profile", nb.AccessToken, map[string]any{
			"messaging_product": "whatsapp", "about": "Succulents since 1999", "address": "1 Garden Way, Springfield",
			"description": "Plants delivered to your door", "email": "hello@shrub.example", "websites": []string{"https://shrub.example"},
			"profile_picture_handle": handle})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		presp.Body.Close()
		if presp.StatusCode != 200 {
			http.Error(w, "profile: "+presp.Status, http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"account": nb.Account, "phone_number_id": nb.PhoneNumberID, "waba_id": nb.WABAID})
	})
	mux.HandleFunc("POST /cloud/send", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cur := b
		mu.Unlock()
		if cur == nil {
			http.Error(w, "no business created", http.StatusConflict)
			return
		}
		body, _ := io.ReadAll(r.Body)
		resp, err := post(base()+"/v24.0/"+cur.PhoneNumberID+"/messages", cur.AccessToken, json.RawMessage(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	})
	// POST /cloud/graph?method=M&path=/… calls any Cloud API path with the
	// business's token (the body is passed on; the answer is the API's).
	mux.HandleFunc("POST /cloud/graph", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cur := b
		mu.Unlock()
		if cur == nil {
			http.Error(w, "no business created", http.StatusConflict)
			return
		}
		q := r.URL.Query()
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequest(q.Get("method"), base()+"/v24.0"+q.Get("path"), bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+cur.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	})
	// Files the business sends by link (development mode lets the node
	// fetch from loopback addresses).
	mux.HandleFunc("GET /files/shrub.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(tinyPNG)
	})
	mux.HandleFunc("GET /files/menu.pdf", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		io.WriteString(w, "%PDF-1.4 the menu")
	})
	// A video, an audio file and a sticker: the bytes are not real media,
	// the test compares what the browser decrypts with them.
	for path, typ := range map[string]string{"clip.mp4": "video/mp4", "tune.mp3": "audio/mpeg", "wave.webp": "image/webp"} {
		mux.HandleFunc("GET /files/"+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", typ)
			io.WriteString(w, "parley test file "+path)
		})
	}
	mux.HandleFunc("GET /cloud/webhooks", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cur := b
		mu.Unlock()
		out := struct {
			Messages []json.RawMessage `json:"messages"`
			Bad      int               `json:"bad"`
		}{Messages: []json.RawMessage{}}
		if cur != nil {
			cur.mu.Lock()
			out.Messages = append(out.Messages, cur.messages...)
			out.Bad = cur.bad
			cur.mu.Unlock()
		}
		json.NewEncoder(w).Encode(out)
	})
	return hooks.Close
}

// tinyPNG is a 1×1 green PNG.
var tinyPNG, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNg+M8AAAICAQB7CYF4AAAAAElFTkSuQmCC")

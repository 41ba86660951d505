package app_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/app"
)

// batchReceiver accepts batched webhook POSTs: it checks each body's
// signature and that the event-id header names one id per entry, and
// keeps the statuses in the order received. The first POST is slow, so
// that the conversation's next events queue up behind it.
type batchReceiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	posts  []int    // entries per POST
	ids    []string // statuses' message ids in arrival order
	first  sync.Once
}

func (r *batchReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method == "GET" {
		io.WriteString(w, req.URL.Query().Get("hub.challenge"))
		return
	}
	r.first.Do(func() { time.Sleep(500 * time.Millisecond) })
	body, _ := io.ReadAll(req.Body)
	mac := hmac.New(sha256.New, []byte(r.secret))
	mac.Write(body)
	if req.Header.Get("X-Hub-Signature-256") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		r.t.Errorf("batched webhook with a bad signature: %s", body)
	}
	var n struct {
		Entry []struct {
			Changes []struct {
				Value struct {
					Statuses []struct {
						ID string `json:"id"`
					} `json:"statuses"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &n); err != nil || len(n.Entry) == 0 {
		r.t.Errorf("webhook %s: %v", body, err)
	}
	if got := len(strings.Split(req.Header.Get("X-Parley-Event-Id"), ",")); got != len(n.Entry) {
		r.t.Errorf("X-Parley-Event-Id names %d events for %d entries", got, len(n.Entry))
	}
	r.mu.Lock()
	r.posts = append(r.posts, len(n.Entry))
	for _, e := range n.Entry {
		for _, c := range e.Changes {
			for _, s := range c.Value.Statuses {
				r.ids = append(r.ids, s.ID)
			}
		}
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// An app that opts into batched POSTs (max_changes_per_post, a Parley
// extension) gets a conversation's queued changes several to a POST, in
// order and signed; the setting is shown and validated.
func TestWebhookBatchingOptIn(t *testing.T) {
	n := startNode(t, app.Config{})
	recv := &batchReceiver{t: t}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	b := createBusiness(t, n, nil)
	recv.secret = b.AppSecret
	appToken := b.AppID + "|" + b.AppSecret
	sub := func(extra string) (int, []byte) {
		return graph(t, n, "POST", "/v24.0/"+b.AppID+"/subscriptions", appToken,
			[]byte(`{"object":"whatsapp_business_account","callback_url":"`+srv.URL+`/hook","verify_token":"vt","fields":"messages"`+extra+`}`))
	}
	for _, bad := range []string{`,"max_changes_per_post":0`, `,"max_changes_per_post":101`, `,"max_changes_per_post":"many"`} {
		st, body := sub(bad)
		wantGraphError(t, st, body, 400, 100, 0)
	}
	if st, body := sub(`,"max_changes_per_post":10`); st != 200 {
		t.Fatalf("subscribe with batching: %d %s", st, body)
	}
	if st, body := graph(t, n, "GET", "/v24.0/"+b.AppID+"/subscriptions", appToken, nil); st != 200 || !strings.Contains(string(body), `"max_changes_per_post":10`) {
		t.Fatalf("GET subscriptions: %d %s", st, body)
	}

	// Twelve messages to a customer who never wrote: twelve failed
	// statuses (131047) of one conversation.
	var sent []string
	for i := range 12 {
		sent = append(sent, sendCloud(t, n, b, fmt.Sprintf(`{"messaging_product":"whatsapp","to":"4915100000991","type":"text","text":{"body":"m%d"}}`, i)))
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		recv.mu.Lock()
		got := len(recv.ids)
		recv.mu.Unlock()
		if got >= len(sent) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d statuses arrived", got, len(sent))
		}
		time.Sleep(20 * time.Millisecond)
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if strings.Join(recv.ids, ",") != strings.Join(sent, ",") {
		t.Fatalf("statuses arrived as %v, want the send order %v", recv.ids, sent)
	}
	most := 0
	for _, p := range recv.posts {
		most = max(most, p)
		if p > 10 {
			t.Fatalf("a POST with %d entries; the app allows 10", p)
		}
	}
	if most < 2 {
		t.Fatalf("entries per POST %v: no batch although the conversation's events queued behind a slow POST", recv.posts)
	}
}

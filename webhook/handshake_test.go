package webhook_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/webhook"
)

func TestVerifyCallback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method != http.MethodGet || q.Get("hub.mode") != "subscribe" || q.Get("hub.verify_token") != "vt" || q.Get("other") != "kept" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Write([]byte(q.Get("hub.challenge")))
	}))
	defer srv.Close()
	loopback := webhook.NewClient(webhook.ClientOptions{AllowPrivate: true, Timeout: 5 * time.Second})
	if err := webhook.VerifyCallback(t.Context(), loopback, srv.URL+"/hook?other=kept", "vt"); err != nil {
		t.Errorf("handshake with the right token: %v", err)
	}
	err := webhook.VerifyCallback(t.Context(), loopback, srv.URL+"/hook?other=kept", "wrong")
	if !parley.Match(err, parley.EINVALID) || !strings.Contains(parley.ErrorMessage(err), "challenge") {
		t.Errorf("handshake with a wrong token = %v, want EINVALID about the challenge", err)
	}
	guarded := webhook.NewClient(webhook.ClientOptions{Timeout: 5 * time.Second})
	err = webhook.VerifyCallback(t.Context(), guarded, srv.URL+"/hook?other=kept", "vt")
	if !parley.Match(err, parley.EINVALID) || !strings.Contains(parley.ErrorMessage(err), "public") {
		t.Errorf("handshake with a loopback URL without AllowPrivate = %v, want EINVALID about the address", err)
	}
	if err := webhook.VerifyCallback(t.Context(), loopback, "ftp://example.test/", "vt"); !parley.Match(err, parley.EINVALID) {
		t.Errorf("handshake with an ftp URL = %v", err)
	}
}

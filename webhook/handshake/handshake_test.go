package handshake_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/webhook/handshake"
)

func receiver(token string, echo bool) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("hub.mode") != "subscribe" || q.Get("hub.verify_token") != token {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if echo {
			w.Write([]byte(q.Get("hub.challenge")))
		} else {
			w.Write([]byte("nope"))
		}
	}))
}

func TestVerifyCallback(t *testing.T) {
	good := receiver("vt", true)
	defer good.Close()
	wrong := receiver("vt", false)
	defer wrong.Close()
	tests := []struct {
		name    string
		v       handshake.Verifier
		url     string
		token   string
		wantErr bool
		reason  string
	}{
		{"Echoes", handshake.Verifier{AllowPrivate: true}, good.URL + "/hook?keep=1", "vt", false, ""},
		{"WrongToken", handshake.Verifier{AllowPrivate: true}, good.URL, "other", true, parley.ReasonCallbackVerify},
		{"NoEcho", handshake.Verifier{AllowPrivate: true}, wrong.URL, "vt", true, parley.ReasonCallbackVerify},
		{"LoopbackRefused", handshake.Verifier{}, good.URL, "vt", true, ""},
		{"BadScheme", handshake.Verifier{AllowPrivate: true}, "ftp://x/", "vt", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.v.VerifyCallback(t.Context(), tt.url, tt.token)
			if (err != nil) != tt.wantErr {
				t.Fatalf("VerifyCallback = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && parley.ErrorReason(err) != tt.reason {
				t.Errorf("reason = %q, want %q (%v)", parley.ErrorReason(err), tt.reason, err)
			}
		})
	}
}

func TestPrivate(t *testing.T) {
	for ip, want := range map[string]bool{"127.0.0.1": true, "10.1.2.3": true, "192.168.0.1": true, "169.254.169.254": true,
		"100.64.0.1": true, "::1": true, "fd00::1": true, "0.0.0.0": true, "8.8.8.8": false, "2001:4860:4860::8888": false,
		// Ranges the handshake missed before it shared the webhook client's rule.
		"0.1.2.3": true, "192.0.2.1": true, "198.18.0.1": true, "::ffff:127.0.0.1": true, "64:ff9b::a00:1": true} {
		if got := handshake.Private(net.ParseIP(ip)); got != want {
			t.Errorf("Private(%s) = %v, want %v", ip, got, want)
		}
	}
}

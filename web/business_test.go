package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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

func (b *fakeBusiness) send(ctx context.Context, to string) error {
	p, _ := json.Marshal(sdk.BusinessPayload{Type: sdk.PayloadBusiness, WAMID: "wamid.test-1", Message: json.RawMessage(interactive)})
	_, err := b.m.Send(ctx, sdk.Outgoing{To: to, Plaintext: p})
	return err
}

func (b *fakeBusiness) received() []json.RawMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]json.RawMessage(nil), b.replies...)
}

// serveBusiness adds the fake business's control endpoints:
// POST /business/start?phone=, POST /business/send?to=, GET /business/replies.
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
		if err := b.send(r.Context(), r.URL.Query().Get("to")); err != nil {
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

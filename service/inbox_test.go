package service

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func TestAwayDue(t *testing.T) {
	now := time.Date(2026, 1, 2, 20, 0, 0, 0, time.UTC)
	on := &parley.InboxSettings{AwayEnabled: true, Away: "We are closed"}
	off := &parley.InboxSettings{AwayEnabled: false, Away: "We are closed"}
	fresh := &parley.Conversation{}
	recent := &parley.Conversation{AwaySentAt: now.Add(-10 * time.Minute)}
	old := &parley.Conversation{AwaySentAt: now.Add(-AwayInterval)}
	for _, tc := range []struct {
		name string
		open bool
		st   *parley.InboxSettings
		c    *parley.Conversation
		want bool
	}{
		{"closed", false, on, fresh, true},
		{"open", true, on, fresh, false},
		{"disabled", false, off, fresh, false},
		{"sentRecently", false, on, recent, false},
		{"sentAnHourAgo", false, on, old, true},
		{"emptyText", false, &parley.InboxSettings{AwayEnabled: true, Away: "  "}, fresh, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := AwayDue(tc.open, tc.st, tc.c, now); got != tc.want {
				t.Errorf("AwayDue = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPreview(t *testing.T) {
	for _, tc := range []struct {
		typ, obj, want string
	}{
		{"text", `{"body":"hello\n  there"}`, "hello there"},
		{"text", `{"body":"` + strings.Repeat("é", 150) + `"}`, strings.Repeat("é", 100) + "…"},
		{"image", `{"id":"1","caption":"a cat"}`, "[image] a cat"},
		{"image", `{"id":"1"}`, "[image]"},
		{"reaction", `{"message_id":"w","emoji":"👍"}`, "👍"},
		{"template", `{"name":"order_update","language":{"code":"en"}}`, "[template order_update]"},
		{"location", `not json`, "[location]"},
	} {
		if got := preview(tc.typ, json.RawMessage(tc.obj)); got != tc.want {
			t.Errorf("preview(%s, %s) = %q, want %q", tc.typ, tc.obj, got, tc.want)
		}
	}
}

func TestSearchableText(t *testing.T) {
	got := searchableText(content("interactive", json.RawMessage(`{"type":"button_reply","button_reply":{"id":"yes-id","title":"Yes please"}}`)))
	if !strings.Contains(got, "Yes please") || strings.Contains(got, "yes-id") || strings.Contains(got, "button_reply\n") {
		t.Errorf("searchableText = %q: want titles, not ids or types", got)
	}
}

func TestPasswordHash(t *testing.T) {
	h := hashPassword("correct horse battery")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash = %s", h)
	}
	if h == hashPassword("correct horse battery") {
		t.Error("two hashes of one password are equal: no salt")
	}
	if !checkPassword(h, "correct horse battery") || checkPassword(h, "correct horse batterz") {
		t.Error("checkPassword does not tell the right password from a wrong one")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=19456,t=2,p=1$AAAA$AAAA", strings.Replace(h, "m=19456", "m=0", 1), "$argon2id$v=19$m=19456,t=2,p=1$!!$AAAA"} {
		if checkPassword(bad, "correct horse battery") {
			t.Errorf("malformed hash %q matched", bad)
		}
	}
	if validPassword("short") == nil || validPassword(strings.Repeat("x", 300)) == nil || validPassword("long enough!") != nil {
		t.Error("validPassword limits")
	}
}

func TestCSRFToken(t *testing.T) {
	a, b := CSRFToken("session-token-one"), CSRFToken("session-token-two")
	if a == b || a != CSRFToken("session-token-one") || len(a) != 43 {
		t.Errorf("CSRF tokens %q %q", a, b)
	}
	auth := &AgentAuth{Session: &parley.AgentSession{CSRFHash: hashSecret(a)}}
	s := &Inbox{}
	if !s.CheckCSRF(auth, a) || s.CheckCSRF(auth, b) || s.CheckCSRF(auth, "") {
		t.Error("CheckCSRF")
	}
}

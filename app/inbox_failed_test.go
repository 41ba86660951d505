package app_test

import (
	"fmt"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
)

// API sends that fail without being sent (nobody wrote first: 131047)
// are settled by the hosted device together; the inbox still shows each
// of them as every status is reported one by one: a message event
// (accepted) and then a status event (failed, 131047), and the stored
// message and the outbound row are failed.
func TestInboxRecordsFailedAPISends(t *testing.T) {
	n := startNode(t, app.Config{})
	b := createBusiness(t, n, nil)
	agent := signIn(t, n, b.WABAID, "agent")
	ev := agent.events()
	var wamids []string
	for i := range 3 {
		wamids = append(wamids, sendCloud(t, n, b, fmt.Sprintf(`{"messaging_product":"whatsapp","to":"+1650555%04d","type":"text","text":{"body":"order %d"}}`, 7000+i%2, i)))
	}
	for _, w := range wamids {
		if o := waitStatus(t, n, w, parley.OutboundFailed); o.ErrorCode != 131047 {
			t.Fatalf("%s failed with %d, want 131047", w, o.ErrorCode)
		}
	}
	for _, w := range wamids {
		seen := false
		e := waitEvent(t, ev, "the failure of "+w, func(e map[string]any) bool {
			m := msgOf(e)
			if m["id"] != w {
				return false
			}
			if e["type"] == "message" {
				seen = true
				if m["status"] != parley.OutboundAccepted || textOf(m) == "" {
					t.Errorf("message event of %s: %v", w, m)
				}
			}
			return e["type"] == "status"
		})
		if !seen {
			t.Errorf("no message event before the status of %s", w)
		}
		m := msgOf(e)
		if m["status"] != parley.OutboundFailed || m["error_code"] != float64(131047) {
			t.Errorf("status event of %s: %v", w, m)
		}
		var msgs struct {
			Messages []map[string]any `json:"messages"`
		}
		if code := agent.do("GET", "/conversations/"+m["conversation"].(string)+"/messages", nil, &msgs, false); code != 200 {
			t.Fatalf("messages: %d", code)
		}
		found := false
		for _, got := range msgs.Messages {
			if got["id"] == w {
				found = true
				if got["status"] != parley.OutboundFailed || got["error_code"] != float64(131047) {
					t.Errorf("stored %s: %v", w, got)
				}
			}
		}
		if !found {
			t.Errorf("%s not in its conversation: %v", w, msgs.Messages)
		}
	}
}

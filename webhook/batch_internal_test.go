package webhook

import (
	"testing"

	"github.com/parley-chat/parley"
)

func TestEnvelope(t *testing.T) {
	tests := []struct {
		name, body    string
		head, entries string
		ok            bool
	}{
		{"one", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}]}`,
			`{"object":"whatsapp_business_account","entry":[`, `{"id":"1","changes":[]}`, true},
		{"two", `{"object":"o","entry":[{"a":1},{"b":[2]}]}`, `{"object":"o","entry":[`, `{"a":1},{"b":[2]}`, true},
		{"bracketsInStrings", `{"object":"o","entry":[{"t":"]}\"[{"}]}`, `{"object":"o","entry":[`, `{"t":"]}\"[{"}`, true},
		{"memberAfterEntry", `{"object":"o","entry":[{"a":1}],"x":[2]}`, "", "", false},
		{"emptyEntry", `{"object":"o","entry":[]}`, "", "", false},
		{"entryFirst", `{"entry":[{"a":1}],"object":"o"}`, "", "", false},
		{"spaces", `{"object": "o", "entry": [{"a":1}]}`, "", "", false},
		{"escapedObject", `{"object":"o\"","entry":[{"a":1}]}`, "", "", false},
		{"unclosed", `{"object":"o","entry":[{"a":1}`, "", "", false},
		{"trailing", `{"object":"o","entry":[{"a":1}]} `, "", "", false},
		{"notJSON", `hello`, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head, entries, ok := envelope([]byte(tt.body))
			if ok != tt.ok || string(head) != tt.head || string(entries) != tt.entries {
				t.Errorf("envelope(%s) = %q, %q, %v; want %q, %q, %v", tt.body, head, entries, ok, tt.head, tt.entries, tt.ok)
			}
		})
	}
}

func TestBatchLenAndBody(t *testing.T) {
	ev := func(id, body string) parley.WebhookEvent { return parley.WebhookEvent{ID: id, Body: []byte(body)} }
	a := ev("a", `{"object":"o","entry":[{"n":1}]}`)
	b := ev("b", `{"object":"o","entry":[{"n":2}]}`)
	c := ev("c", `{"object":"o","entry":[{"n":"ü"}]}`) // raw UTF-8: batched in its ASCII form
	other := ev("x", `{"object":"p","entry":[{"n":3}]}`)
	plain := ev("y", `{"n":4}`)
	tests := []struct {
		name string
		max  int
		evs  []parley.WebhookEvent
		want int
	}{
		{"optedOut", 0, []parley.WebhookEvent{a, b}, 1},
		{"one", 1, []parley.WebhookEvent{a, b}, 1},
		{"all", 5, []parley.WebhookEvent{a, b, c}, 3},
		{"capped", 2, []parley.WebhookEvent{a, b, c}, 2},
		{"otherObjectEnds", 5, []parley.WebhookEvent{a, b, other, c}, 2},
		{"plainEnds", 5, []parley.WebhookEvent{a, plain, b}, 1},
		{"plainHead", 5, []parley.WebhookEvent{plain, a, b}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := batchLen(tt.max, tt.evs); got != tt.want {
				t.Errorf("batchLen(%d, …) = %d, want %d", tt.max, got, tt.want)
			}
		})
	}
	body, ids := batchBody([]parley.WebhookEvent{a, b, c})
	if want := `{"object":"o","entry":[{"n":1},{"n":2},{"n":"\u00fc"}]}`; string(body) != want || ids != "a,b,c" {
		t.Errorf("batchBody = %s, %q; want %s, a,b,c", body, ids, want)
	}
}

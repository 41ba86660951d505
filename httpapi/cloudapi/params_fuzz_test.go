package cloudapi

import (
	"bytes"
	"net/http/httptest"
	"testing"
)

// FuzzParams feeds arbitrary bodies, as JSON and as forms, to the Graph
// parameter reader; it must never panic, and every parameter must read
// back as a string and a list.
func FuzzParams(f *testing.F) {
	f.Add([]byte(`{"object":"whatsapp_business_account","callback_url":"https://x.example/","verify_token":"v","fields":["messages"]}`), false)
	f.Add([]byte(`object=whatsapp_business_account&fields=messages,message_template_status_update`), true)
	f.Add([]byte(`{"webhook_configuration":{"override_callback_uri":"https://x.example/","verify_token":"v"},"websites":"[\"https://a\"]"}`), false)
	f.Fuzz(func(t *testing.T, b []byte, form bool) {
		req := httptest.NewRequest("POST", "/1234567890123456/subscriptions?fields=a,b", bytes.NewReader(b))
		if form {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		p, err := readParams(httptest.NewRecorder(), req)
		if err != nil {
			return
		}
		for _, name := range []string{"object", "callback_url", "fields", "websites", "webhook_configuration", "name"} {
			p.str(name)
			p.list(name)
			p.raw(name)
			p.has(name)
		}
	})
}

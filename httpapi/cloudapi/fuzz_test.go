package cloudapi_test

import (
	"encoding/json"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi/cloudapi"
)

// Seeds are in testdata/fuzz/<name>/: real Cloud API request bodies.

var fuzzTemplates = func() []*parley.Template {
	var out []*parley.Template
	for _, c := range []string{
		`[{"type":"BODY","text":"Hi {{1}}, order {{2}} shipped."}]`,
		`[{"type":"HEADER","format":"IMAGE"},{"type":"BODY","text":"Hi {{1}}, spend {{2}} by {{3}}."},{"type":"BUTTONS","buttons":[{"type":"URL","url":"https://x.example/{{1}}"},{"type":"QUICK_REPLY","text":"Stop"}]}]`,
	} {
		out = append(out, &parley.Template{Status: parley.TemplateApproved, ParameterFormat: parley.FormatPositional, Components: []byte(c)})
	}
	out = append(out, &parley.Template{Status: parley.TemplateApproved, ParameterFormat: parley.FormatNamed,
		Components: []byte(`[{"type":"BODY","text":"Hi {{first_name}} from {{shop}}."}]`)})
	return out
}()

// FuzzDecodeMessage feeds arbitrary bytes through everything a send body
// meets before the store: decoding, validation, recipient normalization,
// the template check and re-encoding. Nothing may panic, and whatever
// validates must encode and decode again to a message that validates.
func FuzzDecodeMessage(f *testing.F) {
	f.Add([]byte(`{"messaging_product":"whatsapp","to":"+16505551234","type":"text","text":{"body":"hi"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := cloudapi.DecodeMessage(b)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			if parley.ErrorCode(err) == parley.EINTERNAL {
				t.Fatalf("validation failed with an internal error: %v", err)
			}
			return
		}
		if !m.IsRead() {
			parley.NormalizeRecipient(m.To, "4930123456")
		}
		if m.Template != nil {
			for _, tpl := range fuzzTemplates {
				m.Template.CheckTemplate(tpl, nil)
			}
		}
		norm, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("a valid message does not encode: %v", err)
		}
		again, err := cloudapi.DecodeMessage(norm)
		if err != nil {
			t.Fatalf("normalized message does not decode: %v\n%s", err, norm)
		}
		if err := again.Validate(); err != nil {
			t.Fatalf("normalized message does not validate: %v\n%s", err, norm)
		}
	})
}

// FuzzTemplateRequest feeds arbitrary template definitions through
// validation, review and the shape a send is checked against.
func FuzzTemplateRequest(f *testing.F) {
	f.Add([]byte(`{"name":"order_update","language":"en_US","category":"UTILITY","components":[{"type":"BODY","text":"Hi {{1}} there","example":{"body_text":[["Jane"]]}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var req parley.TemplateRequest
		if json.Unmarshal(b, &req) != nil {
			return
		}
		if req.Validate() != nil {
			return
		}
		status, _ := req.Review()
		tpl := &parley.Template{Status: status, Category: req.Category, ParameterFormat: req.ParameterFormat, Components: req.Components}
		if _, err := tpl.Shape(); err != nil {
			t.Fatalf("a valid template has no shape: %v\n%s", err, req.Components)
		}
	})
}

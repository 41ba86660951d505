package cloudapi_test

import (
	"testing"

	"github.com/parley-chat/parley/httpapi/cloudapi"
)

// Graph takes object and array parameters also as strings holding their
// JSON; whatsapp-api-js sends contacts that way.
func TestDecodeMessageJSONStringParameters(t *testing.T) {
	m, err := cloudapi.DecodeMessage([]byte(`{"messaging_product":"whatsapp","to":"16505551234","type":"contacts",` +
		`"contacts":"[{\"name\":{\"formatted_name\":\"J\u00fcrgen M\u00fcller\"},\"phones\":[{\"phone\":\"+49 221 000000\",\"type\":\"WORK\"}]}]"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Contacts) != 1 || m.Contacts[0].Name.FormattedName != "Jürgen Müller" || m.To != "16505551234" {
		t.Fatalf("decoded %+v", m)
	}
	// A string that is not JSON keeps its type error.
	for _, body := range []string{
		`{"messaging_product":"whatsapp","to":"1","type":"contacts","contacts":"Jürgen"}`,
		`{"messaging_product":"whatsapp","to":"1","type":"text","text":"[1,"}`,
		`{"messaging_product":"whatsapp","to":"1","type":"text","text":7}`,
	} {
		if _, err := cloudapi.DecodeMessage([]byte(body)); err == nil {
			t.Errorf("%s decoded", body)
		}
	}
}

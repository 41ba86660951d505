package app_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/app"
)

// Product messages need a catalog, which Parley does not have: a valid
// product or product_list message is refused with Meta's "Unsupported
// message type" envelope saying so, and nothing is queued. A malformed
// one still gets the usual parameter error.
func TestCloudAPIProductMessagesRefused(t *testing.T) {
	n := startNode(t, app.Config{BusinessThroughput: 1000})
	b := createBusiness(t, n, nil)
	msgs := "/v24.0/" + b.PhoneNumberID + "/messages"
	files, _ := filepath.Glob("testdata/cloudapi/refused/interactive_product*.json")
	if len(files) != 2 {
		t.Fatalf("found %d product fixtures", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			st, got := graph(t, n, "POST", msgs, b.AccessToken, fixture(t, "refused/"+name+".json"))
			e := wantGraphError(t, st, got, 400, 131051, 0)
			if !strings.Contains(e.Error.Message, "(#131051) Unsupported message type") ||
				!strings.Contains(e.Error.Data.Details, "need a product catalog; this server has no catalogs") ||
				e.Error.Data.MessagingProduct != "whatsapp" {
				t.Errorf("error = %s", got)
			}
		})
	}
	st, got := graph(t, n, "POST", msgs, b.AccessToken, []byte(`{"messaging_product":"whatsapp","to":"16505551234","type":"interactive",`+
		`"interactive":{"type":"product","action":{"catalog_id":"1"}}}`))
	wantGraphError(t, st, got, 400, 100, 0)
	if q, _ := n.m.Store().NextOutbound(t.Context(), b.PhoneNumberID, 0, 100); len(q) != 0 {
		t.Errorf("queue has %d messages after refused product sends", len(q))
	}
}

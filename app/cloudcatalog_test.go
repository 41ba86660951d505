package app_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
)

// Product catalogs end to end: a business creates a catalog and products
// through the Cloud API (create, update by retailer_id, list, delete);
// another business's token sees neither (100/33, like an unknown id); a
// product and a product_list message naming products of the catalog are
// accepted and the customer receives them with the products' details;
// an unknown catalog, another business's catalog or an unknown product
// is refused with a clear message and nothing is queued.
func TestCloudAPIProductCatalog(t *testing.T) {
	n := startNode(t, app.Config{BusinessThroughput: 1000})
	b := createBusiness(t, n, nil)
	other := createBusiness(t, n, nil)
	c := customer{t: t, n: n, phone: "+4915100000301"}

	var cat struct{ ID string }
	if st := graphJSON(t, n, "POST", "/v24.0/"+b.WABAID+"/product_catalogs", b.AccessToken, `{"name":"Succulents"}`, &cat); st != 200 || !parley.ValidGraphID(cat.ID) {
		t.Fatalf("create catalog: %d %+v", st, cat)
	}
	st, got := graph(t, n, "POST", "/v24.0/"+b.WABAID+"/product_catalogs", b.AccessToken, []byte(`{"name":""}`))
	wantGraphError(t, st, got, 400, 100, 0)
	// Another business can neither create catalogs for this one nor see its catalog.
	st, got = graph(t, n, "POST", "/v24.0/"+b.WABAID+"/product_catalogs", other.AccessToken, []byte(`{"name":"x"}`))
	wantGraphError(t, st, got, 400, 100, 33)
	var cats struct{ Data []map[string]any }
	if st := graphJSON(t, n, "GET", "/v24.0/"+b.WABAID+"/product_catalogs", b.AccessToken, "", &cats); st != 200 || len(cats.Data) != 1 ||
		cats.Data[0]["id"] != cat.ID || cats.Data[0]["name"] != "Succulents" {
		t.Fatalf("list catalogs: %d %+v", st, cats)
	}
	if st := graphJSON(t, n, "GET", "/v24.0/"+other.WABAID+"/product_catalogs", other.AccessToken, "", &cats); st != 200 || len(cats.Data) != 0 {
		t.Fatalf("other business's catalogs: %d %+v", st, cats)
	}
	products := "/v24.0/" + cat.ID + "/products"
	for _, method := range []string{"GET", "POST", "DELETE"} {
		st, got := graph(t, n, method, products+"?retailer_id=aloe-1", other.AccessToken,
			[]byte(`{"retailer_id":"x","name":"x","price":1,"currency":"EUR","url":"https://x.example"}`))
		wantGraphError(t, st, got, 400, 100, 33)
	}

	put := func(body string) string {
		t.Helper()
		var out struct{ ID string }
		if st := graphJSON(t, n, "POST", products, b.AccessToken, body, &out); st != 200 || !parley.ValidGraphID(out.ID) {
			t.Fatalf("put product %s: %d", body, st)
		}
		return out.ID
	}
	aloe := put(`{"retailer_id":"aloe-1","name":"Aloe","description":"Easy care","price":1000,"currency":"eur","url":"https://shop.example/aloe"}`)
	if again := put(`{"retailer_id":"aloe-1","name":"Aloe vera","description":"Easy care","price":1299,"currency":"EUR","url":"https://shop.example/aloe","image_url":"https://shop.example/aloe.jpg"}`); again != aloe {
		t.Errorf("update by retailer_id gave id %s, want %s", again, aloe)
	}
	put(`{"retailer_id":"cactus-1","name":"Cactus","price":750,"currency":"EUR","url":"http://shop.example/cactus","availability":"out of stock"}`)
	put(`{"retailer_id":"gone","name":"Gone","price":1,"currency":"EUR","url":"https://shop.example/gone"}`)
	for _, bad := range []string{
		`{"retailer_id":"x","name":"x","price":1,"currency":"EUR","url":"javascript:alert(1)"}`,
		`{"retailer_id":"x","name":"x","price":-1,"currency":"EUR","url":"https://x.example"}`,
		`{"retailer_id":"x","name":"x","price":1,"currency":"EURO","url":"https://x.example"}`,
		`{"retailer_id":"x","name":"x","price":1,"currency":"EUR","url":"https://x.example","availability":"maybe"}`,
		`{"retailer_id":"","name":"x","price":1,"currency":"EUR","url":"https://x.example"}`,
	} {
		st, got := graph(t, n, "POST", products, b.AccessToken, []byte(bad))
		wantGraphError(t, st, got, 400, 100, 0)
	}
	if st, got := graph(t, n, "DELETE", products+"?retailer_id=gone", b.AccessToken, nil); st != 200 || !strings.Contains(string(got), `"success":true`) {
		t.Fatalf("delete product: %d %s", st, got)
	}
	st, got = graph(t, n, "DELETE", products+"?retailer_id=gone", b.AccessToken, nil)
	wantGraphError(t, st, got, 400, 100, 0)
	var list struct{ Data []map[string]any }
	if st := graphJSON(t, n, "GET", products, b.AccessToken, "", &list); st != 200 || len(list.Data) != 2 {
		t.Fatalf("list products: %d %+v", st, list)
	}
	if p := list.Data[0]; p["id"] != aloe || p["name"] != "Aloe vera" || p["price"] != float64(1299) || p["currency"] != "EUR" ||
		p["availability"] != "in stock" || p["image_url"] != "https://shop.example/aloe.jpg" || list.Data[1]["availability"] != "out of stock" {
		t.Fatalf("products = %+v", list.Data)
	}

	// Sends: refused ones first, then nothing is queued.
	msgs := "/v24.0/" + b.PhoneNumberID + "/messages"
	to := strings.TrimPrefix(c.phone, "+")
	single := func(catalog, sku string) []byte {
		return []byte(fmt.Sprintf(`{"messaging_product":"whatsapp","to":%q,"type":"interactive","interactive":{"type":"product","body":{"text":"Look"},"action":{"catalog_id":%q,"product_retailer_id":%q}}}`, to, catalog, sku))
	}
	var otherCat struct{ ID string }
	graphJSON(t, n, "POST", "/v24.0/"+other.WABAID+"/product_catalogs", other.AccessToken, `{"name":"Theirs"}`, &otherCat)
	for _, bad := range []struct {
		body []byte
		want string
	}{
		{single("1948369870038350", "aloe-1"), "catalog 1948369870038350 does not exist"},
		{single(otherCat.ID, "aloe-1"), "catalog " + otherCat.ID + " does not exist"},
		{single(cat.ID, "gone"), `Product "gone" is not in catalog`},
		{[]byte(fmt.Sprintf(`{"messaging_product":"whatsapp","to":%q,"type":"interactive","interactive":{"type":"product_list","header":{"type":"text","text":"H"},"body":{"text":"B"},"action":{"catalog_id":%q,"sections":[{"title":"A","product_items":[{"product_retailer_id":"aloe-1"},{"product_retailer_id":"nope"}]}]}}}`, to, cat.ID)), `Product "nope"`},
	} {
		st, got := graph(t, n, "POST", msgs, b.AccessToken, bad.body)
		if e := wantGraphError(t, st, got, 400, 100, 0); !strings.Contains(e.Error.Data.Details, bad.want) {
			t.Errorf("refused send: %s, want details with %q", got, bad.want)
		}
	}
	if q, _ := n.m.Store().NextOutbound(t.Context(), b.PhoneNumberID, 0, 100); len(q) != 0 {
		t.Errorf("queue has %d messages after refused product sends", len(q))
	}

	// The customer writes (opening the window); both kinds are delivered
	// with the products' details.
	c.post("/messages", map[string]string{"to": "+" + b.Account, "text": "what do you have?"})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if last, err := n.m.Store().LastInbound(t.Context(), b.PhoneNumberID, to); err == nil && !last.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the business device did not record the customer's message")
		}
		time.Sleep(20 * time.Millisecond)
	}
	w1 := sendCloud(t, n, b, string(single(cat.ID, "aloe-1")))
	w2 := sendCloud(t, n, b, fmt.Sprintf(`{"messaging_product":"whatsapp","to":%q,"type":"interactive","interactive":{"type":"product_list","header":{"type":"text","text":"Our plants"},"body":{"text":"Pick"},"action":{"catalog_id":%q,"sections":[{"title":"Green","product_items":[{"product_retailer_id":"aloe-1"},{"product_retailer_id":"cactus-1"}]}]}}}`, to, cat.ID))
	inbox := c.inbox(2)
	if inbox[0]["id"] != w1 || inbox[0]["type"] != "interactive" || inbox[1]["id"] != w2 {
		t.Fatalf("customer got %v, want %s and %s", inbox, w1, w2)
	}
	var one struct {
		Interactive struct {
			Action struct {
				Product map[string]any `json:"product"`
			} `json:"action"`
		} `json:"interactive"`
	}
	raw, _ := json.Marshal(inbox[0])
	json.Unmarshal(raw, &one)
	if p := one.Interactive.Action.Product; p["name"] != "Aloe vera" || p["description"] != "Easy care" || p["price"] != float64(1299) ||
		p["currency"] != "EUR" || p["url"] != "https://shop.example/aloe" || p["availability"] != "in stock" || p["image_url"] != nil {
		t.Fatalf("product as received: %s", raw)
	}
	var many struct {
		Interactive struct {
			Action struct {
				Sections []struct {
					ProductItems []struct {
						Product map[string]any `json:"product"`
					} `json:"product_items"`
				} `json:"sections"`
			} `json:"action"`
		} `json:"interactive"`
	}
	raw, _ = json.Marshal(inbox[1])
	json.Unmarshal(raw, &many)
	if s := many.Interactive.Action.Sections; len(s) != 1 || len(s[0].ProductItems) != 2 || s[0].ProductItems[0].Product["name"] != "Aloe vera" ||
		s[0].ProductItems[1].Product["name"] != "Cactus" || s[0].ProductItems[1].Product["availability"] != "out of stock" {
		t.Fatalf("product list as received: %s", raw)
	}
	waitStatus(t, n, w2, parley.OutboundDelivered)
}

package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/store/postgres/pgtest"
)

// business is what `parley admin business create --json` prints.
type business struct {
	WABAID        string `json:"waba_id"`
	AppID         string `json:"app_id"`
	AppSecret     string `json:"app_secret"`
	PhoneNumberID string `json:"phone_number_id"`
	Display       string `json:"display_phone_number"`
	Account       string `json:"account"`
	AccessToken   string `json:"access_token"`
	TokenID       string `json:"token_id"`
}

var bizPhone atomic.Int64

func adminToken(t testing.TB, n *node) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(n.m.DataDir(), app.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// createBusiness creates a business through the operator API.
func createBusiness(t testing.TB, n *node, extra map[string]any) business {
	t.Helper()
	req := map[string]any{"name": "Lucky Shrub", "phone": fmt.Sprintf("+1555%07d", 1000000+bizPhone.Add(1))}
	for k, v := range extra {
		req[k] = v
	}
	var b business
	if st := call(t, "POST", n.base+"/admin/v1/businesses", adminToken(t, n), req, &b); st != 200 {
		t.Fatalf("create business: status %d", st)
	}
	if b.AccessToken == "" || !parley.ValidGraphID(b.PhoneNumberID) || !parley.ValidGraphID(b.WABAID) || !parley.ValidGraphID(b.AppID) {
		t.Fatalf("create business = %+v", b)
	}
	return b
}

// graphError is Meta's error envelope.
type graphError struct {
	Error struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		Subcode   int    `json:"error_subcode"`
		FBTraceID string `json:"fbtrace_id"`
		Data      struct {
			MessagingProduct string `json:"messaging_product"`
			Details          string `json:"details"`
		} `json:"error_data"`
	} `json:"error"`
}

// graph calls the Cloud API with a raw body and returns the status and
// the raw answer.
func graph(t testing.TB, n *node, method, path, token string, body []byte) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, _ := http.NewRequest(method, n.base+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "cloudapi", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantGraphError(t *testing.T, status int, body []byte, wantStatus, code, subcode int) graphError {
	t.Helper()
	var e graphError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	if status != wantStatus || e.Error.Code != code || e.Error.Subcode != subcode || e.Error.FBTraceID == "" || e.Error.Message == "" {
		t.Fatalf("got %d %s; want %d with code %d subcode %d", status, body, wantStatus, code, subcode)
	}
	if e.Error.Type != "OAuthException" && e.Error.Type != "GraphMethodException" {
		t.Errorf("type = %q", e.Error.Type)
	}
	return e
}

func createTemplates(t *testing.T, n *node, b business, names ...string) {
	t.Helper()
	for _, name := range names {
		st, body := graph(t, n, "POST", "/v24.0/"+b.WABAID+"/message_templates", b.AccessToken, fixture(t, "templates/"+name+".json"))
		var out struct{ ID, Status, Category string }
		json.Unmarshal(body, &out)
		if st != 200 || out.Status != parley.TemplateApproved || !parley.ValidGraphID(out.ID) {
			t.Fatalf("create template %s: %d %s", name, st, body)
		}
	}
}

// Every message type of the Cloud API is accepted with Meta's success
// shape and lands in the outbound queue, normalized, in order.
func TestCloudAPISendEveryType(t *testing.T) {
	n := startNode(t, app.Config{BusinessThroughput: 1000})
	b := createBusiness(t, n, nil)
	createTemplates(t, n, b, "order_update", "welcome_named", "summer_sale", "otp")
	files, _ := filepath.Glob("testdata/cloudapi/send/*.json")
	if len(files) < 24 {
		t.Fatalf("found %d send fixtures", len(files))
	}
	var wamids []string
	for i, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			body := fixture(t, "send/"+name+".json")
			path := "/v24.0/" + b.PhoneNumberID + "/messages"
			if i%3 == 1 {
				path = "/" + b.PhoneNumberID + "/messages" // unversioned
			} else if i%3 == 2 {
				path = "/v17.0/" + b.PhoneNumberID + "/messages"
			}
			st, got := graph(t, n, "POST", path, b.AccessToken, body)
			if st != 200 {
				t.Fatalf("status %d: %s", st, got)
			}
			if strings.HasPrefix(name, "mark_read") {
				if string(got) != `{"success":true}` {
					t.Fatalf("mark read = %s", got)
				}
				return
			}
			var res struct {
				MessagingProduct string `json:"messaging_product"`
				Contacts         []struct {
					Input string `json:"input"`
					WaID  string `json:"wa_id"`
				} `json:"contacts"`
				Messages []struct {
					ID            string `json:"id"`
					MessageStatus string `json:"message_status"`
				} `json:"messages"`
			}
			if err := json.Unmarshal(got, &res); err != nil {
				t.Fatal(err)
			}
			var req struct{ To string }
			json.Unmarshal(body, &req)
			if res.MessagingProduct != "whatsapp" || len(res.Contacts) != 1 || res.Contacts[0].Input != req.To ||
				res.Contacts[0].WaID != "16505551234" || len(res.Messages) != 1 || !strings.HasPrefix(res.Messages[0].ID, "wamid.") {
				t.Fatalf("response = %s", got)
			}
			wantStatus := ""
			if strings.HasPrefix(name, "template") {
				wantStatus = "accepted"
			}
			if res.Messages[0].MessageStatus != wantStatus {
				t.Errorf("message_status = %q, want %q", res.Messages[0].MessageStatus, wantStatus)
			}
			wamids = append(wamids, res.Messages[0].ID)
			o, err := n.m.Store().Outbound(t.Context(), res.Messages[0].ID)
			if err != nil {
				t.Fatalf("not queued: %v", err)
			}
			var norm map[string]any
			// The number's hosted device may already have handled it (here:
			// failed, as 16505551234 has no account and never wrote).
			if err := json.Unmarshal(o.Body, &norm); err != nil || norm["to"] != "16505551234" || o.To != "16505551234" ||
				(o.Status != parley.OutboundAccepted && o.Status != parley.OutboundFailed) {
				t.Errorf("queued %+v body %s", o, o.Body)
			}
		})
	}
	// The queue holds every accepted message in order, the read receipts
	// included.
	q, err := n.m.Store().NextOutbound(t.Context(), b.PhoneNumberID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != len(files) {
		t.Fatalf("queue has %d messages, want %d", len(q), len(files))
	}
	reads := 0
	for i, o := range q {
		if o.Seq != uint64(i+1) {
			t.Errorf("seq %d at %d", o.Seq, i)
		}
		if o.Type == parley.MessageRead {
			reads++
		}
		if o.Type == parley.MessageTemplate && o.Category == "" {
			t.Errorf("template message without category: %+v", o)
		}
		if strings.Contains(string(o.Body), "order-42|campaign-7") && (o.BizOpaque != "order-42|campaign-7" || o.ContextID == "") {
			t.Errorf("reply lost its context or callback data: %+v", o)
		}
	}
	if reads != 2 {
		t.Errorf("read receipts queued = %d, want 2", reads)
	}
}

// Every validation error answers with Meta's code, subcode and status.
func TestCloudAPIValidationErrors(t *testing.T) {
	n := startNode(t, app.Config{BusinessThroughput: 1000})
	b := createBusiness(t, n, nil)
	createTemplates(t, n, b, "order_update", "welcome_named", "summer_sale")
	msgs := "/v24.0/" + b.PhoneNumberID + "/messages"
	text := func(extra string) string {
		return `{"messaging_product":"whatsapp","to":"16505551234",` + extra + `}`
	}
	tpl := func(name, comps string) string {
		return text(`"type":"template","template":{"name":"` + name + `","language":{"code":"en_US"},"components":` + comps + `}`)
	}
	cases := []struct {
		name, path, body  string
		status, code, sub int
	}{
		{"NoMessagingProduct", msgs, `{"to":"16505551234","type":"text","text":{"body":"x"}}`, 400, 100, 0},
		{"NotJSON", msgs, `{"messaging_product":`, 400, 100, 0},
		{"WrongFieldType", msgs, `{"messaging_product":"whatsapp","to":16505551234,"text":{"body":"x"}}`, 400, 100, 0},
		{"Empty", msgs, ``, 400, 100, 0},
		{"NoTo", msgs, `{"messaging_product":"whatsapp","type":"text","text":{"body":"x"}}`, 400, 100, 0},
		{"BadTo", msgs, text(`"type":"text","text":{"body":"x"},"to":"hello"`), 400, 100, 0},
		{"DoubleZeroTo", msgs, `{"messaging_product":"whatsapp","to":"0016505551234","text":{"body":"x"}}`, 400, 100, 0},
		{"ToSelf", msgs, `{"messaging_product":"whatsapp","to":"+` + b.Account + `","text":{"body":"x"}}`, 400, 131021, 0},
		{"UnknownType", msgs, text(`"type":"poll","poll":{}`), 400, 100, 0},
		{"TypeWithoutObject", msgs, text(`"type":"image"`), 400, 100, 0},
		{"TwoObjects", msgs, text(`"type":"text","text":{"body":"x"},"image":{"id":"1"}`), 400, 100, 0},
		{"EmptyBody", msgs, text(`"type":"text","text":{"body":""}`), 400, 100, 0},
		{"BodyTooLong", msgs, text(`"type":"text","text":{"body":"` + strings.Repeat("a", 4097) + `"}`), 400, 100, 0},
		{"MediaIDAndLink", msgs, text(`"type":"image","image":{"id":"1","link":"https://x.example/a.png"}`), 400, 100, 0},
		{"MediaNeither", msgs, text(`"type":"video","video":{"caption":"x"}`), 400, 100, 0},
		{"BadLink", msgs, text(`"type":"document","document":{"link":"ftp://x/a.pdf"}`), 400, 100, 0},
		{"StickerCaption", msgs, text(`"type":"sticker","sticker":{"id":"1","caption":"x"}`), 400, 100, 0},
		{"LocationNoLat", msgs, text(`"type":"location","location":{"longitude":"1"}`), 400, 100, 0},
		{"LocationOutOfRange", msgs, text(`"type":"location","location":{"latitude":"91","longitude":"1"}`), 400, 100, 0},
		{"ContactNoName", msgs, text(`"type":"contacts","contacts":[{"phones":[{"phone":"+1"}]}]`), 400, 100, 0},
		{"ContactBadBirthday", msgs, text(`"type":"contacts","contacts":[{"name":{"formatted_name":"A"},"birthday":"23.01.1999"}]`), 400, 100, 0},
		{"FourButtons", msgs, text(`"type":"interactive","interactive":{"type":"button","body":{"text":"x"},"action":{"buttons":[` +
			strings.Repeat(`{"type":"reply","reply":{"id":"a","title":"a"}},`, 3) + `{"type":"reply","reply":{"id":"d","title":"d"}}]}}`), 400, 100, 0},
		{"DuplicateButtons", msgs, text(`"type":"interactive","interactive":{"type":"button","body":{"text":"x"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"a"}},{"type":"reply","reply":{"id":"a","title":"b"}}]}}`), 400, 100, 0},
		{"ButtonTitleTooLong", msgs, text(`"type":"interactive","interactive":{"type":"button","body":{"text":"x"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"` + strings.Repeat("t", 21) + `"}}]}}`), 400, 100, 0},
		{"ElevenRows", msgs, text(`"type":"interactive","interactive":{"type":"list","body":{"text":"x"},"action":{"button":"b","sections":[{"rows":[` +
			strings.TrimSuffix(strings.Repeat(`{"id":"ID","title":"t"},`, 11), ",") + `]}]}}`), 400, 100, 0},
		{"ListMediaHeader", msgs, text(`"type":"interactive","interactive":{"type":"list","header":{"type":"image","image":{"id":"1"}},"body":{"text":"x"},"action":{"button":"b","sections":[{"rows":[{"id":"1","title":"t"}]}]}}`), 400, 100, 0},
		{"CTANoURL", msgs, text(`"type":"interactive","interactive":{"type":"cta_url","body":{"text":"x"},"action":{"name":"cta_url","parameters":{"display_text":"Go"}}}`), 400, 100, 0},
		{"ProductListNoHeader", msgs, text(`"type":"interactive","interactive":{"type":"product_list","body":{"text":"x"},"action":{"catalog_id":"1","sections":[{"title":"a","product_items":[{"product_retailer_id":"s"}]}]}}`), 400, 100, 0},
		{"InteractiveUnknown", msgs, text(`"type":"interactive","interactive":{"type":"carousel_x","body":{"text":"x"},"action":{}}`), 400, 100, 0},
		{"ReactionWithContext", msgs, text(`"type":"reaction","context":{"message_id":"wamid.A"},"reaction":{"message_id":"wamid.A","emoji":"x"}`), 400, 100, 0},
		{"ReactionNoMessage", msgs, text(`"type":"reaction","reaction":{"emoji":"x"}`), 400, 100, 0},
		{"OpaqueTooLong", msgs, text(`"type":"text","text":{"body":"x"},"biz_opaque_callback_data":"` + strings.Repeat("o", 513) + `"`), 400, 100, 0},
		{"GroupRecipient", msgs, text(`"recipient_type":"group","type":"text","text":{"body":"x"}`), 400, 131051, 0},
		{"ReadNoMessageID", msgs, `{"messaging_product":"whatsapp","status":"read"}`, 400, 100, 0},
		{"ReadBadStatus", msgs, `{"messaging_product":"whatsapp","status":"delivered","message_id":"wamid.A"}`, 400, 100, 0},
		{"TemplateUnknown", msgs, tpl("no_such_template", `[]`), 404, 132001, 0},
		{"TemplateWrongLanguage", msgs, text(`"type":"template","template":{"name":"order_update","language":{"code":"fr"}}`), 404, 132001, 0},
		{"TemplateTooFewParams", msgs, tpl("order_update", `[{"type":"body","parameters":[{"type":"text","text":"Jane"}]}]`), 400, 132000, 0},
		{"TemplateTooManyParams", msgs, tpl("order_update", `[{"type":"body","parameters":[{"type":"text","text":"a"},{"type":"text","text":"b"},{"type":"text","text":"c"}]}]`), 400, 132000, 0},
		{"TemplateNamedAsPositional", msgs, tpl("welcome_named", `[{"type":"body","parameters":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]`), 400, 132012, 0},
		{"TemplatePositionalAsNamed", msgs, tpl("order_update", `[{"type":"body","parameters":[{"type":"text","parameter_name":"a","text":"a"},{"type":"text","parameter_name":"b","text":"b"}]}]`), 400, 132012, 0},
		{"TemplateTextMissing", msgs, tpl("order_update", `[{"type":"body","parameters":[{"type":"text"},{"type":"text","text":"b"}]}]`), 400, 100, 0},
		{"TemplateBadCurrency", msgs, tpl("order_update", `[{"type":"body","parameters":[{"type":"currency","currency":{"code":"usd"}},{"type":"text","text":"b"}]}]`), 400, 132008, 0},
		{"TemplateMissingMediaHeader", msgs, text(`"type":"template","template":{"name":"summer_sale","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"a"},{"type":"text","text":"b"},{"type":"text","text":"c"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"x"}]}]}`), 400, 132000, 0},
		{"TemplateMissingURLButton", msgs, text(`"type":"template","template":{"name":"summer_sale","language":{"code":"en"},"components":[{"type":"header","parameters":[{"type":"image","image":{"id":"1"}}]},{"type":"body","parameters":[{"type":"text","text":"a"},{"type":"text","text":"b"},{"type":"text","text":"c"}]}]}`), 400, 132000, 0},
		{"TemplateBadIndex", msgs, tpl("order_update", `[{"type":"button","sub_type":"url","index":"x","parameters":[]}]`), 400, 100, 0},
		{"UnknownNumber", "/v24.0/1234567890123456/messages", text(`"text":{"body":"x"}`), 400, 100, 33},
		{"NotAGraphID", "/v24.0/12/messages", text(`"text":{"body":"x"}`), 400, 100, 33},
		{"UnknownEdge", "/v24.0/" + b.PhoneNumberID + "/nothing", ``, 400, 2500, 0},
		{"OversizedBody", msgs, text(`"type":"text","text":{"body":"` + strings.Repeat("a", 300<<10) + `"}`), 400, 100, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" || tc.name == "Empty" {
				body = []byte(tc.body)
			}
			st, got := graph(t, n, "POST", tc.path, b.AccessToken, body)
			e := wantGraphError(t, st, got, tc.status, tc.code, tc.sub)
			if tc.code != 190 && tc.sub != 33 && tc.code != 2500 && e.Error.Data.Details == "" {
				t.Errorf("no error_data.details: %s", got)
			}
		})
	}
	// Nothing invalid reached the queue.
	if q, _ := n.m.Store().NextOutbound(t.Context(), b.PhoneNumberID, 0, 100); len(q) != 0 {
		t.Errorf("queue has %d messages after only invalid sends", len(q))
	}
}

// Tokens: missing, malformed, revoked; the query parameter works; chunked
// bodies and unknown query parameters are fine.
func TestCloudAPIAuth(t *testing.T) {
	n := startNode(t, app.Config{})
	b := createBusiness(t, n, nil)
	msg := fixture(t, "send/text.json")
	path := "/v24.0/" + b.PhoneNumberID + "/messages"
	for _, tc := range []struct {
		name, token string
		sub         int
	}{{"None", "", 0}, {"Garbage", "EAAG-not-a-token", 0}, {"WrongSecret", b.AccessToken[:len(b.AccessToken)-4] + "AAAA", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			st, got := graph(t, n, "POST", path, tc.token, msg)
			wantGraphError(t, st, got, 401, 190, tc.sub)
		})
	}
	t.Run("QueryParameterAndChunked", func(t *testing.T) {
		req, _ := http.NewRequest("POST", n.base+path+"?access_token="+b.AccessToken+"&appsecret_proof=ignored&foo=bar", io.MultiReader(bytes.NewReader(msg)))
		req.ContentLength = -1 // chunked
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || len(resp.TransferEncoding) != 0 && resp.TransferEncoding[0] == "chunked" {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("Revoked", func(t *testing.T) {
		var tok struct {
			AccessToken string `json:"access_token"`
			TokenID     string `json:"token_id"`
		}
		if st := call(t, "POST", n.base+"/admin/v1/businesses/"+b.WABAID+"/tokens", adminToken(t, n), map[string]string{"name": "ci"}, &tok); st != 200 {
			t.Fatalf("create token: %d", st)
		}
		if st, got := graph(t, n, "POST", path, tok.AccessToken, msg); st != 200 {
			t.Fatalf("new token: %d %s", st, got)
		}
		if st := call(t, "POST", n.base+"/admin/v1/tokens/revoke", adminToken(t, n), map[string]string{"token": tok.TokenID}, nil); st != 204 {
			t.Fatalf("revoke: %d", st)
		}
		st, got := graph(t, n, "POST", path, tok.AccessToken, msg)
		wantGraphError(t, st, got, 401, 190, 460)
		if st, _ := graph(t, n, "POST", path, b.AccessToken, msg); st != 200 {
			t.Errorf("the business's other token stopped working: %d", st)
		}
	})
	t.Run("FailuresAreLimited", func(t *testing.T) {
		var last []byte
		var st int
		for range 40 {
			st, last = graph(t, n, "POST", path, "PATffffffffffffffff"+strings.Repeat("x", 43), msg)
		}
		wantGraphError(t, st, last, 400, 4, 0)
	})
}

// The synchronous policy: per-number throughput and the per-recipient
// pair limit with Meta's burst, on a fake clock.
func TestCloudAPIPolicy(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	n := startNode(t, app.Config{Clock: clk})
	b := createBusiness(t, n, map[string]any{"throughput": 5})
	path := "/v24.0/" + b.PhoneNumberID + "/messages"
	send := func(to string) (int, []byte) {
		return graph(t, n, "POST", path, b.AccessToken, []byte(`{"messaging_product":"whatsapp","to":"`+to+`","text":{"body":"x"}}`))
	}
	for i := range 5 {
		if st, got := send(fmt.Sprintf("1650555%04d", i)); st != 200 {
			t.Fatalf("send %d: %d %s", i, st, got)
		}
	}
	st, got := send("16505559999")
	wantGraphError(t, st, got, 400, 130429, 0)
	clk.Add(time.Second)
	if st, got := send("16505559999"); st != 200 {
		t.Fatalf("after a second: %d %s", st, got)
	}

	// Pair limit: 45 in a burst, then one per 6 seconds.
	if st := call(t, "PUT", n.base+"/admin/v1/numbers/"+b.PhoneNumberID+"/throughput", adminToken(t, n), map[string]int{"mps": 1000}, nil); st != 200 {
		t.Fatalf("set throughput: %d", st)
	}
	clk.Add(time.Minute)
	for i := range 45 {
		if st, got := send("4915112345678"); st != 200 {
			t.Fatalf("pair send %d: %d %s", i, st, got)
		}
	}
	st, got = send("4915112345678")
	wantGraphError(t, st, got, 400, 131056, 0)
	if st, _ := send("4915112345679"); st != 200 {
		t.Errorf("another recipient was limited too: %d", st)
	}
	clk.Add(6 * time.Second)
	if st, got := send("4915112345678"); st != 200 {
		t.Errorf("after 6 s: %d %s", st, got)
	}
}

// Templates: create (auto review approves or rejects), list with paging
// and filters and fields, get by id, delete by name and by hsm_id; and a
// node with manual review leaves them PENDING until the operator decides.
func TestCloudAPITemplates(t *testing.T) {
	n := startNode(t, app.Config{})
	b := createBusiness(t, n, nil)
	base := "/v23.0/" + b.WABAID + "/message_templates"
	createTemplates(t, n, b, "order_update", "welcome_named", "summer_sale", "otp")

	st, got := graph(t, n, "POST", base, b.AccessToken, fixture(t, "templates/rejected_promo.json"))
	var created struct{ ID, Status, Category string }
	json.Unmarshal(got, &created)
	if st != 200 || created.Status != parley.TemplateRejected {
		t.Fatalf("promotional utility template: %d %s", st, got)
	}
	for _, tc := range []struct{ name, body string }{
		{"BadName", `{"name":"Order Update","language":"en_US","category":"UTILITY","components":[{"type":"BODY","text":"hi"}]}`},
		{"BadCategory", `{"name":"x","language":"en_US","category":"PROMO","components":[{"type":"BODY","text":"hi"}]}`},
		{"NoExample", `{"name":"x","language":"en_US","category":"UTILITY","components":[{"type":"BODY","text":"Hi {{1}} there"}]}`},
		{"ParamAtEnd", `{"name":"x","language":"en_US","category":"UTILITY","components":[{"type":"BODY","text":"Hi {{1}}","example":{"body_text":[["a"]]}}]}`},
		{"NoBody", `{"name":"x","language":"en_US","category":"UTILITY","components":[{"type":"FOOTER","text":"hi"}]}`},
		{"TooManyURLButtons", `{"name":"x","language":"en_US","category":"MARKETING","components":[{"type":"BODY","text":"hi"},{"type":"BUTTONS","buttons":[{"type":"URL","text":"a","url":"https://a.example"},{"type":"URL","text":"b","url":"https://b.example"},{"type":"URL","text":"c","url":"https://c.example"}]}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, got := graph(t, n, "POST", base, b.AccessToken, []byte(tc.body))
			wantGraphError(t, st, got, 400, 100, 0)
		})
	}
	st, got = graph(t, n, "POST", base, b.AccessToken, fixture(t, "templates/order_update.json"))
	wantGraphError(t, st, got, 400, 100, 2388024)

	// Paging: 5 templates, 2 per page.
	var ids []string
	next := base + "?limit=2&fields=name,status,language&summary=total_count"
	for range 5 {
		st, got := graph(t, n, "GET", next, b.AccessToken, nil)
		var page struct {
			Data []struct {
				ID, Name, Status string
				Components       any
			}
			Paging struct {
				Cursors struct{ Before, After string }
				Next    string
			}
		}
		if err := json.Unmarshal(got, &page); st != 200 || err != nil {
			t.Fatalf("list: %d %s", st, got)
		}
		for _, d := range page.Data {
			if d.Components != nil {
				t.Errorf("fields=name,status returned components")
			}
			ids = append(ids, d.ID)
		}
		if page.Paging.Next == "" {
			break
		}
		next = strings.TrimPrefix(page.Paging.Next, n.base)
	}
	if len(ids) != 5 {
		t.Fatalf("paged through %d templates, want 5", len(ids))
	}
	st, got = graph(t, n, "GET", base+"?status=REJECTED", b.AccessToken, nil)
	if st != 200 || strings.Count(string(got), `"id"`) != 1 || !strings.Contains(string(got), "shipping_notice") {
		t.Errorf("status filter: %d %s", st, got)
	}
	st, got = graph(t, n, "GET", "/v24.0/"+created.ID+"?fields=status,rejected_reason", b.AccessToken, nil)
	if st != 200 || !strings.Contains(string(got), `"rejected_reason":"INCORRECT_CATEGORY"`) {
		t.Errorf("get template: %d %s", st, got)
	}
	// The same through the business's edge (GET /{waba-id}/message_templates/{id}, as Kapso's SDK asks).
	st, got = graph(t, n, "GET", base+"/"+created.ID+"?fields=name,status", b.AccessToken, nil)
	if st != 200 || !strings.Contains(string(got), `"name":"shipping_notice"`) || !strings.Contains(string(got), `"id":"`+created.ID+`"`) {
		t.Errorf("get template by business edge: %d %s", st, got)
	}
	st, got = graph(t, n, "GET", base+"/1234567890123456", b.AccessToken, nil)
	wantGraphError(t, st, got, 400, 100, 33)
	st, got = graph(t, n, "GET", "/v24.0/"+b.PhoneNumberID+"/message_templates/"+created.ID, b.AccessToken, nil)
	wantGraphError(t, st, got, 400, 100, 33)
	// A rejected template cannot be sent.
	st, got = graph(t, n, "POST", "/v24.0/"+b.PhoneNumberID+"/messages", b.AccessToken,
		[]byte(`{"messaging_product":"whatsapp","to":"16505551234","type":"template","template":{"name":"shipping_notice","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"x"}]}]}}`))
	wantGraphError(t, st, got, 404, 132001, 0)

	// Delete by hsm_id, then by name.
	if st, got := graph(t, n, "DELETE", base+"?name=shipping_notice&hsm_id="+created.ID, b.AccessToken, nil); st != 200 || string(got) != `{"success":true}` {
		t.Fatalf("delete by hsm_id: %d %s", st, got)
	}
	if st, got := graph(t, n, "DELETE", base+"?name=order_update", b.AccessToken, nil); st != 200 {
		t.Fatalf("delete by name: %d %s", st, got)
	}
	st, got = graph(t, n, "DELETE", base+"?name=order_update", b.AccessToken, nil)
	wantGraphError(t, st, got, 400, 100, 33)
	st, got = graph(t, n, "POST", "/v24.0/"+b.PhoneNumberID+"/messages", b.AccessToken, fixture(t, "send/template_positional.json"))
	wantGraphError(t, st, got, 404, 132001, 0)

	t.Run("ManualReview", func(t *testing.T) {
		m := startNode(t, app.Config{ManualTemplateReview: true})
		mb := createBusiness(t, m, nil)
		st, got := graph(t, m, "POST", "/v24.0/"+mb.WABAID+"/message_templates", mb.AccessToken, fixture(t, "templates/order_update.json"))
		var c struct{ ID, Status string }
		json.Unmarshal(got, &c)
		if st != 200 || c.Status != parley.TemplatePending {
			t.Fatalf("create: %d %s", st, got)
		}
		st, got = graph(t, m, "POST", "/v24.0/"+mb.PhoneNumberID+"/messages", mb.AccessToken, fixture(t, "send/template_positional.json"))
		wantGraphError(t, st, got, 404, 132001, 0)
		var rev struct{ Status string }
		if st := call(t, "POST", m.base+"/admin/v1/templates/"+c.ID+"/review", adminToken(t, m), map[string]any{"approve": true}, &rev); st != 200 || rev.Status != parley.TemplateApproved {
			t.Fatalf("review: %d %+v", st, rev)
		}
		if st, got := graph(t, m, "POST", "/v24.0/"+mb.PhoneNumberID+"/messages", mb.AccessToken, fixture(t, "send/template_positional.json")); st != 200 {
			t.Errorf("send after approval: %d %s", st, got)
		}
	})
}

// Profile round trip, phone numbers and GET /{id}.
func TestCloudAPIProfileAndNumbers(t *testing.T) {
	n := startNode(t, app.Config{})
	b := createBusiness(t, n, nil)
	prof := "/v24.0/" + b.PhoneNumberID + "/whatsapp_business_profile"
	st, got := graph(t, n, "POST", prof, b.AccessToken, []byte(`{"messaging_product":"whatsapp","about":"Succulent specialists!","address":"1 Hacker Way, Menlo Park, CA 94025","description":"We grow them","email":"lucky@luckyshrub.com","websites":["https://www.luckyshrub.com/"],"vertical":"RETAIL"}`))
	if st != 200 || string(got) != `{"success":true}` {
		t.Fatalf("update profile: %d %s", st, got)
	}
	// Only the fields sent change.
	if st, got := graph(t, n, "POST", prof, b.AccessToken, []byte(`{"messaging_product":"whatsapp","about":"Open 9-5"}`)); st != 200 {
		t.Fatalf("partial update: %d %s", st, got)
	}
	st, got = graph(t, n, "GET", prof+"?fields=about,address,email,websites,vertical", b.AccessToken, nil)
	var p struct {
		Data []map[string]any `json:"data"`
	}
	json.Unmarshal(got, &p)
	if st != 200 || len(p.Data) != 1 || p.Data[0]["about"] != "Open 9-5" || p.Data[0]["email"] != "lucky@luckyshrub.com" ||
		p.Data[0]["vertical"] != "RETAIL" || p.Data[0]["messaging_product"] != "whatsapp" || p.Data[0]["description"] != nil {
		t.Errorf("profile = %d %s", st, got)
	}
	for _, bad := range []string{`{"email":"not an email"}`, `{"vertical":"SPACE"}`, `{"websites":["ftp://x"]}`, `{"about":"` + strings.Repeat("a", 140) + `"}`} {
		st, got := graph(t, n, "POST", prof, b.AccessToken, []byte(bad))
		wantGraphError(t, st, got, 400, 100, 0)
	}
	st, got = graph(t, n, "GET", "/v24.0/"+b.WABAID+"/phone_numbers", b.AccessToken, nil)
	if st != 200 || !strings.Contains(string(got), `"id":"`+b.PhoneNumberID+`"`) || !strings.Contains(string(got), `"platform_type":"CLOUD_API"`) {
		t.Errorf("phone_numbers = %d %s", st, got)
	}
	st, got = graph(t, n, "GET", "/v24.0/"+b.PhoneNumberID, b.AccessToken, nil)
	var num map[string]any
	json.Unmarshal(got, &num)
	if st != 200 || num["id"] != b.PhoneNumberID || num["display_phone_number"] != b.Display || num["quality_rating"] != "GREEN" || len(num) != 4 {
		t.Errorf("GET number = %d %s", st, got)
	}
	st, got = graph(t, n, "GET", "/v24.0/"+b.WABAID+"?fields=id,name,message_template_namespace", b.AccessToken, nil)
	if st != 200 || !strings.Contains(string(got), `"name":"Lucky Shrub"`) || !strings.Contains(string(got), "message_template_namespace") {
		t.Errorf("GET waba = %d %s", st, got)
	}
}

// hub is a webhook receiver answering the verification handshake.
func hub(t *testing.T, token string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method != "GET" || q.Get("hub.mode") != "subscribe" || q.Get("hub.verify_token") != token {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		io.WriteString(w, q.Get("hub.challenge"))
	}))
	t.Cleanup(s.Close)
	return s
}

// Webhook configuration as Meta does it, with the handshake against a
// real loopback receiver (--dev allows loopback).
func TestCloudAPISubscriptions(t *testing.T) {
	n := startNode(t, app.Config{})
	recv := hub(t, "vt-123")
	b := createBusiness(t, n, map[string]any{"webhook_url": recv.URL + "/hook", "verify_token": "vt-123"})
	appToken := b.AppID + "|" + b.AppSecret

	st, got := graph(t, n, "GET", "/v24.0/"+b.AppID+"/subscriptions", appToken, nil)
	if st != 200 || !strings.Contains(string(got), recv.URL+"/hook") || !strings.Contains(string(got), `"name":"messages"`) {
		t.Fatalf("app subscriptions = %d %s", st, got)
	}
	// A wrong verify token fails the handshake: code 2200, nothing stored.
	st, got = graph(t, n, "POST", "/v24.0/"+b.AppID+"/subscriptions", appToken,
		[]byte(`{"object":"whatsapp_business_account","callback_url":"`+recv.URL+`/other","verify_token":"wrong","fields":"messages"}`))
	wantGraphError(t, st, got, 400, 2200, 0)
	// Form-encoded parameters, as some clients send them.
	req, _ := http.NewRequest("POST", n.base+"/v24.0/"+b.AppID+"/subscriptions?access_token="+appToken,
		strings.NewReader("object=whatsapp_business_account&callback_url="+recv.URL+"/v2&verify_token=vt-123&fields=messages,message_template_status_update"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("form subscription: %d", resp.StatusCode)
	}
	// WABA override and per-number override.
	if st, got := graph(t, n, "POST", "/v24.0/"+b.WABAID+"/subscribed_apps", b.AccessToken,
		[]byte(`{"override_callback_uri":"`+recv.URL+`/waba","verify_token":"vt-123"}`)); st != 200 {
		t.Fatalf("subscribed_apps: %d %s", st, got)
	}
	st, got = graph(t, n, "GET", "/v24.0/"+b.WABAID+"/subscribed_apps", b.AccessToken, nil)
	if st != 200 || !strings.Contains(string(got), `"override_callback_uri":"`+recv.URL+`/waba"`) || !strings.Contains(string(got), b.AppID) {
		t.Errorf("GET subscribed_apps = %d %s", st, got)
	}
	if st, got := graph(t, n, "POST", "/v24.0/"+b.PhoneNumberID, b.AccessToken,
		[]byte(`{"webhook_configuration":{"override_callback_uri":"`+recv.URL+`/number","verify_token":"vt-123"}}`)); st != 200 {
		t.Fatalf("number override: %d %s", st, got)
	}
	targets, err := n.m.Business().WebhookTargets(t.Context(), b.WABAID, b.PhoneNumberID)
	if err != nil || len(targets) != 1 || targets[0].URL != recv.URL+"/number" || targets[0].AppSecret != b.AppSecret {
		t.Errorf("WebhookTargets(number) = %+v, %v", targets, err)
	}
	targets, _ = n.m.Business().WebhookTargets(t.Context(), b.WABAID, "")
	if len(targets) != 1 || targets[0].URL != recv.URL+"/waba" {
		t.Errorf("WebhookTargets(business) = %+v", targets)
	}
	st, got = graph(t, n, "GET", "/v24.0/"+b.PhoneNumberID+"?fields=webhook_configuration", b.AccessToken, nil)
	if st != 200 || !strings.Contains(string(got), `"phone_number":"`+recv.URL+`/number"`) || !strings.Contains(string(got), `"application":"`+recv.URL+`/v2"`) {
		t.Errorf("number webhook_configuration = %d %s", st, got)
	}
	if st, _ := graph(t, n, "DELETE", "/v24.0/"+b.WABAID+"/subscribed_apps", b.AccessToken, nil); st != 200 {
		t.Errorf("unsubscribe: %d", st)
	}
	if targets, _ := n.m.Business().WebhookTargets(t.Context(), b.WABAID, ""); len(targets) != 0 {
		t.Errorf("targets after unsubscribe: %+v", targets)
	}
	if st, _ := graph(t, n, "DELETE", "/v24.0/"+b.AppID+"/subscriptions", appToken, nil); st != 200 {
		t.Errorf("delete app subscription: %d", st)
	}
}

// A token of one business can touch nothing of another: every endpoint
// answers as for an unknown id (100/33), and app tokens of one app
// cannot manage another.
func TestCloudAPITenantIsolation(t *testing.T) {
	n := startNode(t, app.Config{})
	a := createBusiness(t, n, nil)
	o := createBusiness(t, n, map[string]any{"name": "Other Shop"})
	createTemplates(t, n, o, "order_update")
	st, got := graph(t, n, "GET", "/v24.0/"+o.WABAID+"/message_templates", o.AccessToken, nil)
	var list struct{ Data []struct{ ID string } }
	json.Unmarshal(got, &list)
	if st != 200 || len(list.Data) != 1 {
		t.Fatalf("owner's list: %d %s", st, got)
	}
	tplID := list.Data[0].ID
	cases := []struct{ method, path, body string }{
		{"POST", "/v24.0/" + o.PhoneNumberID + "/messages", string(fixture(t, "send/text.json"))},
		{"POST", "/v24.0/" + o.PhoneNumberID + "/messages", string(fixture(t, "send/mark_read.json"))},
		{"GET", "/v24.0/" + o.WABAID + "/message_templates", ""},
		{"POST", "/v24.0/" + o.WABAID + "/message_templates", string(fixture(t, "templates/welcome_named.json"))},
		{"DELETE", "/v24.0/" + o.WABAID + "/message_templates?name=order_update", ""},
		{"GET", "/v24.0/" + o.WABAID + "/phone_numbers", ""},
		{"GET", "/v24.0/" + o.PhoneNumberID + "/whatsapp_business_profile", ""},
		{"POST", "/v24.0/" + o.PhoneNumberID + "/whatsapp_business_profile", `{"about":"pwned"}`},
		{"GET", "/v24.0/" + o.PhoneNumberID, ""},
		{"POST", "/v24.0/" + o.PhoneNumberID, `{"webhook_configuration":{"override_callback_uri":"https://evil.example/","verify_token":"x"}}`},
		{"GET", "/v24.0/" + o.WABAID, ""},
		{"GET", "/v24.0/" + tplID, ""},
		{"GET", "/v24.0/" + o.AppID, ""},
		{"GET", "/v24.0/" + o.WABAID + "/subscribed_apps", ""},
		{"POST", "/v24.0/" + o.WABAID + "/subscribed_apps", `{}`},
		{"DELETE", "/v24.0/" + o.WABAID + "/subscribed_apps", ""},
		{"GET", "/v24.0/" + o.AppID + "/subscriptions", ""},
		{"POST", "/v24.0/" + o.AppID + "/subscriptions", `{"object":"whatsapp_business_account","callback_url":"https://evil.example/","verify_token":"x"}`},
		{"DELETE", "/v24.0/" + o.AppID + "/subscriptions", ""},
	}
	for _, token := range []string{a.AccessToken, a.AppID + "|" + a.AppSecret} {
		for _, tc := range cases {
			t.Run(tc.method+strings.ReplaceAll(tc.path, "/", "_"), func(t *testing.T) {
				var body []byte
				if tc.body != "" {
					body = []byte(tc.body)
				}
				st, got := graph(t, n, tc.method, tc.path, token, body)
				wantGraphError(t, st, got, 400, 100, 33)
			})
		}
	}
	// Nothing changed for the owner.
	if q, _ := n.m.Store().NextOutbound(t.Context(), o.PhoneNumberID, 0, 10); len(q) != 0 {
		t.Errorf("the other business's queue has %d messages", len(q))
	}
	if st, got := graph(t, n, "GET", "/v24.0/"+tplID, o.AccessToken, nil); st != 200 {
		t.Errorf("owner lost its template: %d %s", st, got)
	}
	// An app token with a wrong secret is no token at all.
	st, got = graph(t, n, "GET", "/v24.0/"+a.AppID+"/subscriptions", a.AppID+"|wrong", nil)
	wantGraphError(t, st, got, 401, 190, 0)
}

// The Cloud API on PostgreSQL: the same acceptance path and queue.
func TestCloudAPIPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	n := startNode(t, app.Config{Database: dsn, BusinessThroughput: 1000})
	b := createBusiness(t, n, nil)
	createTemplates(t, n, b, "order_update")
	for _, f := range []string{"text", "template_positional", "interactive_list", "mark_read"} {
		if st, got := graph(t, n, "POST", "/v24.0/"+b.PhoneNumberID+"/messages", b.AccessToken, fixture(t, "send/"+f+".json")); st != 200 {
			t.Fatalf("%s: %d %s", f, st, got)
		}
	}
	q, err := n.m.Store().NextOutbound(t.Context(), b.PhoneNumberID, 0, 10)
	if err != nil || len(q) != 4 || q[3].Seq != 4 {
		t.Fatalf("queue = %v, %v", q, err)
	}
}

// The node serves its Cloud API description and a docs page next to the
// API, without a token.
func TestOpenAPIServed(t *testing.T) {
	n := startNode(t, app.Config{})
	st, body := graph(t, n, "GET", "/openapi.json", "", nil)
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if st != 200 || json.Unmarshal(body, &doc) != nil || !strings.HasPrefix(doc.OpenAPI, "3.1.") || doc.Paths["/{phone-number-id}/messages"] == nil {
		t.Fatalf("GET /openapi.json: %d %.200s", st, body)
	}
	st, body = graph(t, n, "GET", "/docs/api", "", nil)
	if st != 200 || !strings.Contains(string(body), "/{phone-number-id}/messages") {
		t.Fatalf("GET /docs/api: %d %.200s", st, body)
	}
}

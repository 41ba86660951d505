package app_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
)

type consentEntryJSON struct {
	ID            string   `json:"id"`
	BusinessID    string   `json:"business_id"`
	Seq           int64    `json:"seq"`
	PhoneNumberID string   `json:"phone_number_id"`
	WaID          string   `json:"wa_id"`
	Action        string   `json:"action"`
	Purposes      []string `json:"purposes"`
	Source        struct {
		Type, ID, Evidence string
	} `json:"source"`
	RecordedAt string `json:"recorded_at"`
	PrevHash   string `json:"prev_hash"`
	Hash       string `json:"hash"`
	Erased     bool   `json:"erased"`
}

type customerConsentJSON struct {
	WaID             string `json:"wa_id"`
	MarketingAllowed bool   `json:"marketing_allowed"`
	States           []struct {
		Purpose, Status string
		Seq             int64
	} `json:"states"`
	History []consentEntryJSON `json:"history"`
}

func recordConsent(t *testing.T, n *node, b business, body string) (int, []byte) {
	t.Helper()
	return graph(t, n, "POST", "/v24.0/"+b.PhoneNumberID+"/consents", b.AccessToken, []byte(body))
}

func customerConsent(t *testing.T, n *node, b business, waID string) customerConsentJSON {
	t.Helper()
	st, body := graph(t, n, "GET", "/v24.0/"+b.PhoneNumberID+"/consents?wa_id="+waID, b.AccessToken, nil)
	var c customerConsentJSON
	if err := json.Unmarshal(body, &c); err != nil || st != 200 {
		t.Fatalf("GET consents: %d %s", st, body)
	}
	return c
}

const marketingTemplate = `{"messaging_product":"whatsapp","to":"WAID","type":"template","template":{"name":"welcome_named","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","parameter_name":"shop","text":"Lucky Shrub"},{"type":"text","parameter_name":"first_name","text":"Pablo"}]}]}}`

// The ledger end to end: marketing templates need a recorded opt-in
// (131050 otherwise, as a failed status webhook); the customer's STOP
// records an opt-out with a user_preferences webhook and suppresses
// marketing again, utility templates still go; START opts in again;
// custom keywords; bad input gets Meta's envelope and writes nothing.
func TestConsentEndToEnd(t *testing.T) {
	n := startNode(t, app.Config{})
	recv := &receiver{t: t}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	b := createBusiness(t, n, map[string]any{"webhook_url": srv.URL + "/hook", "verify_token": "vt-1"})
	recv.secret = b.AppSecret
	const waID = "4915100000401"
	c := customer{t: t, n: n, phone: "+" + waID}
	createTemplates(t, n, b, "welcome_named", "order_update")
	optIn := `{"wa_id":"+49 151 00000401","action":"opt_in","purposes":["Marketing","flight updates"],"source":{"type":"website_form","id":"signup-form","evidence":"form post from 192.0.2.7"}}`

	// A customer without a Parley account cannot be recorded.
	st, body := recordConsent(t, n, b, optIn)
	if e := wantGraphError(t, st, body, 400, 100, 0); !strings.Contains(e.Error.Data.Details, "no Parley account") {
		t.Fatalf("unknown customer: %s", body)
	}
	c.post("/messages", map[string]string{"to": "+" + b.Account, "text": "hello"})
	recv.message("text")

	// Without consent a marketing template fails with 131050, by webhook.
	mk := strings.Replace(marketingTemplate, "WAID", waID, 1)
	w := sendCloud(t, n, b, mk)
	if o := waitStatus(t, n, w, parley.OutboundFailed); o.ErrorCode != 131050 {
		t.Fatalf("marketing without consent failed with %d, want 131050", o.ErrorCode)
	}
	errs := recv.status(w, "failed")["errors"].([]any)[0].(map[string]any)
	if errs["code"] != float64(131050) || errs["title"] != "User has stopped receiving marketing messages" {
		t.Fatalf("failed status errors %v", errs)
	}

	// The business records the opt-in.
	st, body = recordConsent(t, n, b, optIn)
	var e1 consentEntryJSON
	if json.Unmarshal(body, &e1); st != 200 || e1.Seq != 1 || e1.WaID != waID || e1.Action != "opt_in" || len(e1.Hash) != 64 ||
		e1.PrevHash != "" || strings.Join(e1.Purposes, "|") != "flight updates|marketing" || e1.Source.Type != "website_form" ||
		e1.ID != b.WABAID+".1" || e1.PhoneNumberID != b.PhoneNumberID {
		t.Fatalf("record: %d %s", st, body)
	}
	if cc := customerConsent(t, n, b, waID); !cc.MarketingAllowed || len(cc.States) != 2 || len(cc.History) != 1 {
		t.Fatalf("consent after opt-in %+v", cc)
	}
	w = sendCloud(t, n, b, mk)
	waitStatus(t, n, w, parley.OutboundDelivered)

	// STOP: an opt-out by keyword, its webhook, and the message's own.
	c.post("/messages", map[string]string{"to": "+" + b.Account, "text": "  Stop "})
	pref := recv.find("user_preferences stop", "user_preferences", func(m map[string]any) bool { return m["value"] == "stop" })
	if pref["wa_id"] != waID || pref["category"] != "marketing_messages" || pref["detail"] == "" || pref["timestamp"] == nil {
		t.Fatalf("user_preferences item %v", pref)
	}
	recv.find("the STOP message", "messages", func(m map[string]any) bool {
		tx, _ := m["text"].(map[string]any)
		return tx != nil && tx["body"] == "  Stop "
	})
	cc := customerConsent(t, n, b, waID)
	if cc.MarketingAllowed || len(cc.History) != 2 || cc.History[1].Source.Type != "keyword" || cc.History[1].Action != "opt_out" {
		t.Fatalf("consent after STOP %+v", cc)
	}
	// STOP withdraws the named topic too, in the same entry.
	if strings.Join(cc.History[1].Purposes, "|") != "flight updates|marketing" || len(cc.States) != 2 ||
		cc.States[0].Status != "opted_out" || cc.States[1].Status != "opted_out" {
		t.Fatalf("STOP left a topic opted in: %+v", cc)
	}
	w = sendCloud(t, n, b, mk)
	if o := waitStatus(t, n, w, parley.OutboundFailed); o.ErrorCode != 131050 {
		t.Fatalf("marketing after STOP failed with %d, want 131050", o.ErrorCode)
	}
	// A utility template is not blocked.
	u := sendCloud(t, n, b, strings.Replace(string(fixture(t, "send/template_positional.json")), "16505551234", waID, 1))
	waitStatus(t, n, u, parley.OutboundDelivered)

	// A replayed opt-out is refused and writes nothing.
	st, body = recordConsent(t, n, b, `{"wa_id":"`+waID+`","action":"opt_out","purposes":["marketing"],"source":{"type":"api"}}`)
	if e := wantGraphError(t, st, body, 400, 100, 0); !strings.Contains(e.Error.Data.Details, "already opted out") {
		t.Fatalf("replayed opt-out: %s", body)
	}
	// STOP again: nothing new either.
	c.post("/messages", map[string]string{"to": "+" + b.Account, "text": "STOPP"})
	recv.find("the STOPP message", "messages", func(m map[string]any) bool {
		tx, _ := m["text"].(map[string]any)
		return tx != nil && tx["body"] == "STOPP"
	})
	if cc := customerConsent(t, n, b, waID); len(cc.History) != 2 {
		t.Fatalf("history after replays: %d entries, want 2", len(cc.History))
	}

	// START opts in again.
	c.post("/messages", map[string]string{"to": "+" + b.Account, "text": "start"})
	recv.find("user_preferences resume", "user_preferences", func(m map[string]any) bool { return m["value"] == "resume" })
	if cc := customerConsent(t, n, b, waID); !cc.MarketingAllowed || len(cc.History) != 3 ||
		strings.Join(cc.History[2].Purposes, "|") != "marketing" {
		t.Fatalf("consent after START (marketing only) %+v", cc)
	}

	// Custom keywords replace the defaults.
	st, body = graph(t, n, "POST", "/v24.0/"+b.WABAID+"/consent_keywords", b.AccessToken, []byte(`{"stop":["Halt"]}`))
	if st != 200 || !strings.Contains(string(body), `"stop":["halt"]`) || !strings.Contains(string(body), `"start":["start","anmelden"]`) {
		t.Fatalf("set keywords: %d %s", st, body)
	}
	c.post("/messages", map[string]string{"to": "+" + b.Account, "text": "HALT"})
	waitHistory(t, n, b, waID, 4)
	isStop := func(m map[string]any) bool { return m["value"] == "stop" }
	for i := 0; recv.count("user_preferences", isStop) < 2; i++ {
		if i == 1000 {
			t.Fatal("no user_preferences webhook for the HALT opt-out")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The chain verifies.
	st, body = graph(t, n, "GET", "/v24.0/"+b.WABAID+"/consents/verify", b.AccessToken, nil)
	var v struct {
		Valid   bool  `json:"valid"`
		Entries int64 `json:"entries"`
		Head    struct {
			Seq  int64
			Hash string
		}
	}
	if json.Unmarshal(body, &v); st != 200 || !v.Valid || v.Entries != 4 || v.Head.Seq != 4 || len(v.Head.Hash) != 64 {
		t.Fatalf("verify: %d %s", st, body)
	}

	// The whole ledger, paged.
	var page struct {
		Data   []consentEntryJSON `json:"data"`
		Paging struct {
			Cursors struct{ After string } `json:"cursors"`
		} `json:"paging"`
	}
	st, body = graph(t, n, "GET", "/v24.0/"+b.WABAID+"/consents?limit=3", b.AccessToken, nil)
	if json.Unmarshal(body, &page); st != 200 || len(page.Data) != 3 || page.Data[2].Seq != 3 || page.Paging.Cursors.After != "3" ||
		page.Data[1].PrevHash != page.Data[0].Hash {
		t.Fatalf("ledger page: %d %s", st, body)
	}
	page.Data, page.Paging.Cursors.After = nil, ""
	st, body = graph(t, n, "GET", "/v24.0/"+b.WABAID+"/consents?after=3", b.AccessToken, nil)
	if json.Unmarshal(body, &page); st != 200 || len(page.Data) != 1 || page.Data[0].Seq != 4 || page.Paging.Cursors.After != "" {
		t.Fatalf("second ledger page: %d %s", st, body)
	}

	// Bad input and other businesses.
	o := createBusiness(t, n, map[string]any{"name": "Other Shop"})
	for _, c := range []struct {
		name, path, token, body string
		code, sub               int
		details                 string
	}{
		{"InvalidPhone", "/" + b.PhoneNumberID + "/consents", b.AccessToken, `{"wa_id":"12ab","action":"opt_in","purposes":["marketing"],"source":{"type":"api"}}`, 100, 0, "not a valid phone number"},
		{"BadPurpose", "/" + b.PhoneNumberID + "/consents", b.AccessToken, `{"wa_id":"` + waID + `","action":"opt_in","purposes":["!promo"],"source":{"type":"api"}}`, 100, 0, "purpose"},
		{"NoPurpose", "/" + b.PhoneNumberID + "/consents", b.AccessToken, `{"wa_id":"` + waID + `","action":"opt_in","purposes":[],"source":{"type":"api"}}`, 100, 0, "purposes"},
		{"BadAction", "/" + b.PhoneNumberID + "/consents", b.AccessToken, `{"wa_id":"` + waID + `","action":"maybe","purposes":["marketing"],"source":{"type":"api"}}`, 100, 0, "action"},
		{"BadSource", "/" + b.PhoneNumberID + "/consents", b.AccessToken, `{"wa_id":"` + waID + `","action":"opt_in","purposes":["marketing"],"source":{"type":"fax"}}`, 100, 0, "source.type"},
		{"ReservedSource", "/" + b.PhoneNumberID + "/consents", b.AccessToken, `{"wa_id":"` + waID + `","action":"opt_in","purposes":["marketing"],"source":{"type":"erasure"}}`, 100, 0, "reserved"},
		{"NotJSON", "/" + b.PhoneNumberID + "/consents", b.AccessToken, `{"wa_id":`, 100, 0, "not a valid"},
		{"AnotherBusinessNumber", "/" + b.PhoneNumberID + "/consents", o.AccessToken, optIn, 100, 33, ""},
		{"AnotherBusinessVerify", "/" + b.WABAID + "/consents/verify", o.AccessToken, "", 100, 33, ""},
		{"AnotherBusinessLedger", "/" + b.WABAID + "/consents", o.AccessToken, "", 100, 0, "wa_id is required"},
		{"BadLimit", "/" + b.WABAID + "/consents?limit=0", b.AccessToken, "", 100, 0, "limit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			method := "POST"
			var body []byte
			if c.body == "" {
				method = "GET"
			} else {
				body = []byte(c.body)
			}
			st, got := graph(t, n, method, "/v24.0"+c.path, c.token, body)
			e := wantGraphError(t, st, got, 400, c.code, c.sub)
			if c.details != "" && !strings.Contains(e.Error.Data.Details, c.details) {
				t.Errorf("details of %s, want %q in them", got, c.details)
			}
		})
	}
	if cc := customerConsent(t, n, b, waID); len(cc.History) != 4 {
		t.Fatalf("bad input wrote entries: %d, want 4", len(cc.History))
	}
	if got := recv.count("user_preferences", isStop); got != 2 {
		t.Fatalf("%d stop webhooks, want 2: a repeated STOP must not report again", got)
	}
	if st, got := graph(t, n, "GET", "/v24.0/"+b.PhoneNumberID+"/consents?wa_id="+waID, o.AccessToken, nil); st != 400 {
		t.Fatalf("another business read the consents: %d %s", st, got)
	}
}

func waitHistory(t *testing.T, n *node, b business, waID string, want int) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if len(customerConsent(t, n, b, waID).History) >= want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("history of %s did not reach %d entries", waID, want)
}

// count returns how many items of list match.
func (r *receiver) count(list string, match func(map[string]any) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, v := range r.values {
		items, _ := v[list].([]any)
		for _, it := range items {
			if m, ok := it.(map[string]any); ok && match(m) {
				n++
			}
		}
	}
	return n
}

// GDPR: a person exports what is stored about them (Art. 15) and erases
// their business data (Art. 17): consents are withdrawn, personal fields
// erased, the chain still verifies and marketing stays suppressed; the
// operator does the same for any number.
func TestConsentExportAndErase(t *testing.T) {
	n := startNode(t, app.Config{})
	b := createBusiness(t, n, nil)
	person := register(t, n, "+4915100000402")
	st, body := recordConsent(t, n, b, `{"wa_id":"`+person.Account+`","action":"opt_in","purposes":["marketing"],"source":{"type":"qr","id":"poster-7","evidence":"scanned at the shop"}}`)
	if st != 200 {
		t.Fatalf("record: %d %s", st, body)
	}
	type export struct {
		Account struct {
			ID string `json:"id"`
		} `json:"account"`
		Devices  []map[string]any   `json:"devices"`
		Consents []consentEntryJSON `json:"consents"`
		Business struct {
			Messages []map[string]any `json:"messages"`
			Windows  []map[string]any `json:"windows"`
			Inbox    []struct {
				Conversation map[string]any `json:"conversation"`
				Messages     []struct {
					Direction string          `json:"direction"`
					Content   json.RawMessage `json:"content"`
				} `json:"messages"`
			} `json:"inbox"`
		} `json:"business"`
	}
	var x export
	if st := call(t, "GET", n.base+"/v1/me/export", person.Token, nil, &x); st != 200 {
		t.Fatalf("export: %d", st)
	}
	if x.Account.ID != person.Account || len(x.Devices) != 1 || len(x.Consents) != 1 || x.Consents[0].WaID != person.Account ||
		x.Consents[0].Source.Evidence != "scanned at the shop" {
		t.Fatalf("export %+v", x)
	}
	if st := call(t, "GET", n.base+"/v1/me/export", "", nil, nil); st != 401 {
		t.Fatalf("export without a token: %d", st)
	}
	var er struct {
		Withdrawn int `json:"consents_withdrawn"`
		Erased    int `json:"consent_entries_erased"`
	}
	if st := call(t, "POST", n.base+"/v1/me/business-data/erase", person.Token, nil, &er); st != 200 || er.Withdrawn != 1 || er.Erased != 2 {
		t.Fatalf("erase: %d %+v; want 1 consent withdrawn and 2 entries erased", st, er)
	}
	x = export{}
	if st := call(t, "GET", n.base+"/v1/me/export", person.Token, nil, &x); st != 200 || len(x.Consents) != 2 {
		t.Fatalf("export after erasure: %d %+v", st, x)
	}
	for _, e := range x.Consents {
		if e.WaID != "" || e.Source.Evidence != "" || !e.Erased {
			t.Errorf("entry after erasure %+v: want wa_id and evidence erased", e)
		}
	}
	if x.Consents[1].Action != "opt_out" || x.Consents[1].Source.Type != "erasure" || x.Consents[0].Source.ID != "poster-7" {
		t.Errorf("entries after erasure %+v: want the opt-in kept and a withdrawal", x.Consents)
	}
	if cc := customerConsent(t, n, b, person.Account); cc.MarketingAllowed || len(cc.History) != 2 {
		t.Fatalf("the business's view after erasure %+v", cc)
	}
	st, body = graph(t, n, "GET", "/v24.0/"+b.WABAID+"/consents/verify", b.AccessToken, nil)
	if st != 200 || !strings.Contains(string(body), `"valid":true`) {
		t.Fatalf("verify after erasure: %d %s", st, body)
	}

	// The operator, for a sandbox customer with business records.
	c := customer{t: t, n: n, phone: "+4915100000403"}
	c.post("/messages", map[string]string{"to": "+" + b.Account, "text": "hello"})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st := call(t, "GET", n.base+"/admin/v1/customers/4915100000403/export", adminToken(t, n), nil, &x); st != 200 {
			t.Fatalf("operator export: %d", st)
		}
		if len(x.Business.Messages) == 1 && len(x.Business.Windows) == 1 && len(x.Business.Inbox) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("operator export %+v: want the customer's message link and window", x)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if x.Business.Messages[0]["direction"] != "from_customer" || x.Business.Windows[0]["phone_number_id"] != b.PhoneNumberID {
		t.Fatalf("business records %+v", x.Business)
	}
	// The business inbox's copy of the conversation, opened from its seal.
	if in := x.Business.Inbox[0]; in.Conversation["phone_number_id"] != b.PhoneNumberID || len(in.Messages) != 1 ||
		in.Messages[0].Direction != "in" || !strings.Contains(string(in.Messages[0].Content), `"body":"hello"`) {
		t.Fatalf("inbox in the export %+v", x.Business.Inbox)
	}
	var er2 struct {
		Records int `json:"business_records_deleted"`
	}
	// Message link, window, the inbox's message and its conversation.
	if st := call(t, "POST", n.base+"/admin/v1/customers/4915100000403/erase", adminToken(t, n), nil, &er2); st != 200 || er2.Records != 4 {
		t.Fatalf("operator erase: %d %+v", st, er2)
	}
	x = export{}
	call(t, "GET", n.base+"/admin/v1/customers/4915100000403/export", adminToken(t, n), nil, &x)
	if len(x.Business.Messages)+len(x.Business.Windows)+len(x.Business.Inbox) != 0 {
		t.Fatalf("after the operator's erasure %+v", x.Business)
	}
	convs, err := n.m.Store().Conversations(t.Context(), parley.ConversationFilter{Business: b.WABAID})
	if err != nil || len(convs) != 0 {
		t.Fatalf("the business inbox after erasure: %d conversations (%v)", len(convs), err)
	}
	if st := call(t, "POST", n.base+"/admin/v1/customers/4915100000499/erase", adminToken(t, n), nil, nil); st != 404 {
		t.Fatalf("erase of an unknown number: %d, want 404", st)
	}
}

// The marketing switch of a customer's client: an encrypted consent
// payload to the business that its hosted device records (source
// client_switch) and reports as user_preferences, without a message
// webhook of its own.
func TestConsentClientSwitch(t *testing.T) {
	n := startNode(t, app.Config{})
	recv := &receiver{t: t}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	b := createBusiness(t, n, map[string]any{"webhook_url": srv.URL + "/hook", "verify_token": "vt-1"})
	recv.secret = b.AppSecret
	const waID = "4915100000404"
	c := customer{t: t, n: n, phone: "+" + waID}
	c.post("/messages", map[string]string{"to": "+" + b.Account, "text": "hi"})
	recv.message("text")
	if st, body := recordConsent(t, n, b, `{"wa_id":"`+waID+`","action":"opt_in","purposes":["marketing"],"source":{"type":"in_chat"}}`); st != 200 {
		t.Fatalf("record: %d %s", st, body)
	}
	switchTo := func(on bool) {
		t.Helper()
		if st := call(t, "POST", n.base+"/admin/v1/customers/"+waID+"/marketing", adminToken(t, n),
			map[string]any{"to": "+" + b.Account, "marketing": on}, nil); st != 200 {
			t.Fatalf("marketing switch: status %d", st)
		}
	}
	switchTo(false)
	p := recv.find("user_preferences stop", "user_preferences", func(m map[string]any) bool { return m["value"] == "stop" })
	if p["wa_id"] != waID {
		t.Fatalf("user_preferences %v", p)
	}
	waitHistory(t, n, b, waID, 2)
	cc := customerConsent(t, n, b, waID)
	if cc.MarketingAllowed || cc.History[1].Source.Type != "client_switch" || cc.History[1].Action != "opt_out" {
		t.Fatalf("after the switch %+v", cc)
	}
	switchTo(true)
	recv.find("user_preferences resume", "user_preferences", func(m map[string]any) bool { return m["value"] == "resume" })
	waitHistory(t, n, b, waID, 3)
	if !customerConsent(t, n, b, waID).MarketingAllowed {
		t.Fatal("marketing not allowed after the switch went on")
	}
	if got := recv.count("messages", func(m map[string]any) bool { return m["type"] != "text" }); got != 0 {
		t.Fatalf("the switch produced %d message webhooks", got)
	}

	// A switch is not a message: it does not open the service window.
	const other = "4915100000405"
	if st := call(t, "POST", n.base+"/admin/v1/customers/"+other+"/marketing", adminToken(t, n),
		map[string]any{"to": "+" + b.Account, "marketing": false}, nil); st != 200 {
		t.Fatalf("marketing switch: status %d", st)
	}
	waitHistory(t, n, b, other, 1)
	if last, err := n.m.Store().LastInbound(t.Context(), b.PhoneNumberID, other); err != nil || !last.IsZero() {
		t.Fatalf("the switch opened the window: %v, %v", last, err)
	}
}

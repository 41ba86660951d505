package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parley-chat/parley/app/apptest"
	"github.com/parley-chat/parley/examples/cloudapi"
)

func post(t *testing.T, url string, body string) (int, map[string]string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]string
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("answer %s: %v", raw, err)
	}
	return resp.StatusCode, out
}

func event(id, parcel, phone, status, detail string) string {
	b, _ := json.Marshal(Event{ID: id, Parcel: parcel, Phone: phone, Name: "Jane", Status: status, Detail: detail})
	return string(b)
}

// bodyText is the body text of a received template, parameters filled in.
func bodyText(t *testing.T, m map[string]any) (name, text string) {
	t.Helper()
	tpl, _ := m["template"].(map[string]any)
	name, _ = tpl["name"].(string)
	comps, _ := tpl["components"].([]any)
	for _, c := range comps {
		c, _ := c.(map[string]any)
		if c["type"] != "body" {
			continue
		}
		text, _ = c["text"].(string)
		params, _ := c["parameters"].([]any)
		for i, p := range params {
			p, _ := p.(map[string]any)
			v, _ := p["text"].(string)
			text = strings.ReplaceAll(text, "{{"+string(rune('1'+i))+"}}", v)
		}
	}
	return name, text
}

// A carrier's scans become template messages on the customer's device,
// in order; a retried event and a late scan send nothing; bad events
// get a clear answer.
func TestParcelUpdates(t *testing.T) {
	node := apptest.Start(t)
	biz := node.CreateBusiness("Lucky Shrub", nil)
	customer := node.Customer(apptest.Phone())

	n := &Notifier{API: &cloudapi.Client{BaseURL: node.Base + "/v24.0", Token: biz.AccessToken,
		PhoneNumberID: biz.PhoneNumberID, WABAID: biz.WABAID}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := n.Setup(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := n.Setup(t.Context()); err != nil { // a restart finds the templates
		t.Fatalf("second setup: %v", err)
	}
	srv := httptest.NewServer(n)
	defer srv.Close()

	const parcel = "JJD0003900071"
	steps := []struct {
		body    string
		status  int
		sent    bool
		skipped string
	}{
		{event("e1", parcel, customer.Phone, Accepted, ""), 200, true, ""},
		{event("e1", parcel, customer.Phone, Accepted, ""), 200, false, "duplicate event"},
		{event("e2", parcel, customer.Phone, OutForDelivery, "today between 14:00 and 16:00"), 200, true, ""},
		{event("e3", parcel, customer.Phone, Delivered, "left with a neighbour"), 200, true, ""},
		{event("e4", parcel, customer.Phone, OutForDelivery, "tomorrow"), 200, false, "the customer already has a later status"},
	}
	var wamids []string
	for i, s := range steps {
		st, out := post(t, srv.URL, s.body)
		if st != s.status || (out["wamid"] != "") != (s.sent || s.skipped == "duplicate event") || out["skipped"] != s.skipped {
			t.Fatalf("step %d: %d %v", i, st, out)
		}
		if s.sent {
			if !strings.HasPrefix(out["wamid"], "wamid.") {
				t.Fatalf("step %d: wamid %q", i, out["wamid"])
			}
			wamids = append(wamids, out["wamid"])
		}
	}

	got := customer.WaitInbox(3)
	if len(got) != 3 {
		t.Fatalf("customer received %d messages, want 3: %v", len(got), got)
	}
	want := []struct{ name, text string }{
		{"parcel_accepted", "Hi Jane, the carrier has your parcel " + parcel + ". We will tell you when it is on its way."},
		{"parcel_out_for_delivery", "Your parcel " + parcel + " is out for delivery and should arrive today between 14:00 and 16:00."},
		{"parcel_delivered", "Your parcel " + parcel + " was delivered: left with a neighbour. Enjoy your plants!"},
	}
	for i, m := range got {
		name, text := bodyText(t, m)
		if m["id"] != wamids[i] || m["type"] != "template" || name != want[i].name || text != want[i].text {
			t.Errorf("message %d = %v (%q, %q), want %s %q %q", i, m, name, text, wamids[i], want[i].name, want[i].text)
		}
		if m["from"] != strings.TrimPrefix(biz.Display, "+") && !strings.HasSuffix(biz.Display, m["from"].(string)) {
			t.Errorf("message %d from %v, want the shop %s", i, m["from"], biz.Display)
		}
	}

	bad := []struct{ body, want string }{
		{`{"event_id":"x","parcel":"P1","phone":"015112345678","status":"accepted"}`, "E.164"},
		{`{"event_id":"x","parcel":"P1","phone":"+4915112345678","status":"lost"}`, "not one of"},
		{`{"event_id":"x","parcel":"P1","phone":"+4915112345678","status":"accepted","colour":"red"}`, "unknown field"},
		{`not json`, "JSON"},
	}
	for _, b := range bad {
		if st, out := post(t, srv.URL, b.body); st != 400 || !strings.Contains(out["error"], b.want) {
			t.Errorf("%s: %d %v, want 400 mentioning %q", b.body, st, out, b.want)
		}
	}
	// A number without a Parley account: the send is accepted (like Meta's,
	// the failure comes as a status), a bad token is refused at once.
	n.API.Token = "wrong"
	if st, out := post(t, srv.URL, event("e9", "P2", customer.Phone, Accepted, "")); st != 422 || !strings.Contains(out["error"], "code 190") {
		t.Errorf("bad token: %d %v, want 422 with Meta's code 190", st, out)
	}
	if got := customer.Inbox(); len(got) != 3 {
		t.Errorf("customer has %d messages after the failures, want 3", len(got))
	}
}

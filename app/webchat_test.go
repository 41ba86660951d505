package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/bus/natstest"
	"github.com/parley-chat/parley/sdk"
	"github.com/parley-chat/parley/store/postgres/pgtest"
)

const shopOrigin = "https://shop.example"

// visitor is a browser on a business's website using the chat widget.
type visitor struct {
	t      testing.TB
	n      *node
	phone  string // the business number's digits
	origin string
	token  string
	id     string
	addr   string
}

// do calls the visitor API and returns the status and headers.
func (v *visitor) do(method, path string, body any, out any) (int, http.Header) {
	v.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, v.n.base+"/webchat/v1/"+v.phone+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if v.origin != "" {
		req.Header.Set("Origin", v.origin)
	}
	if v.token != "" {
		req.Header.Set("Authorization", "Bearer "+v.token)
	}
	if v.addr != "" {
		req.Header.Set("X-Forwarded-For", v.addr)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			v.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode, resp.Header
}

func newVisitor(t testing.TB, n *node, phone string) *visitor {
	t.Helper()
	v := &visitor{t: t, n: n, phone: phone, origin: shopOrigin}
	var s struct {
		VisitorID string `json:"visitor_id"`
		Token     string `json:"token"`
	}
	if st, h := v.do("POST", "/sessions", nil, &s); st != 201 || h.Get("Access-Control-Allow-Origin") != shopOrigin || s.Token == "" || s.VisitorID == "" {
		t.Fatalf("POST sessions: %d %v %+v", st, h, s)
	}
	v.token, v.id = s.Token, s.VisitorID
	return v
}

// events opens the visitor's live stream as the widget does (fetch with
// the Authorization header) and returns the message views.
func (v *visitor) events() <-chan map[string]any {
	v.t.Helper()
	req, _ := http.NewRequest("GET", v.n.base+"/webchat/v1/"+v.phone+"/events", nil)
	req.Header.Set("Origin", v.origin)
	req.Header.Set("Authorization", "Bearer "+v.token)
	ctx, cancel := contextWithCancel(v.t)
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		v.t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Access-Control-Allow-Origin") != v.origin {
		v.t.Fatalf("visitor events: %d %v", resp.StatusCode, resp.Header)
	}
	return readEvents(v.t, resp, cancel, "the visitor's stream")
}

type webMessages struct {
	Messages []map[string]any `json:"messages"`
	Moved    bool             `json:"moved"`
}

// A visitor chats on the business's website: sessions need an allowed
// Origin (CORS), messages land in the inbox as a "web" conversation
// (sealed at rest) and reach agents live; an agent's reply (and never a
// note) reaches the visitor live and in the timeline; a token of one
// business is worthless at another; bad input is refused; limits hold.
func TestWebChat(t *testing.T) {
	n := startNode(t, app.Config{})
	b := createBusiness(t, n, nil)
	other := createBusiness(t, n, nil)
	owner := signIn(t, n, b.WABAID, "owner")
	agent := signIn(t, n, b.WABAID, "agent")
	stranger := signIn(t, n, other.WABAID, "owner")

	// Before any origin is allowed, nobody may chat.
	anon := &visitor{t: t, n: n, phone: b.Account, origin: shopOrigin}
	if st, h := anon.do("POST", "/sessions", nil, nil); st != 403 || h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("session before origins are set: %d, ACAO %q", st, h.Get("Access-Control-Allow-Origin"))
	}
	var origins struct {
		Origins []string `json:"origins"`
	}
	if st := agent.do("PUT", "/webchat", map[string]any{"origins": []string{shopOrigin}}, nil, true); st != 403 {
		t.Fatalf("PUT webchat as agent: %d, want 403", st)
	}
	if st := owner.do("PUT", "/webchat", map[string]any{"origins": []string{"http://shop.example"}}, nil, true); st != 400 {
		t.Fatalf("PUT webchat with plain http: %d, want 400", st)
	}
	if st := owner.do("PUT", "/webchat", map[string]any{"origins": []string{"https://Shop.Example/"}}, &origins, true); st != 200 || len(origins.Origins) != 1 || origins.Origins[0] != shopOrigin {
		t.Fatalf("PUT webchat: %d %v", st, origins)
	}
	if st := agent.do("GET", "/webchat", nil, &origins, false); st != 200 || origins.Origins[0] != shopOrigin {
		t.Fatalf("GET webchat: %d %v", st, origins)
	}
	// The operator allows the same site for the other business.
	if st := call(t, "PUT", n.base+"/admin/v1/businesses/"+other.WABAID+"/webchat", adminToken(t, n), map[string]any{"origins": []string{shopOrigin}}, nil); st != 200 {
		t.Fatalf("operator PUT webchat: %d", st)
	}

	// CORS: no Origin, another origin, an unknown number.
	for _, c := range []struct {
		what, phone, origin string
		want                int
	}{
		{"no Origin", b.Account, "", 403},
		{"another website", b.Account, "https://evil.example", 403},
		{"an unknown number", "4915100009999", shopOrigin, 404},
	} {
		x := &visitor{t: t, n: n, phone: c.phone, origin: c.origin}
		if st, h := x.do("POST", "/sessions", nil, nil); st != c.want || h.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("session from %s: %d (ACAO %q), want %d", c.what, st, h.Get("Access-Control-Allow-Origin"), c.want)
		}
	}
	pre, _ := http.NewRequest("OPTIONS", n.base+"/webchat/v1/"+b.Account+"/messages", nil)
	pre.Header.Set("Origin", shopOrigin)
	pre.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(pre)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != shopOrigin || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	pre.Header.Set("Origin", "https://evil.example")
	if resp, err = http.DefaultClient.Do(pre); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from another website: %d %v", resp.StatusCode, resp.Header)
	}

	// The visitor writes; agents see a web conversation live.
	evA := agent.events()
	evS := stranger.events()
	v := newVisitor(t, n, b.Account)
	var sent map[string]any
	if st, _ := v.do("POST", "/messages", map[string]string{"text": "  hello from the website <script>x</script> "}, &sent); st != 201 || sent["from"] != "visitor" || sent["text"] != "hello from the website <script>x</script>" {
		t.Fatalf("POST messages: %d %v", st, sent)
	}
	ev := waitEvent(t, evA, "visitor message", func(ev map[string]any) bool {
		return ev["type"] == "message" && msgOf(ev)["direction"] == "in"
	})
	conv := ev["conversation"].(map[string]any)
	convID := conv["id"].(string)
	if conv["channel"] != "web" || conv["customer"] != "web:"+v.id || conv["window_open"] != true || textOf(msgOf(ev)) != "hello from the website <script>x</script>" {
		t.Fatalf("agent event: %v", ev)
	}
	var list struct {
		Conversations []map[string]any `json:"conversations"`
	}
	if st := agent.do("GET", "/conversations", nil, &list, false); st != 200 || len(list.Conversations) != 1 || list.Conversations[0]["channel"] != "web" {
		t.Fatalf("GET conversations: %d %v", st, list)
	}
	ms, err := n.m.Store().RecentInboxMessages(t.Context(), b.WABAID, 10)
	if err != nil || len(ms) == 0 || bytes.Contains(ms[0].Sealed, []byte("hello")) {
		t.Fatalf("visitor message at rest: %v %v", ms, err)
	}

	// The agent notes and replies; the visitor gets the reply only.
	evV := v.events()
	if st := agent.do("POST", "/conversations/"+convID+"/notes", map[string]string{"text": "internal: VIP"}, nil, true); st != 200 {
		t.Fatalf("note: %d", st)
	}
	if st := agent.do("POST", "/conversations/"+convID+"/messages", map[string]any{"template": map[string]any{"name": "x", "language": map[string]string{"code": "en"}}}, nil, true); st != 400 {
		t.Fatalf("template to a visitor: %d, want 400", st)
	}
	var reply map[string]any
	if st := agent.do("POST", "/conversations/"+convID+"/messages", map[string]string{"text": "Hi! How can we help?"}, &reply, true); st != 200 || reply["direction"] != "out" || reply["status"] != "sent" {
		t.Fatalf("reply: %d %v", st, reply)
	}
	got := waitEvent(t, evV, "reply at the visitor", func(map[string]any) bool { return true })
	if got["from"] != "business" || got["text"] != "Hi! How can we help?" || got["id"] != reply["id"] {
		t.Fatalf("visitor event %v (the note must never come)", got)
	}
	if st := agent.do("POST", "/conversations/"+convID+"/read", nil, nil, true); st != 200 {
		t.Fatalf("mark read: %d", st)
	}
	var wm webMessages
	if st, _ := v.do("GET", "/messages?after=0", nil, &wm); st != 200 || len(wm.Messages) != 2 || wm.Messages[0]["text"] != "hello from the website <script>x</script>" ||
		wm.Messages[1]["text"] != "Hi! How can we help?" || wm.Moved {
		t.Fatalf("GET messages: %d %v", st, wm)
	}
	last := int64(wm.Messages[1]["created_at"].(float64))
	if st, _ := v.do("GET", "/messages?after="+itoa(last+1), nil, &wm); st != 200 || len(wm.Messages) != 0 {
		t.Fatalf("GET messages after the last: %d %v", st, wm)
	}

	// Tenant isolation: the token is worthless at another business, and
	// the other business's agents do not see the conversation.
	v2 := *v
	v2.phone = other.Account
	if st, _ := v2.do("GET", "/messages", nil, nil); st != 401 {
		t.Fatalf("token at another business: %d, want 401", st)
	}
	if st, _ := v2.do("POST", "/messages", map[string]string{"text": "x"}, nil); st != 401 {
		t.Fatalf("send with a token of another business: %d, want 401", st)
	}
	if st := stranger.do("GET", "/conversations/"+convID, nil, nil, false); st != 404 {
		t.Fatalf("another business's agent reads the conversation: %d", st)
	}
	select {
	case ev := <-evS:
		t.Fatalf("another business's agent got an event: %v", ev)
	case <-time.After(200 * time.Millisecond):
	}

	// Bad input.
	bad := *v
	bad.token = "not-a-token-of-anyone-at-all"
	for _, c := range []struct {
		what   string
		v      *visitor
		method string
		path   string
		body   any
		want   int
	}{
		{"a wrong token", &bad, "GET", "/messages", nil, 401},
		{"no token", &visitor{t: t, n: n, phone: b.Account, origin: shopOrigin}, "GET", "/messages", nil, 401},
		{"an empty text", v, "POST", "/messages", map[string]string{"text": "  "}, 400},
		{"a long text", v, "POST", "/messages", map[string]string{"text": strings.Repeat("x", 2001)}, 413},
		{"unknown fields", v, "POST", "/messages", map[string]string{"text": "x", "to": "123"}, 400},
		{"a bad after", v, "GET", "/messages?after=yesterday", nil, 400},
		{"a bad phone", v, "POST", "/handoff", map[string]string{"phone": "call me"}, 400},
		{"the business's own number", v, "POST", "/handoff", map[string]string{"phone": "+" + b.Account}, 400},
	} {
		if st, _ := c.v.do(c.method, c.path, c.body, nil); st != c.want {
			t.Errorf("%s: %d, want %d", c.what, st, c.want)
		}
	}

	// Rate limits: per visitor, then per address.
	r := newVisitor(t, n, b.Account)
	for i := range 20 {
		if st, _ := r.do("POST", "/messages", map[string]string{"text": "spam " + itoa(int64(i))}, nil); st != 201 {
			t.Fatalf("message %d: %d", i, st)
		}
	}
	if st, h := r.do("POST", "/messages", map[string]string{"text": "one too many"}, nil); st != 429 || h.Get("Retry-After") == "" {
		t.Fatalf("21st message in a minute: %d %v, want 429", st, h)
	}
	for i := 0; ; i++ {
		st, _ := (&visitor{t: t, n: n, phone: b.Account, origin: shopOrigin}).do("POST", "/sessions", nil, nil)
		if st == 429 {
			if i < 15 {
				t.Fatalf("sessions limited after %d", i)
			}
			break
		}
		if st != 201 || i > 30 {
			t.Fatalf("session %d: %d (no limit?)", i, st)
		}
	}
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// A visitor moves the chat to the messenger: the number they give gets
// nothing; a messenger message with the handoff reference from another
// number changes nothing; the message from the given number links the
// conversations (history visible to agents, the web conversation marked
// moved) and records the opt-in, once.
func TestWebChatHandoff(t *testing.T) {
	n := startNode(t, app.Config{})
	b := createBusiness(t, n, nil)
	if st := call(t, "PUT", n.base+"/admin/v1/businesses/"+b.WABAID+"/webchat", adminToken(t, n), map[string]any{"origins": []string{shopOrigin}}, nil); st != 200 {
		t.Fatalf("operator PUT webchat: %d", st)
	}
	agent := signIn(t, n, b.WABAID, "agent")
	evA := agent.events()
	v := newVisitor(t, n, b.Account)
	if st, _ := v.do("POST", "/messages", map[string]string{"text": "I'd rather continue in the app"}, nil); st != 201 {
		t.Fatalf("send: %d", st)
	}
	webConv := waitEvent(t, evA, "visitor message", func(ev map[string]any) bool { return ev["type"] == "message" })["conversation"].(map[string]any)["id"].(string)

	cust := sdkCustomer(t, n, "+4915100000801")
	intruder := sdkCustomer(t, n, "+4915100000802")
	var ho struct {
		Link      string `json:"link"`
		Ref       string `json:"ref"`
		ExpiresAt int64  `json:"expires_at"`
	}
	if st, _ := v.do("POST", "/handoff", map[string]string{"phone": "+49 151 00000801", "text": "Weiter im Chat"}, &ho); st != 200 || !strings.HasPrefix(ho.Ref, "webchat-") {
		t.Fatalf("handoff: %d %+v", st, ho)
	}
	u, err := url.Parse(ho.Link)
	if err != nil || u.Path != "/c/"+b.Account || u.Query().Get("ref") != ho.Ref || u.Query().Get("src") != "website_button" || u.Query().Get("text") != "Weiter im Chat" {
		t.Fatalf("handoff link %q", ho.Link)
	}
	ref := &sdk.Referral{SourceType: sdk.ReferralWebsiteButton, SourceID: ho.Ref, SourceURL: shopOrigin + "/", Body: "Weiter im Chat"}

	// Someone else with the link: an ordinary message, nothing linked.
	if _, err := intruder.Send(t.Context(), sdk.Outgoing{To: b.Account, Plaintext: sdk.TextReferralPayload("Weiter im Chat", ref)}); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, evA, "intruder's message", func(ev map[string]any) bool {
		c, _ := ev["conversation"].(map[string]any)
		return ev["type"] == "message" && c["customer"] == "4915100000802"
	})
	var wc map[string]any
	if agent.do("GET", "/conversations/"+webConv, nil, &wc, false); wc["moved_to"] != nil {
		t.Fatalf("another number's message moved the chat: %v", wc)
	}

	// The number's owner writes with the reference.
	if _, err := cust.Send(t.Context(), sdk.Outgoing{To: b.Account, Plaintext: sdk.TextReferralPayload("Weiter im Chat", ref)}); err != nil {
		t.Fatal(err)
	}
	note := waitEvent(t, evA, "the move's note", func(ev map[string]any) bool {
		c, _ := ev["conversation"].(map[string]any)
		return ev["type"] == "message" && msgOf(ev)["direction"] == "note" && c["customer"] == "4915100000801"
	})
	mc := note["conversation"].(map[string]any)
	if mc["moved_from"] != webConv || mc["channel"] != "messenger" {
		t.Fatalf("messenger conversation %v", mc)
	}
	if agent.do("GET", "/conversations/"+webConv, nil, &wc, false); wc["moved_to"] != mc["id"] {
		t.Fatalf("web conversation %v, want moved_to %v", wc, mc["id"])
	}
	// The web history stays readable by agents.
	var hist struct {
		Messages []map[string]any `json:"messages"`
	}
	if st := agent.do("GET", "/conversations/"+webConv+"/messages", nil, &hist, false); st != 200 || len(hist.Messages) < 2 {
		t.Fatalf("web history: %d %v", st, hist)
	}
	var wm webMessages
	if v.do("GET", "/messages", nil, &wm); !wm.Moved {
		t.Fatalf("the visitor is not told the chat moved: %v", wm)
	}
	// The opt-in is in the ledger, with its evidence.
	es, err := n.m.Store().ConsentEntries(t.Context(), b.WABAID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var opt []parley.ConsentEntry
	for _, e := range es {
		if e.Action == parley.ConsentOptIn {
			opt = append(opt, e)
		}
	}
	if len(opt) != 1 || opt[0].Customer != "4915100000801" || opt[0].Source.Type != parley.SourceWebsiteForm ||
		!strings.Contains(opt[0].Source.Evidence, webConv) || !strings.Contains(opt[0].Source.Evidence, "wamid.") {
		t.Fatalf("consent entries %+v", opt)
	}
	// The reference is used up: a second message with it records nothing.
	if _, err := cust.Send(t.Context(), sdk.Outgoing{To: b.Account, Plaintext: sdk.TextReferralPayload("again", ref)}); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, evA, "second message", func(ev map[string]any) bool { return ev["type"] == "message" && textOf(msgOf(ev)) == "again" })
	if st, _ := v.do("POST", "/handoff", map[string]string{"phone": "+4915100000801"}, nil); st != 409 {
		t.Fatalf("handoff after moving: %d, want 409", st)
	}
	es, _ = n.m.Store().ConsentEntries(t.Context(), b.WABAID, 0, 100)
	if len(es) != len(opt) {
		t.Fatalf("%d consent entries after reusing the reference, want %d", len(es), len(opt))
	}
	// The customer's data export (GDPR Art. 15) includes the website chat.
	data, err := n.m.Inbox().CustomerData(t.Context(), "4915100000801")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ci := range data {
		if ci.Conversation.ID == webConv && ci.Conversation.Channel == "web" && len(ci.Messages) > 0 {
			found = strings.Contains(string(ci.Messages[0].Content), "I'd rather continue in the app")
		}
	}
	if !found {
		t.Fatalf("the export lacks the website chat: %d conversations", len(data))
	}
}

// Two nodes sharing PostgreSQL and NATS: a visitor connected to node b
// gets the reply an agent sends on node a; a token made on one node
// works on the other.
func TestWebChatTwoNodes(t *testing.T) {
	natsURL, dsn, key := natstest.URL(t), pgtest.DSN(t), sharedKey(t)
	na := startNode(t, app.Config{Database: dsn, NATS: natsURL, Node: "webchat-a", AtRestKeyFile: key})
	nb := startNode(t, app.Config{Database: dsn, NATS: natsURL, Node: "webchat-b", AtRestKeyFile: key})
	b := createBusiness(t, na, nil)
	if st := call(t, "PUT", na.base+"/admin/v1/businesses/"+b.WABAID+"/webchat", adminToken(t, na), map[string]any{"origins": []string{shopOrigin}}, nil); st != 200 {
		t.Fatalf("operator PUT webchat: %d", st)
	}
	agent := signIn(t, na, b.WABAID, "agent")
	evA := agent.events()
	v := newVisitor(t, na, b.Account)
	onB := *v
	onB.n = nb
	evV := onB.events()
	if st, _ := onB.do("POST", "/messages", map[string]string{"text": "hello from node b"}, nil); st != 201 {
		t.Fatalf("send on node b: %d", st)
	}
	ev := waitEvent(t, evA, "visitor message on node a", func(ev map[string]any) bool { return textOf(msgOf(ev)) == "hello from node b" })
	convID := ev["conversation"].(map[string]any)["id"].(string)
	if st := agent.do("POST", "/conversations/"+convID+"/messages", map[string]string{"text": "answered on node a"}, nil, true); st != 200 {
		t.Fatalf("reply: %d", st)
	}
	mine := waitEvent(t, evV, "own message on node b", func(map[string]any) bool { return true })
	if mine["text"] != "hello from node b" || mine["from"] != "visitor" {
		t.Fatalf("visitor's first event %v, want its own message (another tab shows it too)", mine)
	}
	got := waitEvent(t, evV, "reply on node b", func(map[string]any) bool { return true })
	if got["text"] != "answered on node a" || got["from"] != "business" {
		t.Fatalf("visitor on node b got %v", got)
	}
}

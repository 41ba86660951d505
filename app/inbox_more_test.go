package app_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/app"
)

// totp computes an RFC 6238 code (SHA-1, 6 digits) of a base32 secret
// at time step step, independently of the server's code.
func totp(t *testing.T, secret string, step int64) string {
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	s := mac.Sum(nil)
	o := s[19] & 15
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(s[o:o+4])&0x7fffffff)%1_000_000)
}

// Two-factor sign-in: enrol, confirm, then the password alone is not
// enough, a code works once, and the operator can clear it.
func TestInboxTOTP(t *testing.T) {
	n := startNode(t, app.Config{})
	b := createBusiness(t, n, nil)
	email, pw := addAgent(t, n, b.WABAID, "agent")
	a := newAgentClient(t, n)
	if a.login(email, pw) != 200 {
		t.Fatal("login")
	}
	var setup map[string]string
	if code := a.do("POST", "/totp", nil, &setup, true); code != 200 || !strings.HasPrefix(setup["otpauth_url"], "otpauth://totp/") {
		t.Fatalf("begin totp: %d %v", code, setup)
	}
	step := time.Now().Unix() / 30
	if code := a.do("POST", "/totp/confirm", map[string]string{"code": "000000"}, nil, true); code != 400 && totp(t, setup["secret"], step) != "000000" {
		t.Fatalf("confirm with a wrong code: %d, want 400", code)
	}
	if code := a.do("POST", "/totp/confirm", map[string]string{"code": totp(t, setup["secret"], step)}, nil, true); code != 204 {
		t.Fatalf("confirm: %d", code)
	}
	var me map[string]any
	a.do("GET", "/me", nil, &me, false)
	if me["agent"].(map[string]any)["totp"] != true {
		t.Fatalf("me after confirm: %v", me)
	}
	b2 := newAgentClient(t, n)
	if code := b2.login(email, pw); code != 401 {
		t.Fatalf("login without a code: %d, want 401", code)
	}
	login := func(code string) int {
		var out map[string]any
		return b2.do("POST", "/login", map[string]string{"email": email, "password": pw, "code": code}, &out, false)
	}
	if code := login(totp(t, setup["secret"], step)); code != 401 {
		t.Fatalf("login with the code already used: %d, want 401", code)
	}
	if code := login(totp(t, setup["secret"], step+1)); code != 200 {
		t.Fatalf("login with the next code: %d", code)
	}
	// The operator clears a lost authenticator.
	if st := call(t, "PUT", n.base+"/admin/v1/businesses/"+b.WABAID+"/agents/"+email+"/password", adminToken(t, n),
		map[string]any{"password": pw, "clear_totp": true}, nil); st != 204 {
		t.Fatalf("reset: %d", st)
	}
	if code := newAgentClient(t, n).login(email, pw); code != 200 {
		t.Fatalf("login after clearing TOTP: %d", code)
	}
}

// The away message goes out when the business is closed, once per
// conversation per hour; the opening hours of the business's profile
// decide (here: published hours that are never open).
func TestInboxAwayMessage(t *testing.T) {
	n := startNode(t, app.Config{})
	b := createBusiness(t, n, nil)
	closed := `{"messaging_product":"whatsapp","opening_hours":{"time_zone":"Europe/Berlin","weekly":{}}}`
	if st, body := graph(t, n, "POST", "/v24.0/"+b.PhoneNumberID+"/whatsapp_business_profile", b.AccessToken, []byte(closed)); st != 200 {
		t.Fatalf("set opening hours: %d %s", st, body)
	}
	owner := signIn(t, n, b.WABAID, "owner")
	if code := owner.do("PUT", "/settings", map[string]any{"away_enabled": true, "away": "Closed, {{name}}; back at 9.", "version": 0}, nil, true); code != 200 {
		t.Fatalf("settings: %d", code)
	}
	if code := owner.do("PUT", "/settings", map[string]any{"away_enabled": true, "away": strings.Repeat("x", 5000), "version": 1}, nil, true); code != 413 {
		t.Fatalf("oversized away message: %d, want 413", code)
	}
	ev := owner.events()
	c := customer{t: t, n: n, phone: "+4915100000721"}
	for i := range 3 {
		text := fmt.Sprintf("are you open? %d", i)
		c.post("/messages", map[string]string{"to": "+" + b.Account, "text": text})
		waitEvent(t, ev, text, func(e map[string]any) bool { return textOf(msgOf(e)) == text })
	}
	got := c.inbox(1)[0]
	if tx, _ := got["text"].(map[string]any); tx["body"] != "Closed, +4915100000721; back at 9." {
		t.Fatalf("customer received %v, want the away message", got)
	}
	// The device handles a number's events in order: by the third message's
	// event the first two were handled, and only one away message was sent.
	q, err := n.m.Store().NextOutbound(t.Context(), b.PhoneNumberID, 0, 10)
	if err != nil || len(q) != 1 {
		t.Fatalf("outbound queue = %d messages (%v), want the one away message", len(q), err)
	}
}

// A node with open event streams shuts down at once: the streams end
// (browsers reconnect elsewhere) instead of holding the shutdown up.
func TestInboxStreamsEndOnShutdown(t *testing.T) {
	n := startNode(t, app.Config{})
	b := createBusiness(t, n, nil)
	ev := signIn(t, n, b.WABAID, "agent").events()
	start := time.Now()
	n.stop()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("shutdown took %v with an event stream open", d)
	}
	select {
	case _, ok := <-ev:
		if ok {
			t.Fatal("an event instead of the end of the stream")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the event stream did not end")
	}
}

// Owners and admins manage the team through the inbox API, within their
// role; an agent reacts to a customer's message with a Cloud API message
// object, and the customer receives the reaction.
func TestInboxTeamAndReactions(t *testing.T) {
	n := startNode(t, app.Config{})
	b := createBusiness(t, n, nil)
	owner := signIn(t, n, b.WABAID, "owner")
	admin := signIn(t, n, b.WABAID, "admin")
	var ag map[string]any
	if code := admin.do("POST", "/agents", map[string]any{"email": "new@shop.example", "role": "owner", "password": "long enough pw"}, nil, true); code != 403 {
		t.Fatalf("admin adds an owner: %d, want 403", code)
	}
	if code := admin.do("POST", "/agents", map[string]any{"email": "new@shop.example", "role": "agent", "password": "long enough pw"}, &ag, true); code != 200 {
		t.Fatalf("admin adds an agent: %d %v", code, ag)
	}
	agent := newAgentClient(t, n)
	if code := agent.login("new@shop.example", "long enough pw"); code != 200 {
		t.Fatalf("new agent login: %d", code)
	}
	if code := agent.do("POST", "/agents", map[string]any{"email": "x@shop.example", "role": "agent", "password": "long enough pw"}, nil, true); code != 403 {
		t.Fatalf("agent adds an agent: %d, want 403", code)
	}
	if code := admin.do("DELETE", "/agents/"+owner.me["id"].(string), nil, nil, true); code != 403 {
		t.Fatalf("admin removes the owner: %d, want 403", code)
	}
	if code := owner.do("DELETE", "/agents/"+owner.me["id"].(string), nil, nil, true); code != 400 {
		t.Fatalf("owner removes itself: %d, want 400", code)
	}

	ev := agent.events()
	c := customer{t: t, n: n, phone: "+4915100000731"}
	mid := c.post("/messages", map[string]string{"to": "+" + b.Account, "text": "is the red one in stock?"})
	e := waitEvent(t, ev, "customer message", func(e map[string]any) bool { return msgOf(e)["direction"] == "in" })
	conv, wamid := e["conversation"].(map[string]any)["id"].(string), msgOf(e)["id"].(string)
	if mid == "" || wamid == "" {
		t.Fatalf("ids %q %q", mid, wamid)
	}
	var out map[string]any
	if code := agent.do("POST", "/conversations/"+conv+"/messages", map[string]any{"message": map[string]any{"type": "reaction",
		"reaction": map[string]string{"message_id": wamid, "emoji": "👍"}}}, &out, true); code != 200 {
		t.Fatalf("react: %d %v", code, out)
	}
	if code := agent.do("POST", "/conversations/"+conv+"/messages", map[string]any{"message": map[string]any{"type": "text"}}, &out, true); code != 400 {
		t.Fatalf("invalid message object: %d, want 400", code)
	}
	got := c.inbox(1)[0]
	if got["type"] != "reaction" || got["reaction"].(map[string]any)["emoji"] != "👍" {
		t.Fatalf("customer received %v, want the reaction", got)
	}
	// The owner removes the agent: its session ends with it.
	if code := owner.do("DELETE", "/agents/"+ag["id"].(string), nil, nil, true); code != 204 {
		t.Fatalf("owner removes the agent: %d", code)
	}
	if code := agent.do("GET", "/me", nil, nil, false); code != 401 {
		t.Fatalf("removed agent's session: %d, want 401", code)
	}
}

// Media in the inbox: an agent uploads a picture and sends it; the
// customer receives those bytes; the customer sends a document, which
// the agent downloads (as an inert attachment); another business's agent
// cannot.
func TestInboxMedia(t *testing.T) {
	n := startNode(t, app.Config{})
	b := createBusiness(t, n, nil)
	agent := signIn(t, n, b.WABAID, "agent")
	stranger := signIn(t, n, createBusiness(t, n, nil).WABAID, "agent")
	ev := agent.events()
	c := customer{t: t, n: n, phone: "+4915100000741"}
	c.post("/messages", map[string]string{"to": "+" + b.Account, "text": "photo please"})
	conv := waitEvent(t, ev, "customer message", func(e map[string]any) bool { return msgOf(e)["direction"] == "in" })["conversation"].(map[string]any)["id"].(string)

	img := bytes.Repeat([]byte("\x89PNG-agent-image"), 1000)
	upload := func(a *agentClient) (int, map[string]any) {
		req, _ := http.NewRequest("POST", n.base+"/business/api/conversations/"+conv+"/media?filename=shoe.png", bytes.NewReader(img))
		req.Header.Set("Content-Type", "image/png")
		req.Header.Set("X-CSRF-Token", a.csrf)
		resp, err := a.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if code, _ := upload(stranger); code != 404 {
		t.Fatalf("stranger uploads into the conversation: %d, want 404", code)
	}
	code, up := upload(agent)
	if code != 200 || up["size"] != float64(len(img)) {
		t.Fatalf("upload: %d %v", code, up)
	}
	if code := agent.do("POST", "/conversations/"+conv+"/messages", map[string]any{"message": map[string]any{"type": "image",
		"image": map[string]string{"id": up["id"].(string), "caption": "this one"}}}, nil, true); code != 200 {
		t.Fatalf("send image: %d", code)
	}
	line := c.inbox(1)[0]
	sum := sha256.Sum256(img)
	if media, _ := line["media"].(map[string]any); line["type"] != "image" || media["sha256"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("customer received %v, want the uploaded image", line)
	}

	doc := []byte("<html><script>alert(1)</script></html>")
	req, _ := http.NewRequest("POST", n.base+"/admin/v1/customers/4915100000741/files?to=%2B"+b.Account+"&kind=document&filename=x.html", bytes.NewReader(doc))
	req.Header.Set("Authorization", "Bearer "+adminToken(t, n))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("customer send-file: %d", resp.StatusCode)
	}
	e := waitEvent(t, ev, "customer document", func(e map[string]any) bool { return msgOf(e)["type"] == "document" })
	id := msgOf(e)["content"].(map[string]any)["document"].(map[string]any)["id"].(string)
	get := func(a *agentClient) (*http.Response, []byte) {
		resp, err := a.http.Get(n.base + "/business/api/media/" + id)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	resp, body := get(agent)
	if resp.StatusCode != 200 || !bytes.Equal(body, doc) || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") ||
		!strings.HasPrefix(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("download: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if resp, _ := get(stranger); resp.StatusCode != 404 {
		t.Fatalf("stranger downloads: %d, want 404", resp.StatusCode)
	}
}

// The 24-hour window: after it closed the conversation says so, a text
// reply is refused before it is sent, the approved templates are
// offered, and a template reply goes out on the Cloud API path.
func TestInboxWindowAndTemplates(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	n := startNode(t, app.Config{Clock: clk})
	b := createBusiness(t, n, nil)
	createTemplates(t, n, b, "order_update")
	email, pw := addAgent(t, n, b.WABAID, "agent")
	agent := newAgentClient(t, n)
	if agent.login(email, pw) != 200 {
		t.Fatal("login")
	}
	ev := agent.events()
	c := customer{t: t, n: n, phone: "+4915100000751"}
	c.post("/messages", map[string]string{"to": "+" + b.Account, "text": "my order?"})
	e := waitEvent(t, ev, "customer message", func(e map[string]any) bool { return msgOf(e)["direction"] == "in" })
	conv := e["conversation"].(map[string]any)
	if conv["window_open"] != true {
		t.Fatalf("window closed right after the customer wrote: %v", conv)
	}
	id := conv["id"].(string)

	clk.Add(25 * time.Hour)
	agent = newAgentClient(t, n) // the old session expired with the hours
	if agent.login(email, pw) != 200 {
		t.Fatal("login after 25 hours")
	}
	var cv map[string]any
	if code := agent.do("GET", "/conversations/"+id, nil, &cv, false); code != 200 || cv["window_open"] != false {
		t.Fatalf("conversation after 25 hours: %d %v", code, cv)
	}
	var e2 struct {
		Error struct{ Message string } `json:"error"`
	}
	if code := agent.do("POST", "/conversations/"+id+"/messages", map[string]any{"text": "sorry for the wait"}, &e2, true); code != 400 || !strings.Contains(e2.Error.Message, "24 hours") {
		t.Fatalf("text outside the window: %d %v", code, e2)
	}
	var ts struct {
		Templates []map[string]any `json:"templates"`
	}
	if code := agent.do("GET", "/templates", nil, &ts, false); code != 200 || len(ts.Templates) != 1 || ts.Templates[0]["name"] != "order_update" {
		t.Fatalf("templates: %d %v", code, ts)
	}
	var tpl map[string]any
	json.Unmarshal(fixture(t, "send/template_positional.json"), &tpl)
	var out map[string]any
	if code := agent.do("POST", "/conversations/"+id+"/messages", map[string]any{"template": tpl["template"]}, &out, true); code != 200 || out["type"] != "template" {
		t.Fatalf("template reply: %d %v", code, out)
	}
	// Accepted on the Cloud API path as a template to the customer (its
	// delivery outside the window is TestBusinessDeliveryEndToEnd's; here
	// the fake clock's jump has expired the hosted device's lease).
	o, err := n.m.Store().Outbound(t.Context(), out["id"].(string))
	if err != nil || o.Type != "template" || o.To != "4915100000751" {
		t.Fatalf("outbound of the template reply: %+v, %v", o, err)
	}
}

package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
)

// agentClient is a browser of an agent: a cookie jar and the CSRF token.
type agentClient struct {
	t    testing.TB
	base string
	http *http.Client
	csrf string
	me   map[string]any
	addr string // X-Forwarded-For (nodes with TrustProxy), so that many agents sign in from "different" addresses
}

var agentSeq atomic.Int64

// addAgent creates an agent through the operator API and returns its
// email and password.
func addAgent(t testing.TB, n *node, waba, role string) (email, password string) {
	t.Helper()
	email = fmt.Sprintf("agent%d@shop.example", agentSeq.Add(1))
	password = "correct horse battery"
	var out map[string]any
	if st := call(t, "POST", n.base+"/admin/v1/businesses/"+waba+"/agents", adminToken(t, n),
		map[string]any{"email": email, "name": "Agent", "role": role, "password": password}, &out); st != 200 {
		t.Fatalf("add agent: status %d %v", st, out)
	}
	return email, password
}

func newAgentClient(t testing.TB, n *node) *agentClient {
	jar, _ := cookiejar.New(nil)
	return &agentClient{t: t, base: n.base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// do calls the inbox API; csrf adds the X-CSRF-Token header.
func (a *agentClient) do(method, path string, body any, out any, csrf bool) int {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+"/business/api"+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if csrf {
		req.Header.Set("X-CSRF-Token", a.csrf)
	}
	if a.addr != "" {
		req.Header.Set("X-Forwarded-For", a.addr)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

func (a *agentClient) login(email, password string) int {
	a.t.Helper()
	var out map[string]any
	st := a.do("POST", "/login", map[string]string{"email": email, "password": password}, &out, false)
	if st == 200 {
		a.csrf, _ = out["csrf_token"].(string)
		a.me, _ = out["agent"].(map[string]any)
	}
	return st
}

func signIn(t testing.TB, n *node, waba, role string) *agentClient {
	t.Helper()
	email, pw := addAgent(t, n, waba, role)
	a := newAgentClient(t, n)
	if st := a.login(email, pw); st != 200 {
		t.Fatalf("login: status %d", st)
	}
	return a
}

// events opens the agent's event stream and returns its events (the
// JSON of each data line); it returns after the stream is subscribed.
func (a *agentClient) events() <-chan map[string]any {
	a.t.Helper()
	req, _ := http.NewRequest("GET", a.base+"/business/api/events", nil)
	ctx, cancel := contextWithCancel(a.t)
	req = req.WithContext(ctx)
	client := &http.Client{Jar: a.http.Jar}
	resp, err := client.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		a.t.Fatalf("events: status %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return readEvents(a.t, resp, cancel, "the event stream")
}

// waitEvent returns the first event match accepts.
func waitEvent(t testing.TB, ch <-chan map[string]any, what string, match func(ev map[string]any) bool) map[string]any {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("event stream ended before %s", what)
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event within 20s", what)
		}
	}
}

func msgOf(ev map[string]any) map[string]any {
	m, _ := ev["message"].(map[string]any)
	return m
}

func textOf(m map[string]any) string {
	c, _ := m["content"].(map[string]any)
	tx, _ := c["text"].(map[string]any)
	s, _ := tx["body"].(string)
	return s
}

// The inbox end to end: a customer writes → the greeting goes out and the
// conversation appears, decrypted, for the agent (live and through the
// API) while the database holds no plaintext; the agent replies → the
// customer receives it and the business's webhook gets its statuses; an
// API send shows up in the inbox; another business's agent sees none of
// it; stale versions get 409; CSRF is enforced.
func TestInboxEndToEnd(t *testing.T) {
	n := startNode(t, app.Config{})
	recv := &receiver{t: t}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	b := createBusiness(t, n, map[string]any{"webhook_url": srv.URL + "/hook", "verify_token": "vt-1"})
	recv.secret = b.AppSecret
	other := createBusiness(t, n, nil)

	owner := signIn(t, n, b.WABAID, "owner")
	agent := signIn(t, n, b.WABAID, "agent")
	stranger := signIn(t, n, other.WABAID, "owner")

	// Greeting on first contact.
	var st map[string]any
	if code := owner.do("PUT", "/settings", map[string]any{"greeting_enabled": true, "greeting": "Welcome {{name}}!", "version": 0}, &st, false); code != 403 {
		t.Fatalf("PUT settings without CSRF token: status %d, want 403", code)
	}
	if code := agent.do("PUT", "/settings", map[string]any{"greeting_enabled": true, "greeting": "x", "version": 0}, &st, true); code != 403 {
		t.Fatalf("PUT settings as agent: status %d, want 403", code)
	}
	if code := owner.do("PUT", "/settings", map[string]any{"greeting_enabled": true, "greeting": "Welcome {{name}}!", "version": 0}, &st, true); code != 200 || st["version"] != float64(1) {
		t.Fatalf("PUT settings: %d %v", code, st)
	}
	if code := owner.do("PUT", "/settings", map[string]any{"greeting_enabled": false, "greeting": "", "version": 0}, nil, true); code != 409 {
		t.Fatalf("PUT settings with a stale version: %d, want 409", code)
	}

	evA := agent.events()
	evS := stranger.events()

	// The customer writes.
	c := customer{t: t, n: n, phone: "+4915100000701"}
	c.post("/messages", map[string]string{"to": "+" + b.Account, "text": "hello shop, <script>alert(1)</script>"})
	ev := waitEvent(t, evA, "inbound message", func(ev map[string]any) bool {
		return ev["type"] == "message" && msgOf(ev)["direction"] == "in"
	})
	if got := textOf(msgOf(ev)); got != "hello shop, <script>alert(1)</script>" {
		t.Fatalf("inbound event text %q", got)
	}
	conv := ev["conversation"].(map[string]any)
	convID := conv["id"].(string)
	if conv["customer"] != "4915100000701" || conv["window_open"] != true || conv["preview"] != "hello shop, <script>alert(1)</script>" {
		t.Fatalf("conversation in the event: %v", conv)
	}
	// The greeting reached the customer.
	got := c.inbox(1)[0]
	if tx, _ := got["text"].(map[string]any); tx["body"] != "Welcome +4915100000701!" {
		t.Fatalf("customer received %v, want the greeting", got)
	}
	in := recv.message("text")
	if in["text"].(map[string]any)["body"] != "hello shop, <script>alert(1)</script>" {
		t.Fatalf("webhook %v", in)
	}

	// The database holds no plaintext of it.
	ms, err := n.m.Store().RecentInboxMessages(t.Context(), b.WABAID, 10)
	if err != nil || len(ms) == 0 {
		t.Fatalf("RecentInboxMessages = %v, %v", ms, err)
	}
	for _, m := range ms {
		if bytes.Contains(m.Sealed, []byte("hello")) || bytes.Contains(m.Sealed, []byte("Welcome")) {
			t.Fatalf("message %s is stored in clear: %q", m.ID, m.Sealed)
		}
	}
	if sc, _ := n.m.Store().Conversation(t.Context(), convID); bytes.Contains(sc.LastSealed, []byte("hello")) || bytes.Contains(sc.LastSealed, []byte("Welcome")) || len(sc.LastSealed) == 0 {
		t.Fatalf("preview stored as %q", sc.LastSealed)
	}

	// The agent lists, filters, searches and reads.
	var list struct {
		Conversations []map[string]any `json:"conversations"`
	}
	for _, q := range []string{"", "?unread=1", "?state=open", "?q=hello", "?q=%2B49151", "?assignee=none"} {
		if code := agent.do("GET", "/conversations"+q, nil, &list, false); code != 200 || len(list.Conversations) != 1 || list.Conversations[0]["id"] != convID {
			t.Fatalf("GET conversations%s: %d %v", q, code, list)
		}
	}
	for _, q := range []string{"?q=nothing-like-it", "?state=resolved", "?assignee=me"} {
		if code := agent.do("GET", "/conversations"+q, nil, &list, false); code != 200 || len(list.Conversations) != 0 {
			t.Fatalf("GET conversations%s: %d %v, want none", q, code, list)
		}
	}
	if code := agent.do("GET", "/conversations?state=closed", nil, nil, false); code != 400 {
		t.Fatalf("bad state filter: %d", code)
	}
	var msgs struct {
		Messages []map[string]any `json:"messages"`
	}
	if code := agent.do("GET", "/conversations/"+convID+"/messages", nil, &msgs, false); code != 200 || len(msgs.Messages) < 2 {
		t.Fatalf("messages: %d %v", code, msgs)
	}

	// Another business's agent sees nothing and can do nothing.
	if code := stranger.do("GET", "/conversations", nil, &list, false); code != 200 || len(list.Conversations) != 0 {
		t.Fatalf("stranger lists %v", list)
	}
	for _, p := range []string{"/conversations/" + convID, "/conversations/" + convID + "/messages"} {
		if code := stranger.do("GET", p, nil, nil, false); code != 404 {
			t.Fatalf("stranger GET %s: %d, want 404", p, code)
		}
	}
	if code := stranger.do("POST", "/conversations/"+convID+"/messages", map[string]any{"text": "hijack"}, nil, true); code != 404 {
		t.Fatalf("stranger reply: %d, want 404", code)
	}
	if code := stranger.do("PUT", "/conversations/"+convID+"/state", map[string]any{"state": "resolved", "version": 1}, nil, true); code != 404 {
		t.Fatalf("stranger state: %d, want 404", code)
	}
	select {
	case ev := <-evS:
		t.Fatalf("another business's agent received %v", ev)
	default:
	}

	// The agent replies; the customer receives it; the webhook reports it.
	var reply map[string]any
	if code := agent.do("POST", "/conversations/"+convID+"/messages", map[string]any{"text": "Hi! How can we help?"}, &reply, true); code != 200 {
		t.Fatalf("reply: %d %v", code, reply)
	}
	wamid := reply["id"].(string)
	if reply["agent"] != agent.me["id"] || textOf(reply) != "Hi! How can we help?" {
		t.Fatalf("reply = %v", reply)
	}
	got = c.inbox(2)[1]
	if got["id"] != wamid || got["text"].(map[string]any)["body"] != "Hi! How can we help?" {
		t.Fatalf("customer received %v, want the reply %s", got, wamid)
	}
	recv.status(wamid, "sent")
	recv.status(wamid, "delivered")
	waitEvent(t, evA, "delivered status", func(ev map[string]any) bool {
		return ev["type"] == "status" && msgOf(ev)["id"] == wamid && msgOf(ev)["status"] == "delivered"
	})

	// An API send shows up in the inbox.
	api := sendCloud(t, n, b, `{"messaging_product":"whatsapp","to":"4915100000701","type":"text","text":{"body":"from the CRM"}}`)
	ev = waitEvent(t, evA, "API send", func(ev map[string]any) bool { return ev["type"] == "message" && msgOf(ev)["id"] == api })
	if textOf(msgOf(ev)) != "from the CRM" || msgOf(ev)["agent"] != nil {
		t.Fatalf("API send in the inbox: %v", msgOf(ev))
	}

	// Mark read clears the unread count.
	var cv map[string]any
	if code := agent.do("POST", "/conversations/"+convID+"/read", nil, &cv, true); code != 200 || cv["unread"] != float64(0) {
		t.Fatalf("read: %d %v", code, cv)
	}
	// …and sends the customer a read receipt through the Cloud API path:
	// the hosted device handles the queued mark-as-read.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		q, err := n.m.Store().NextOutbound(t.Context(), b.PhoneNumberID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(q, func(o parley.Outbound) bool { return o.Type == parley.MessageRead && o.Status == parley.OutboundRead })
		if i >= 0 {
			if !strings.Contains(string(q[i].Body), in["id"].(string)) {
				t.Fatalf("read receipt for %s, want the customer's message %s", q[i].Body, in["id"])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no read receipt handled: %+v", q)
		}
	}

	// Concurrent edits: the second change with the same version loses.
	version := cv["version"].(float64)
	if code := agent.do("PUT", "/conversations/"+convID+"/state", map[string]any{"state": "pending", "version": version}, &cv, true); code != 200 || cv["state"] != "pending" {
		t.Fatalf("state: %d %v", code, cv)
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if code := owner.do("PUT", "/conversations/"+convID+"/assignee", map[string]any{"agent": owner.me["id"], "version": version}, &e, true); code != 409 || !strings.Contains(e.Error.Message, "changed by someone else") {
		t.Fatalf("stale assign: %d %v", code, e)
	}
	if code := owner.do("PUT", "/conversations/"+convID+"/assignee", map[string]any{"agent": agent.me["id"], "version": cv["version"]}, &cv, true); code != 200 || cv["assignee"] != agent.me["id"] {
		t.Fatalf("assign: %d %v", code, cv)
	}
	waitEvent(t, evA, "assignment", func(ev map[string]any) bool {
		c, _ := ev["conversation"].(map[string]any)
		return ev["type"] == "conversation" && c["assignee"] == agent.me["id"]
	})
	if code := owner.do("PUT", "/conversations/"+convID+"/assignee", map[string]any{"agent": stranger.me["id"], "version": cv["version"]}, nil, true); code != 400 {
		t.Fatalf("assign to another business's agent: %d, want 400", code)
	}

	// Labels and notes with mentions.
	if code := owner.do("PUT", "/labels/vip", map[string]any{"color": "#FF8800"}, nil, true); code != 200 {
		t.Fatalf("label: %d", code)
	}
	if code := agent.do("PUT", "/conversations/"+convID+"/labels", map[string]any{"labels": []string{"vip"}, "version": cv["version"]}, &cv, true); code != 200 {
		t.Fatalf("set labels: %d %v", code, cv)
	}
	if code := agent.do("PUT", "/conversations/"+convID+"/labels", map[string]any{"labels": []string{"nope"}, "version": cv["version"]}, nil, true); code != 400 {
		t.Fatalf("unknown label: %d", code)
	}
	ownerLocal, _, _ := strings.Cut(owner.me["email"].(string), "@")
	var note map[string]any
	if code := agent.do("POST", "/conversations/"+convID+"/notes", map[string]any{"text": "@" + ownerLocal + " please check"}, &note, true); code != 200 {
		t.Fatalf("note: %d %v", code, note)
	}
	nc := note["content"].(map[string]any)["note"].(map[string]any)
	if ment := nc["mentions"].([]any); len(ment) != 1 || ment[0] != owner.me["id"] {
		t.Fatalf("note mentions %v, want the owner", nc)
	}
	if code := owner.do("GET", "/conversations?label=vip", nil, &list, false); code != 200 || len(list.Conversations) != 1 {
		t.Fatalf("label filter: %v", list)
	}

	// Quick replies: saved, expanded, bounded.
	if code := agent.do("PUT", "/quick-replies", map[string]any{"shortcut": "/thanks", "text": "Thanks {{name}}!"}, nil, true); code != 200 {
		t.Fatalf("quick reply: %d", code)
	}
	var qr map[string]string
	if code := agent.do("GET", "/conversations/"+convID+"/quick-reply?shortcut=/thanks", nil, &qr, false); code != 200 || qr["text"] != "Thanks +4915100000701!" {
		t.Fatalf("expand: %d %v", code, qr)
	}
	if code := agent.do("PUT", "/quick-replies", map[string]any{"shortcut": "/big", "text": strings.Repeat("x", 5000)}, nil, true); code != 413 {
		t.Fatalf("oversized quick reply: %d, want 413", code)
	}

	// History per customer; the audit log saw it all.
	if code := owner.do("GET", "/customers/4915100000701/conversations", nil, &list, false); code != 200 || len(list.Conversations) != 1 {
		t.Fatalf("history: %d %v", code, list)
	}
	var audit struct {
		Entries []map[string]any `json:"entries"`
	}
	if code := owner.do("GET", "/audit", nil, &audit, false); code != 200 {
		t.Fatalf("audit: %d", code)
	}
	actions := map[string]bool{}
	for _, e := range audit.Entries {
		actions[e["action"].(string)] = true
	}
	for _, a := range []string{"conversation.reply", "conversation.state", "conversation.assign", "conversation.labels", "conversation.note", "session.login"} {
		if !actions[a] {
			t.Errorf("audit log has no %s: %v", a, actions)
		}
	}
	if code := agent.do("GET", "/audit", nil, nil, false); code != 403 {
		t.Fatalf("audit as agent: %d, want 403", code)
	}
}

// Sign-in: wrong passwords lock the agent out; sessions are listed and
// revoked; a revoked session is refused; a reset password ends sessions.
func TestInboxSessions(t *testing.T) {
	n := startNode(t, app.Config{})
	b := createBusiness(t, n, nil)
	email, pw := addAgent(t, n, b.WABAID, "admin")
	a1, a2 := newAgentClient(t, n), newAgentClient(t, n)
	if a1.login(email, pw) != 200 || a2.login(email, pw) != 200 {
		t.Fatal("login failed")
	}
	if code := newAgentClient(t, n).do("GET", "/me", nil, nil, false); code != 401 {
		t.Fatalf("GET me without a session: %d", code)
	}
	var me map[string]any
	if code := a1.do("GET", "/me", nil, &me, false); code != 200 || me["csrf_token"] != a1.csrf {
		t.Fatalf("me: %d %v (the CSRF token must be the login's)", code, me)
	}
	var ss struct {
		Sessions []map[string]any `json:"sessions"`
	}
	if code := a1.do("GET", "/sessions", nil, &ss, false); code != 200 || len(ss.Sessions) != 2 {
		t.Fatalf("sessions: %d %v", code, ss)
	}
	var other string
	for _, s := range ss.Sessions {
		if s["current"] != true {
			other = s["id"].(string)
		}
	}
	if code := a1.do("DELETE", "/sessions/"+other, nil, nil, true); code != 204 {
		t.Fatalf("revoke: %d", code)
	}
	if code := a2.do("GET", "/conversations", nil, nil, false); code != 401 {
		t.Fatalf("revoked session: %d, want 401", code)
	}
	// The operator resets the password: sessions end.
	if st := call(t, "PUT", n.base+"/admin/v1/businesses/"+b.WABAID+"/agents/"+url.PathEscape(email)+"/password", adminToken(t, n),
		map[string]any{"password": "another long password"}, nil); st != 204 {
		t.Fatalf("reset password: %d", st)
	}
	if code := a1.do("GET", "/me", nil, nil, false); code != 401 {
		t.Fatalf("session after reset: %d, want 401", code)
	}
	// Lock-out after five wrong passwords, even with the right one after.
	for i := range 5 {
		if code := a1.login(email, "wrong password!"); code != 401 {
			t.Fatalf("wrong password %d: %d", i, code)
		}
	}
	if code := a1.login(email, "another long password"); code != 423 {
		t.Fatalf("login while locked: %d, want 423", code)
	}
	if code := a1.login("nobody@shop.example", "whatever password"); code != 401 {
		t.Fatalf("unknown email: %d, want 401", code)
	}
	// Operator CLI routes: list and remove.
	var agents struct {
		Agents []map[string]any `json:"agents"`
	}
	if st := call(t, "GET", n.base+"/admin/v1/businesses/"+b.WABAID+"/agents", adminToken(t, n), nil, &agents); st != 200 || len(agents.Agents) != 1 {
		t.Fatalf("list agents: %d %v", st, agents)
	}
	if st := call(t, "DELETE", n.base+"/admin/v1/businesses/"+b.WABAID+"/agents/"+url.PathEscape(email), adminToken(t, n), nil, nil); st != 204 {
		t.Fatalf("remove agent: %d", st)
	}
	if st := call(t, "POST", n.base+"/admin/v1/businesses/"+b.WABAID+"/agents", adminToken(t, n),
		map[string]any{"email": "x@shop.example", "role": "agent", "password": "short"}, nil); st != 400 {
		t.Fatalf("short password: %d, want 400", st)
	}
}

func contextWithCancel(t testing.TB) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx, cancel
}

// readEvents reads a Server-Sent Events response: it waits until the
// stream says ready and returns its data events as they come (closed
// when the stream ends, which also calls cancel).
func readEvents(t testing.TB, resp *http.Response, cancel context.CancelFunc, what string) <-chan map[string]any {
	t.Helper()
	ch := make(chan map[string]any, 100)
	ready := make(chan struct{})
	go func() {
		defer resp.Body.Close()
		defer cancel()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			line := sc.Text()
			if line == "event: ready" {
				close(ready)
				continue
			}
			if d, ok := strings.CutPrefix(line, "data: "); ok && d != "{}" {
				var ev map[string]any
				if json.Unmarshal([]byte(d), &ev) == nil {
					ch <- ev
				}
			}
		}
		close(ch)
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal(what + " did not become ready")
	}
	return ch
}

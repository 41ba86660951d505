package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/app"
)

// Retention: a business that keeps resolved conversations for 30 days
// loses them (messages too) after that, open ones stay; a website
// visitor's conversation goes after the operator's web-chat retention;
// the audit log says what the sweep deleted; bad settings are refused.
func TestInboxRetention(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	n := startNode(t, app.Config{Clock: clk, WebChatRetention: 48 * time.Hour})
	b := createBusiness(t, n, nil)
	if st := call(t, "PUT", n.base+"/admin/v1/businesses/"+b.WABAID+"/webchat", adminToken(t, n), map[string]any{"origins": []string{shopOrigin}}, nil); st != 200 {
		t.Fatalf("operator PUT webchat: %d", st)
	}
	email, pw := addAgent(t, n, b.WABAID, "owner")
	owner := newAgentClient(t, n)
	if owner.login(email, pw) != 200 {
		t.Fatal("login")
	}

	var st map[string]any
	if code := owner.do("PUT", "/settings", map[string]any{"retention_days": 30, "version": 0}, &st, true); code != 200 || st["retention_days"] != float64(30) {
		t.Fatalf("PUT settings with retention: %d %v", code, st)
	}
	var e struct {
		Error struct{ Message string } `json:"error"`
	}
	if code := owner.do("PUT", "/settings", map[string]any{"retention_days": 4000, "version": 1}, &e, true); code != 400 || !strings.Contains(e.Error.Message, "retention") {
		t.Fatalf("PUT settings with 4000 days: %d %v, want 400", code, e)
	}
	// A client that does not know the field keeps the stored value.
	if code := owner.do("PUT", "/settings", map[string]any{"greeting_enabled": false, "version": 1}, &st, true); code != 200 || st["retention_days"] != float64(30) {
		t.Fatalf("PUT settings without retention_days: %d %v, want 30 kept", code, st)
	}

	ev := owner.events()
	resolved := customer{t: t, n: n, phone: "+4915100000981"}
	open := customer{t: t, n: n, phone: "+4915100000982"}
	ids := map[string]string{}
	for _, c := range []customer{resolved, open} {
		text := "hello from " + c.phone
		c.post("/messages", map[string]string{"to": "+" + b.Account, "text": text})
		e := waitEvent(t, ev, text, func(e map[string]any) bool { return textOf(msgOf(e)) == text })
		ids[c.phone] = e["conversation"].(map[string]any)["id"].(string)
	}
	var cv map[string]any
	owner.do("GET", "/conversations/"+ids[resolved.phone], nil, &cv, false)
	if code := owner.do("PUT", "/conversations/"+ids[resolved.phone]+"/state", map[string]any{"state": "resolved", "version": cv["version"]}, &cv, true); code != 200 {
		t.Fatalf("resolve: %d %v", code, cv)
	}
	v := newVisitor(t, n, b.Account)
	if code, _ := v.do("POST", "/messages", map[string]string{"text": "hi from the website"}, nil); code != 201 {
		t.Fatalf("visitor message: %d", code)
	}
	webConv := waitEvent(t, ev, "visitor message", func(e map[string]any) bool { return textOf(msgOf(e)) == "hi from the website" })["conversation"].(map[string]any)["id"].(string)

	// Within both retentions nothing goes.
	clk.Add(24 * time.Hour)
	if err := n.m.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ids[resolved.phone], ids[open.phone], webConv} {
		if _, err := n.m.Store().Conversation(t.Context(), id); err != nil {
			t.Fatalf("conversation %s swept within its retention: %v", id, err)
		}
	}
	// Day 3: the visitor's conversation is past the web-chat retention.
	clk.Add(48 * time.Hour)
	if err := n.m.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := n.m.Store().Conversation(t.Context(), webConv); err == nil {
		t.Fatal("the website conversation survived the web-chat retention")
	}
	if code, _ := v.do("GET", "/messages", nil, nil); code != 401 {
		t.Fatalf("the swept visitor's token: %d, want 401", code)
	}
	// Day 32: the resolved conversation goes with its messages; the open one stays.
	clk.Add(29 * 24 * time.Hour)
	if err := n.m.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	owner = newAgentClient(t, n) // the session expired with the days
	if owner.login(email, pw) != 200 {
		t.Fatal("login on day 32")
	}
	if code := owner.do("GET", "/conversations/"+ids[resolved.phone], nil, nil, false); code != 404 {
		t.Fatalf("resolved conversation after its retention: %d, want 404", code)
	}
	if ms, err := n.m.Store().InboxMessages(t.Context(), ids[resolved.phone], time.Time{}, 10); err != nil || len(ms) != 0 {
		t.Fatalf("messages of the swept conversation: %d, %v", len(ms), err)
	}
	if code := owner.do("GET", "/conversations/"+ids[open.phone], nil, &cv, false); code != 200 {
		t.Fatalf("open conversation after 32 days: %d", code)
	}
	var audit struct {
		Entries []map[string]any `json:"entries"`
	}
	if code := owner.do("GET", "/audit", nil, &audit, false); code != 200 {
		t.Fatalf("audit: %d", code)
	}
	var sweeps []string
	for _, e := range audit.Entries {
		if e["action"] == "retention.sweep" {
			sweeps = append(sweeps, e["detail"].(string))
		}
	}
	if len(sweeps) != 2 || !strings.Contains(sweeps[0], "deleted 1 resolved and 0 website") || !strings.Contains(sweeps[1], "deleted 0 resolved and 1 website") {
		t.Fatalf("audit of the sweeps (newest first): %q", sweeps)
	}
}

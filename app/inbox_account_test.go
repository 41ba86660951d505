package app_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/app"
)

type auditPage struct {
	Entries []struct {
		Seq    int64  `json:"seq"`
		Agent  string `json:"agent"`
		Action string `json:"action"`
		Target string `json:"target"`
		Detail string `json:"detail"`
		At     int64  `json:"at"`
	} `json:"entries"`
}

// An agent changes its own password: the current one is required (a
// wrong one is 403 and the session stays), a weak new one is refused,
// the agent's other sessions end and this one stays, the old password
// no longer signs in, the change is in the audit log, and guessing the
// password through the session is rate limited.
func TestInboxChangePassword(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	n := startNode(t, app.Config{Clock: clk})
	b := createBusiness(t, n, nil)
	owner := signIn(t, n, b.WABAID, "owner")
	email, pw := addAgent(t, n, b.WABAID, "agent")
	a1, a2 := newAgentClient(t, n), newAgentClient(t, n)
	if a1.login(email, pw) != 200 || a2.login(email, pw) != 200 {
		t.Fatal("login failed")
	}
	change := func(c *agentClient, current, next string) (int, map[string]any) {
		var out map[string]any
		return c.do("PUT", "/password", map[string]string{"current_password": current, "new_password": next}, &out, true), out
	}
	if code, out := change(a1, "not my password", "a brand new password"); code != 403 {
		t.Fatalf("wrong current password: %d %v, want 403", code, out)
	}
	if code := a1.do("GET", "/me", nil, nil, false); code != 200 {
		t.Fatalf("session after a wrong current password: %d, want 200", code)
	}
	if code, out := change(a1, pw, "short"); code != 400 || !strings.Contains(out["error"].(map[string]any)["message"].(string), "10 to 256 characters") {
		t.Fatalf("weak new password: %d %v, want 400 naming the length", code, out)
	}
	if code := a1.do("PUT", "/password", map[string]string{"current_password": pw, "new_password": "a brand new password"}, nil, false); code != 403 {
		t.Fatalf("without the CSRF token: %d, want 403", code)
	}
	if code, out := change(a1, pw, "a brand new password"); code != 204 {
		t.Fatalf("change: %d %v", code, out)
	}
	if code := a1.do("GET", "/me", nil, nil, false); code != 200 {
		t.Fatalf("the changing session: %d, want 200", code)
	}
	if code := a2.do("GET", "/me", nil, nil, false); code != 401 {
		t.Fatalf("the other session after the change: %d, want 401", code)
	}
	if code := newAgentClient(t, n).login(email, pw); code != 401 {
		t.Fatalf("old password: %d, want 401", code)
	}
	if code := newAgentClient(t, n).login(email, "a brand new password"); code != 200 {
		t.Fatalf("new password: %d, want 200", code)
	}
	var log auditPage
	if code := owner.do("GET", "/audit", nil, &log, false); code != 200 {
		t.Fatalf("audit: %d", code)
	}
	found := false
	for _, e := range log.Entries {
		if e.Action == "agent.password" {
			found = e.Agent == a1.me["id"] && e.Target == a1.me["id"] && e.Detail == "1 other sessions ended"
		}
	}
	if !found {
		t.Fatalf("audit log has no agent.password entry of the agent: %+v", log.Entries)
	}
	// Three password checks so far this minute (wrong, weak, right);
	// two more are allowed, the sixth is refused.
	for i := range 2 {
		if code, _ := change(a1, "guess "+string(rune('a'+i)), "whatever password"); code != 403 {
			t.Fatalf("guess %d: %d, want 403", i, code)
		}
	}
	if code, _ := change(a1, "a brand new password", "another new password"); code != 429 {
		t.Fatalf("sixth password check in a minute: %d, want 429", code)
	}
	clk.Add(time.Minute)
	if code, out := change(a1, "a brand new password", "another new password"); code != 204 {
		t.Fatalf("a minute later: %d %v", code, out)
	}
}

// Roles: only owners change them; the change applies to the colleague's
// next request; the last owner cannot be demoted; adding a colleague is
// one audit entry (the agent's, not also an operator's).
func TestInboxRoles(t *testing.T) {
	n := startNode(t, app.Config{})
	b := createBusiness(t, n, nil)
	other := createBusiness(t, n, nil)
	owner := signIn(t, n, b.WABAID, "owner")
	admin := signIn(t, n, b.WABAID, "admin")
	stranger := signIn(t, n, other.WABAID, "agent")
	var ag map[string]any
	if code := owner.do("POST", "/agents", map[string]any{"email": "carl@shop.example", "name": "Carl", "role": "agent", "password": "long enough pw"}, &ag, true); code != 200 {
		t.Fatalf("add: %d %v", code, ag)
	}
	var dup map[string]any
	if code := owner.do("POST", "/agents", map[string]any{"email": "carl@shop.example", "role": "agent", "password": "long enough pw"}, &dup, true); code != 409 {
		t.Fatalf("duplicate email: %d %v, want 409", code, dup)
	}
	carl := newAgentClient(t, n)
	if code := carl.login("carl@shop.example", "long enough pw"); code != 200 {
		t.Fatalf("carl login: %d", code)
	}
	id := ag["id"].(string)
	setRole := func(c *agentClient, id, role string) (int, map[string]any) {
		var out map[string]any
		return c.do("PUT", "/agents/"+id+"/role", map[string]string{"role": role}, &out, true), out
	}
	if code := carl.do("GET", "/audit", nil, nil, false); code != 403 {
		t.Fatalf("agent reads the audit log: %d, want 403", code)
	}
	for _, c := range []struct {
		name string
		by   *agentClient
		id   string
		role string
		want int
	}{
		{"admin", admin, id, "admin", 403},
		{"agent", carl, id, "admin", 403},
		{"bad-role", owner, id, "boss", 400},
		{"unknown", owner, "0000000000000000", "admin", 404},
		{"other-business", owner, stranger.me["id"].(string), "admin", 404},
		{"last-owner", owner, owner.me["id"].(string), "admin", 409},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got, out := setRole(c.by, c.id, c.role); got != c.want {
				t.Fatalf("got %d %v, want %d", got, out, c.want)
			}
		})
	}
	if code, out := setRole(owner, id, "admin"); code != 200 || out["role"] != "admin" || out["email"] != "carl@shop.example" {
		t.Fatalf("promote: %d %v", code, out)
	}
	if code := carl.do("GET", "/audit", nil, nil, false); code != 200 {
		t.Fatalf("promoted agent reads the audit log: %d, want 200", code)
	}
	// Two owners: now the first may step down, and the other is the last.
	if code, out := setRole(owner, admin.me["id"].(string), "owner"); code != 200 || out["role"] != "owner" {
		t.Fatalf("make admin owner: %d %v", code, out)
	}
	if code, out := setRole(owner, owner.me["id"].(string), "agent"); code != 200 || out["role"] != "agent" {
		t.Fatalf("owner steps down: %d %v", code, out)
	}
	if code, _ := setRole(owner, id, "agent"); code != 403 {
		t.Fatalf("former owner changes a role: %d, want 403", code)
	}
	if code, out := setRole(admin, admin.me["id"].(string), "admin"); code != 409 {
		t.Fatalf("the last owner demotes itself: %d %v, want 409", code, out)
	}
	var log auditPage
	if code := admin.do("GET", "/audit", nil, &log, false); code != 200 {
		t.Fatalf("audit: %d", code)
	}
	var got []string
	for _, e := range log.Entries {
		if e.Action == "team.role" || e.Action == "team.add" || e.Action == "agent.add" {
			got = append(got, e.Action+" "+e.Detail)
		}
	}
	want := []string{
		"team.role " + owner.me["email"].(string) + " owner -> agent",
		"team.role " + admin.me["email"].(string) + " admin -> owner",
		"team.role carl@shop.example agent -> admin",
		"team.add carl@shop.example agent",
		"agent.add " + admin.me["email"].(string) + " admin",
		"agent.add " + owner.me["email"].(string) + " owner",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit log, newest first:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Two-factor set-up answers the QR code as SVG (the secret only inside
// the symbol); turning it off with a wrong password is 403 and keeps
// the session.
func TestInboxTOTPQRCode(t *testing.T) {
	n := startNode(t, app.Config{})
	b := createBusiness(t, n, nil)
	email, pw := addAgent(t, n, b.WABAID, "agent")
	a := newAgentClient(t, n)
	if a.login(email, pw) != 200 {
		t.Fatal("login")
	}
	var setup map[string]string
	if code := a.do("POST", "/totp", nil, &setup, true); code != 200 {
		t.Fatalf("begin: %d", code)
	}
	svg := setup["qr_svg"]
	if !strings.Contains(svg, "<svg") || !strings.Contains(svg, `<path fill="#000000" d="M`) || strings.Contains(svg, setup["secret"]) {
		t.Fatalf("qr_svg = %.200q (secret %s)", svg, setup["secret"])
	}
	if code := a.do("POST", "/totp/confirm", map[string]string{"code": totp(t, setup["secret"], time.Now().Unix()/30)}, nil, true); code != 204 {
		t.Fatalf("confirm: %d", code)
	}
	if code := a.do("DELETE", "/totp", map[string]string{"password": "not the password"}, nil, true); code != 403 {
		t.Fatalf("turn off with a wrong password: %d, want 403", code)
	}
	if code := a.do("GET", "/me", nil, nil, false); code != 200 {
		t.Fatalf("session after a wrong password: %d", code)
	}
	if code := a.do("DELETE", "/totp", map[string]string{"password": pw}, nil, true); code != 204 {
		t.Fatalf("turn off: %d", code)
	}
}

// The audit log pages newest first by sequence: pages of two join to
// the whole log without gaps or repeats.
func TestInboxAuditPaging(t *testing.T) {
	n := startNode(t, app.Config{})
	b := createBusiness(t, n, nil)
	owner := signIn(t, n, b.WABAID, "owner")
	for _, l := range []string{"a", "b", "c", "d", "e"} {
		if code := owner.do("PUT", "/labels/"+l, map[string]string{"color": "#112233"}, nil, true); code != 200 {
			t.Fatalf("label %s: %d", l, code)
		}
	}
	var all auditPage
	if code := owner.do("GET", "/audit", nil, &all, false); code != 200 || len(all.Entries) < 7 {
		t.Fatalf("audit: %d, %d entries", code, len(all.Entries))
	}
	var paged []int64
	before := int64(0)
	for range 20 {
		var p auditPage
		path := "/audit?limit=2"
		if before > 0 {
			path += "&before=" + strconv.FormatInt(before, 10)
		}
		if code := owner.do("GET", path, nil, &p, false); code != 200 || len(p.Entries) > 2 {
			t.Fatalf("%s: %d, %d entries", path, code, len(p.Entries))
		}
		if len(p.Entries) == 0 {
			break
		}
		for _, e := range p.Entries {
			paged = append(paged, e.Seq)
		}
		before = p.Entries[len(p.Entries)-1].Seq
	}
	if len(paged) != len(all.Entries) {
		t.Fatalf("paged %v, whole log %d entries", paged, len(all.Entries))
	}
	for i, e := range all.Entries {
		if paged[i] != e.Seq || (i > 0 && e.Seq >= all.Entries[i-1].Seq) {
			t.Fatalf("entry %d: paged seq %d, log seq %d (newest first)", i, paged[i], e.Seq)
		}
	}
	if all.Entries[0].Action != "label.put" || all.Entries[0].Target != "e" {
		t.Fatalf("newest entry %+v, want label.put e", all.Entries[0])
	}
}

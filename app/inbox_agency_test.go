package app_test

import (
	"testing"

	"github.com/parley-chat/parley/app"
)

// One email may be an agent of several businesses (an agency answering for
// its clients). Adding it to a second business works and says nothing of
// the first; signing in asks which business when the password fits more
// than one, and goes straight in when it fits one.
func TestInboxAgentOfSeveralBusinesses(t *testing.T) {
	n := startNode(t, app.Config{})
	shop, bakery, florist := createBusiness(t, n, nil), createBusiness(t, n, nil), createBusiness(t, n, nil)
	const email, pw, other = "sam@agency.example", "correct horse battery", "another long passphrase"
	add := func(waba, password string) int {
		var out map[string]any
		return call(t, "POST", n.base+"/admin/v1/businesses/"+waba+"/agents", adminToken(t, n),
			map[string]any{"email": email, "name": "Sam", "role": "agent", "password": password}, &out)
	}
	for _, b := range []struct{ waba, pw string }{{shop.WABAID, pw}, {bakery.WABAID, pw}, {florist.WABAID, other}} {
		if st := add(b.waba, b.pw); st != 200 {
			t.Fatalf("add the agent to %s: status %d", b.waba, st)
		}
	}
	if st := add(shop.WABAID, pw); st != 409 {
		t.Fatalf("add the same email to the same business again: status %d, want 409", st)
	}

	a := newAgentClient(t, n)
	login := func(body map[string]string) (int, map[string]any) {
		var out map[string]any
		st := a.do("POST", "/login", body, &out, false)
		return st, out
	}
	// The password fits two businesses: choose, nobody signed in yet.
	st, out := login(map[string]string{"email": email, "password": pw})
	choose, _ := out["choose_business"].([]any)
	if st != 200 || len(choose) != 2 || out["agent"] != nil {
		t.Fatalf("sign in with a password of two businesses: %d %v, want the two to choose from", st, out)
	}
	ids := map[any]bool{}
	for _, c := range choose {
		c := c.(map[string]any)
		ids[c["id"]] = true
		if c["name"] != "Lucky Shrub" {
			t.Errorf("choice %v: want the business's name", c)
		}
	}
	if !ids[shop.WABAID] || !ids[bakery.WABAID] || ids[florist.WABAID] {
		t.Fatalf("choices %v: want the shop and the bakery only (the florist's password differs)", choose)
	}
	if st := a.do("GET", "/me", nil, nil, false); st != 401 {
		t.Fatalf("GET /me after being asked to choose: %d, want 401", st)
	}
	st, out = login(map[string]string{"email": email, "password": pw, "business": bakery.WABAID})
	if me, _ := out["agent"].(map[string]any); st != 200 || me["business"] != bakery.WABAID {
		t.Fatalf("sign in to the bakery: %d %v", st, out)
	}
	// The florist's password signs in to the florist at once.
	b := newAgentClient(t, n)
	var out2 map[string]any
	if st := b.do("POST", "/login", map[string]string{"email": email, "password": other}, &out2, false); st != 200 {
		t.Fatalf("sign in with the florist's password: %d %v", st, out2)
	} else if me, _ := out2["agent"].(map[string]any); me["business"] != florist.WABAID {
		t.Fatalf("signed in as %v, want the florist's agent", out2["agent"])
	}
	// A business the email is no agent of, or the wrong password for the
	// chosen one: the usual answer.
	for _, body := range []map[string]string{
		{"email": email, "password": pw, "business": "123456789"},
		{"email": email, "password": other, "business": shop.WABAID},
	} {
		if st, out := login(body); st != 401 {
			t.Fatalf("login %v: %d %v, want 401", body, st, out)
		}
	}
	// Removing the agent from one business leaves the others.
	if st := call(t, "DELETE", n.base+"/admin/v1/businesses/"+shop.WABAID+"/agents/"+email, adminToken(t, n), nil, nil); st != 200 && st != 204 {
		t.Fatalf("remove from the shop: %d", st)
	}
	if st, out := login(map[string]string{"email": email, "password": pw}); st != 200 || out["agent"] == nil {
		t.Fatalf("sign in after leaving the shop: %d %v, want the bakery's agent signed in", st, out)
	}
}

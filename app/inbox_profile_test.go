package app_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/store/postgres/pgtest"
)

// The business app's profile editor: agents of the business read the
// profile of its numbers, owners and admins replace it (with opening
// hours) naming the version they saw, agents may not, a stale version is
// 409 and writes nothing, another business's agent sees 404, bad hours
// are 400 with the reason, the change is in the audit log and in what
// the Cloud API and the away-message check read.
func TestInboxProfile(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { testInboxProfile(t, app.Config{}) })
	t.Run("PostgreSQL", func(t *testing.T) { testInboxProfile(t, app.Config{Database: pgtest.DSN(t)}) })
}

func testInboxProfile(t *testing.T, cfg app.Config) {
	n := startNode(t, cfg)
	b := createBusiness(t, n, nil)
	other := createBusiness(t, n, nil)
	owner := signIn(t, n, b.WABAID, "owner")
	member := signIn(t, n, b.WABAID, "agent")
	stranger := signIn(t, n, other.WABAID, "owner")

	var nums struct {
		Numbers []map[string]any `json:"numbers"`
	}
	if st := owner.do("GET", "/numbers", nil, &nums, false); st != 200 || len(nums.Numbers) != 1 || nums.Numbers[0]["id"] != b.PhoneNumberID || nums.Numbers[0]["account"] != b.Account {
		t.Fatalf("GET /numbers: %d %v", st, nums)
	}
	path := "/numbers/" + b.PhoneNumberID + "/profile"
	var got struct {
		Profile   map[string]any `json:"profile"`
		Hours     map[string]any `json:"hours"`
		UpdatedAt int64          `json:"updated_at"`
		Number    map[string]any `json:"number"`
	}
	if st := member.do("GET", path, nil, &got, false); st != 200 || got.UpdatedAt != 0 || got.Profile["about"] != "" || got.Hours != nil {
		t.Fatalf("GET empty profile: %d %+v", st, got)
	}
	if st := stranger.do("GET", path, nil, nil, false); st != 404 {
		t.Fatalf("another business's agent: GET status %d, want 404", st)
	}

	// Closed all week except an always-open Sunday exception far away.
	body := map[string]any{
		"about": "Plants <b>and</b> pots", "address": "Gartenstraße 1, Berlin", "description": "Since 1999",
		"email": "hello@shrub.example", "websites": []string{"https://shrub.example"}, "vertical": "RETAIL",
		"opening_hours": map[string]any{"time_zone": "Europe/Berlin",
			"weekly":     map[string]any{"monday": []map[string]string{{"open": "09:00", "close": "17:00"}}},
			"exceptions": []map[string]any{{"date": "2099-12-24", "closed": true, "note": "Christmas Eve"}}},
		"updated_at": 0,
	}
	if st := owner.do("PUT", path, body, nil, false); st != 403 {
		t.Fatalf("PUT without CSRF token: %d, want 403", st)
	}
	if st := member.do("PUT", path, body, nil, true); st != 403 {
		t.Fatalf("PUT as agent: %d, want 403", st)
	}
	if st := stranger.do("PUT", path, body, nil, true); st != 404 {
		t.Fatalf("PUT by another business: %d, want 404", st)
	}
	if st := owner.do("PUT", path, body, &got, true); st != 200 || got.UpdatedAt == 0 || got.Profile["about"] != "Plants <b>and</b> pots" || got.Hours == nil {
		t.Fatalf("PUT profile: %d %+v", st, got)
	}
	first := got.UpdatedAt
	oh := got.Profile["opening_hours"].(map[string]any)
	if oh["time_zone"] != "Europe/Berlin" || len(oh["exceptions"].([]any)) != 1 {
		t.Fatalf("saved hours %v", oh)
	}

	// A stale version: 409, nothing written.
	body["about"] = "stale"
	var e struct {
		Error struct{ Message string } `json:"error"`
	}
	if st := owner.do("PUT", path, body, &e, true); st != 409 || !strings.Contains(e.Error.Message, "changed by someone else") {
		t.Fatalf("stale PUT: %d %v", st, e)
	}
	// Bad hours: 400 with the reason, nothing written.
	body["updated_at"] = first
	body["opening_hours"] = map[string]any{"time_zone": "Mars/Olympus", "weekly": map[string]any{}}
	if st := owner.do("PUT", path, body, &e, true); st != 400 || !strings.Contains(e.Error.Message, "Mars/Olympus") {
		t.Fatalf("bad time zone: %d %v", st, e)
	}
	body["opening_hours"] = map[string]any{"time_zone": "Europe/Berlin", "weekly": map[string]any{"monday": []map[string]string{{"open": "09:00", "close": "12:00"}, {"open": "11:00", "close": "13:00"}}}}
	if st := owner.do("PUT", path, body, &e, true); st != 400 || !strings.Contains(e.Error.Message, "monday") {
		t.Fatalf("overlapping hours: %d %v", st, e)
	}
	if st := member.do("GET", path, nil, &got, false); st != 200 || got.Profile["about"] != "Plants <b>and</b> pots" || got.UpdatedAt != first {
		t.Fatalf("after refused PUTs: %d %+v", st, got)
	}

	// The Cloud API reads the same profile.
	st, raw := graph(t, n, "GET", "/v24.0/"+b.PhoneNumberID+"/whatsapp_business_profile?fields=about,opening_hours", b.AccessToken, nil)
	if st != 200 || !strings.Contains(string(raw), `Plants \u003cb\u003eand\u003c/b\u003e pots`) && !strings.Contains(string(raw), "Plants <b>and</b> pots") || !strings.Contains(string(raw), "Europe/Berlin") {
		t.Fatalf("Cloud API profile: %d %s", st, raw)
	}
	// Removing the hours (admin).
	admin := signIn(t, n, b.WABAID, "admin")
	body["opening_hours"] = nil
	body["about"] = "no hours"
	got.Hours, got.Profile = nil, nil
	if st := admin.do("PUT", path, body, &got, true); st != 200 || got.Hours != nil || got.Profile["opening_hours"] != nil || got.UpdatedAt <= first {
		t.Fatalf("PUT without hours: %d %+v", st, got)
	}

	// Audited.
	var audit struct {
		Entries []map[string]any `json:"entries"`
	}
	if st := owner.do("GET", "/audit", nil, &audit, false); st != 200 {
		t.Fatalf("audit: %d", st)
	}
	count := 0
	for _, a := range audit.Entries {
		if a["action"] == "profile.update" && a["target"] == b.PhoneNumberID {
			count++
		}
	}
	if count != 2 {
		t.Fatalf("audit has %d profile.update entries, want 2: %v", count, audit.Entries)
	}
}

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// `parley admin consent` end to end: record, list, keywords, verify; a
// row changed in the database makes verify fail with a non-zero exit;
// `customer export|erase` print the customer's data and erase it.
func TestAdminConsent(t *testing.T) {
	m, url := startNode(t)
	data := m.DataDir()
	var b struct {
		WABA   string `json:"waba_id"`
		Number string `json:"phone_number_id"`
	}
	if err := json.Unmarshal([]byte(mustAdmin(t, url, data, "business", "create", "--name", "Air Parley", "--phone", "+15550783882", "--json")), &b); err != nil {
		t.Fatal(err)
	}
	const cust = "+4915100000501"
	mustAdmin(t, url, data, "customer", "send", "--phone", cust, "--to", "+15550783882", "--text", "hi") // creates the customer's account

	// Bad input is refused with a readable message and records nothing.
	if _, err := adminOut(t, url, data, "consent", "record", "--number", b.Number, "--wa-id", "+4915100000599", "--action", "opt_in",
		"--purpose", "marketing", "--source-type", "website_form"); err == nil || !strings.Contains(err.Error(), "no Parley account") {
		t.Fatalf("record for an unknown customer: %v", err)
	}
	if _, err := adminOut(t, url, data, "consent", "record", "--number", b.Number, "--wa-id", cust, "--action", "opt_in"); !errors.Is(err, errUsage) {
		t.Fatalf("record without --purpose: %v, want a usage error", err)
	}
	out := mustAdmin(t, url, data, "consent", "record", "--number", b.Number, "--wa-id", cust, "--action", "opt_in",
		"--purpose", "Flight updates", "--purpose", "marketing", "--source-type", "website_form", "--source-id", "checkin", "--evidence", "ticked")
	var e struct {
		Seq      int64    `json:"seq"`
		Hash     string   `json:"hash"`
		Purposes []string `json:"purposes"`
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil || e.Seq != 1 || len(e.Hash) != 64 || strings.Join(e.Purposes, ",") != "flight updates,marketing" {
		t.Fatalf("record printed %s (%v)", out, err)
	}
	mustAdmin(t, url, data, "consent", "record", "--number", b.Number, "--wa-id", cust, "--action", "opt_out", "--purpose", "marketing", "--source-type", "api")
	if _, err := adminOut(t, url, data, "consent", "record", "--number", b.Number, "--wa-id", cust, "--action", "opt_out",
		"--purpose", "marketing", "--source-type", "api"); err == nil || !strings.Contains(err.Error(), "already opted out") {
		t.Fatalf("replayed opt-out: %v", err)
	}
	if lines := strings.Split(strings.TrimSpace(mustAdmin(t, url, data, "consent", "list", "--waba", b.WABA)), "\n"); len(lines) != 2 ||
		!strings.Contains(lines[1], "opt_out") || !strings.Contains(lines[0], "+4915100000501") {
		t.Fatalf("list: %q", lines)
	}
	if out := mustAdmin(t, url, data, "consent", "list", "--waba", b.WABA, "--wa-id", cust); !strings.Contains(out, `"marketing_allowed": false`) {
		t.Fatalf("list --wa-id: %s", out)
	}
	if out := mustAdmin(t, url, data, "consent", "keywords", "--waba", b.WABA, "--stop", "STOP, Halt"); !strings.Contains(out, "stop:  stop, halt") ||
		!strings.Contains(out, "start: start, anmelden") {
		t.Fatalf("keywords: %q", out)
	}
	if _, err := adminOut(t, url, data, "consent", "keywords", "--waba", b.WABA, "--start", "halt"); err == nil {
		t.Fatal("a keyword both stop and start was accepted")
	}
	if out := mustAdmin(t, url, data, "consent", "verify", "--waba", b.WABA); !strings.HasPrefix(out, "ok: 2 entries") {
		t.Fatalf("verify: %q", out)
	}

	// Tampering: change the first entry's action in the database.
	db, err := sql.Open("sqlite", filepath.Join(data, "parley.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), `UPDATE consent_entries SET action = 'opt_out' WHERE business = ? AND seq = 1`, b.WABA); err != nil {
		t.Fatal(err)
	}
	out, err = adminOut(t, url, data, "consent", "verify", "--waba", b.WABA)
	if !errors.Is(err, errChainBroken) || !strings.Contains(out, "BROKEN at entry 1") {
		t.Fatalf("verify after tampering: %q, %v; want a broken chain and an error", out, err)
	}
	if _, err := db.ExecContext(context.Background(), `UPDATE consent_entries SET action = 'opt_in' WHERE business = ? AND seq = 1`, b.WABA); err != nil {
		t.Fatal(err)
	}
	mustAdmin(t, url, data, "consent", "verify", "--waba", b.WABA)

	// GDPR for any account.
	if out := mustAdmin(t, url, data, "customer", "export", "--phone", cust); !strings.Contains(out, `"evidence": "ticked"`) {
		t.Fatalf("export: %s", out)
	}
	if out := mustAdmin(t, url, data, "customer", "erase", "--phone", cust); !strings.Contains(out, `"consent_entries_erased": 3`) ||
		!strings.Contains(out, `"consents_withdrawn": 1`) {
		t.Fatalf("erase: %s", out)
	}
	if out := mustAdmin(t, url, data, "customer", "export", "--phone", cust); strings.Contains(out, "ticked") || strings.Contains(out, `"wa_id": "4915100000501"`) {
		t.Fatalf("export after erasure still holds personal data: %s", out)
	}
	if out := mustAdmin(t, url, data, "consent", "verify", "--waba", b.WABA); !strings.HasPrefix(out, "ok: 3 entries") {
		t.Fatalf("verify after erasure: %q", out)
	}
}

// `parley chat marketing` sends the consent payload: the business's hosted
// device records the opt-out (client_switch) in its ledger.
func TestChatMarketingSwitch(t *testing.T) {
	m, url := startNode(t)
	data := m.DataDir()
	var b struct {
		WABA   string `json:"waba_id"`
		Number string `json:"phone_number_id"`
	}
	if err := json.Unmarshal([]byte(mustAdmin(t, url, data, "business", "create", "--name", "Air Parley", "--phone", "+15550783883", "--json")), &b); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	registerCLI(t, m, url, dir, "+4915100000511")
	mustAdmin(t, url, data, "consent", "record", "--number", b.Number, "--wa-id", "+4915100000511", "--action", "opt_in",
		"--purpose", "marketing", "--source-type", "in_chat")
	if out := mustChat(t, dir, "marketing", "--with", "+15550783883", "--set", "off"); out != "marketing messages from +15550783883: off\n" {
		t.Fatalf("marketing printed %q", out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		out := mustAdmin(t, url, data, "consent", "list", "--waba", b.WABA, "--wa-id", "+4915100000511")
		if strings.Contains(out, `"client_switch"`) {
			if !strings.Contains(out, `"marketing_allowed": false`) {
				t.Fatalf("after the switch: %s", out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no client_switch entry after 20s: %s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := chatCmd(t, dir, "marketing", "--with", "+15550783883", "--set", "maybe"); err == nil {
		t.Fatal("--set maybe was accepted")
	}
}

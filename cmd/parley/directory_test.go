package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// `parley admin business verify` and `listing` end to end.
func TestAdminBusinessDirectory(t *testing.T) {
	m, url := startNode(t)
	admin := func(args ...string) (string, error) {
		return captureStdout(t, func() error {
			return run(context.Background(), append([]string{"admin", "--server", url, "--data", m.DataDir()}, args...))
		})
	}
	if _, err := admin("business", "create", "--name", "Linden", "--verified-name", "Linden Bakery", "--phone", "+1 555 078 3999", "--json"); err != nil {
		t.Fatalf("business create: %v", err)
	}
	out, err := admin("business", "listing", "--listed", "true", "--category", "grocery", "--lat", "52.52", "--lng", "13.405",
		"--city", "Berlin", "--json", "+15550783999")
	var l map[string]any
	if err != nil || json.Unmarshal([]byte(out), &l) != nil || l["listed"] != true || l["category"] != "GROCERY" || l["latitude"] != 52.52 ||
		l["name"] != "Linden Bakery" || l["verified"] != false {
		t.Fatalf("listing = %q, %v", out, err)
	}
	out, err = admin("business", "verify", "15550783999")
	if err != nil || !strings.Contains(out, "verified         true") || !strings.Contains(out, "city             Berlin") {
		t.Fatalf("verify = %q, %v", out, err)
	}
	out, err = admin("business", "verify", "--off", "--json", l["phone_number_id"].(string))
	if err != nil || !strings.Contains(out, `"verified":false`) {
		t.Errorf("verify --off = %q, %v", out, err)
	}
	// Bad input: the server's message, nothing changed.
	if _, err := admin("business", "listing", "--lat", "95", "--lng", "1", "+15550783999"); err == nil || !strings.Contains(err.Error(), "latitude") {
		t.Errorf("listing with latitude 95: %v", err)
	}
	if _, err := admin("business", "verify", "+15550000000"); err == nil || !strings.Contains(err.Error(), "not a business number") {
		t.Errorf("verify of a non-business: %v", err)
	}
	for _, args := range [][]string{{"business", "verify"}, {"business", "listing", "--listed", "maybe", "+15550783999"}} {
		if _, err := admin(args...); err == nil {
			t.Errorf("admin %v succeeded", args)
		}
	}
}

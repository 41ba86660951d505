package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

// `parley admin business create --json` end to end: the printed object
// has everything an SDK needs, and the token works against the Cloud API.
func TestAdminBusinessCreateJSON(t *testing.T) {
	m, url := startNode(t)
	admin := func(args ...string) (string, error) {
		return captureStdout(t, func() error {
			return run(context.Background(), append([]string{"admin", "--server", url, "--data", m.DataDir()}, args...))
		})
	}
	out, err := admin("business", "create", "--name", "Lucky Shrub", "--phone", "+1 555 078 3881", "--json")
	if err != nil {
		t.Fatalf("business create: %v", err)
	}
	var b map[string]any
	if err := json.Unmarshal([]byte(out), &b); err != nil || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Fatalf("output is not one JSON object: %q (%v)", out, err)
	}
	for _, k := range []string{"app_id", "app_secret", "waba_id", "phone_number_id", "display_phone_number", "access_token"} {
		if s, _ := b[k].(string); s == "" {
			t.Errorf("%s missing in %s", k, out)
		}
	}
	if b["display_phone_number"] != "+15550783881" || !parley.ValidGraphID(b["phone_number_id"].(string)) {
		t.Errorf("create = %s", out)
	}
	// The number is a Parley account now.
	if _, err := m.Store().Account(context.Background(), "15550783881"); err != nil {
		t.Errorf("no account for the business number: %v", err)
	}
	req, _ := http.NewRequest("POST", url+"/v24.0/"+b["phone_number_id"].(string)+"/messages",
		bytes.NewReader([]byte(`{"messaging_product":"whatsapp","to":"16505551234","type":"text","text":{"body":"hi"}}`)))
	req.Header.Set("Authorization", "Bearer "+b["access_token"].(string))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("send with the printed token: %d", resp.StatusCode)
	}

	out, err = admin("business", "list")
	if err != nil || !strings.Contains(out, b["waba_id"].(string)) || !strings.Contains(out, "+15550783881") {
		t.Errorf("business list = %q, %v", out, err)
	}
	tok, err := admin("token", "create", "--waba", b["waba_id"].(string), "--name", "ci")
	if err != nil || !strings.HasPrefix(tok, "PAT") {
		t.Fatalf("token create = %q, %v", tok, err)
	}
	if out, err := admin("token", "revoke", "--token", strings.TrimSpace(tok)); err != nil || !strings.Contains(out, "revoked") {
		t.Errorf("token revoke = %q, %v", out, err)
	}
	out, err = admin("token", "list", "--waba", b["waba_id"].(string))
	if err != nil || !strings.Contains(out, "revoked") || !strings.Contains(out, "active") {
		t.Errorf("token list = %q, %v", out, err)
	}
	if out, err := admin("business", "throughput", "--phone-number-id", b["phone_number_id"].(string), "--mps", "1000"); err != nil || !strings.Contains(out, "1000") {
		t.Errorf("throughput = %q, %v", out, err)
	}
	// The same number cannot be a second business.
	if _, err := admin("business", "create", "--name", "Again", "--phone", "+15550783881", "--json"); err == nil {
		t.Error("second business with the same number was created")
	}
	// Usage errors.
	for _, args := range [][]string{{"business", "create", "--name", "x"}, {"business", "nope"}, {"token", "create"}, {"template", "review", "--id", "1"}} {
		if _, err := admin(args...); err == nil {
			t.Errorf("admin %v succeeded", args)
		}
	}
}

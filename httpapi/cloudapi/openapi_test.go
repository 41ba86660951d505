package cloudapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// routeList records the patterns routes registers.
type routeList []string

func (l *routeList) Handle(pattern string, _ http.Handler) { *l = append(*l, pattern) }

var pathParam = regexp.MustCompile(`\{[^}/]+\}`)

// normalize turns "GET /{phone-number-id}/messages" and
// "GET /{id}/messages" into the same key.
func normalize(method, path string) string {
	return strings.ToUpper(method) + " " + pathParam.ReplaceAllString(path, "{}")
}

// The embedded description is OpenAPI 3.1 and lists exactly the
// operations routes() serves; operations it marks x-parley-unimplemented
// must not be served (remove the mark when they are).
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
		Hooks   map[string]map[string]json.RawMessage `json:"webhooks"`
		Comp    struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Fatalf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	for _, hook := range []string{"messages", "message_template_status_update"} {
		if doc.Hooks[hook]["post"] == nil {
			t.Errorf("webhooks.%s.post missing", hook)
		}
	}

	var routes routeList
	(&API{}).routes(&routes)
	served := map[string]bool{}
	for _, p := range routes {
		method, path, ok := strings.Cut(p, " ")
		if !ok || path == "/" {
			continue // method-less patterns answer "unsupported"; "/" is the unknown-path fallback
		}
		served[normalize(method, path)] = true
	}
	if len(served) < 15 {
		t.Fatalf("routes() registered only %v", served)
	}
	described := map[string]bool{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			if !slices.Contains([]string{"get", "post", "delete", "put", "patch"}, method) {
				continue
			}
			key := normalize(method, path)
			var op struct {
				Unimplemented bool   `json:"x-parley-unimplemented"`
				OperationID   string `json:"operationId"`
				Parameters    []struct {
					Name, In string
					Required bool
				} `json:"parameters"`
			}
			json.Unmarshal(raw, &op)
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", key)
			}
			// OpenAPI requires a required path parameter for every
			// template expression of the path, and no others.
			var want, have []string
			for _, m := range pathParam.FindAllString(path, -1) {
				want = append(want, m[1:len(m)-1])
			}
			for _, p := range op.Parameters {
				if p.In == "path" {
					if !p.Required {
						t.Errorf("%s %s: path parameter %s must be required", method, path, p.Name)
					}
					have = append(have, p.Name)
				}
			}
			slices.Sort(want)
			slices.Sort(have)
			if !slices.Equal(want, have) {
				t.Errorf("%s %s: path parameters %v, want %v", method, path, have, want)
			}
			switch {
			case op.Unimplemented && served[key]:
				t.Errorf("%s is served now: drop its x-parley-unimplemented mark in openapi.json", key)
			case !op.Unimplemented && !served[key]:
				t.Errorf("openapi.json describes %s, which routes() does not serve", key)
			}
			described[key] = true
		}
	}
	for key := range served {
		if !described[key] {
			t.Errorf("routes() serves %s, which openapi.json does not describe", key)
		}
	}

	// Every $ref resolves.
	for _, ref := range regexp.MustCompile(`"\$ref":\s*"#/components/schemas/([^"]+)"`).FindAllSubmatch(OpenAPI, -1) {
		if doc.Comp.Schemas[string(ref[1])] == nil {
			t.Errorf("dangling $ref %s", ref[1])
		}
	}
}

func TestDocsServe(t *testing.T) {
	h := Docs()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" || !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("/openapi.json: %d %s", rec.Code, rec.Header())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/docs/api", nil))
	page := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("/docs/api: %d %s", rec.Code, rec.Header())
	}
	for _, want := range []string{"/{phone-number-id}/messages", "/{waba-id}/message_templates", "/{phone-number-id}/whatsapp_business_profile",
		"field messages", "SendMessage | MarkRead"} {
		if !strings.Contains(page, want) {
			t.Errorf("/docs/api lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "https://") {
		t.Error("/docs/api must be self-contained (no scripts, no external resources)")
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/openapi.json", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /openapi.json: %d", rec.Code)
	}
}

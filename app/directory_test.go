package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-chat/parley/app"
)

// Open every day, all day: "open now" without depending on the clock.
const alwaysOpen = `{"time_zone":"Europe/Berlin","weekly":{"monday":[{"open":"00:00","close":"24:00"}],"tuesday":[{"open":"00:00","close":"24:00"}],
"wednesday":[{"open":"00:00","close":"24:00"}],"thursday":[{"open":"00:00","close":"24:00"}],"friday":[{"open":"00:00","close":"24:00"}],
"saturday":[{"open":"00:00","close":"24:00"}],"sunday":[{"open":"00:00","close":"24:00"}]}}`

type dirResult struct {
	Account    string   `json:"account"`
	Name       string   `json:"name"`
	Category   string   `json:"category"`
	City       string   `json:"city"`
	DistanceKm *float64 `json:"distance_km"`
	Verified   bool     `json:"verified"`
	HasHours   bool     `json:"has_hours"`
	OpenNow    bool     `json:"open_now"`
}

type dirPage struct {
	Results    []dirResult `json:"results"`
	NextCursor string      `json:"next_cursor"`
}

func searchDir(t *testing.T, n *node, token, query string) (int, dirPage, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", n.base+"/v1/directory?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var p dirPage
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("search %s: %s: %v", query, b, err)
		}
	}
	return resp.StatusCode, p, string(b)
}

func TestDirectoryEndToEnd(t *testing.T) {
	n := startNode(t, app.Config{})
	zebra := createBusiness(t, n, map[string]any{"name": "Zebra", "verified_name": "Zebra Café"})
	nord := createBusiness(t, n, map[string]any{"name": "Nord", "verified_name": "Bäckerei Nord"})
	hidden := createBusiness(t, n, map[string]any{"name": "Hidden", "verified_name": "Zebra Hidden"})
	person := register(t, n, "+4915100000701")

	// Opening hours through the profile (a Parley extension), and read back.
	ok := func(st int, body []byte, what string) {
		t.Helper()
		if st != 200 || !strings.Contains(string(body), `"success":true`) {
			t.Fatalf("%s: %d %s", what, st, body)
		}
	}
	st, body := graph(t, n, "POST", "/v24.0/"+zebra.PhoneNumberID+"/whatsapp_business_profile", zebra.AccessToken,
		[]byte(`{"messaging_product":"whatsapp","about":"Coffee","opening_hours":`+alwaysOpen+`}`))
	ok(st, body, "profile with hours")
	st, body = graph(t, n, "GET", "/v24.0/"+zebra.PhoneNumberID+"/whatsapp_business_profile", zebra.AccessToken, nil)
	if st != 200 || !strings.Contains(string(body), `"opening_hours":{"time_zone":"Europe/Berlin","weekly":{"friday":[{"open":"00:00","close":"24:00"}]`) {
		t.Fatalf("profile read: %d %s", st, body)
	}
	// Bad hours: Meta's envelope, a message naming the fault, nothing written.
	st, body = graph(t, n, "POST", "/v24.0/"+zebra.PhoneNumberID+"/whatsapp_business_profile", zebra.AccessToken,
		[]byte(`{"about":"changed","opening_hours":{"time_zone":"Europe/Berlin","weekly":{"monday":[{"open":"09:00","close":"13:00"},{"open":"12:00","close":"18:00"}]}}}`))
	if e := wantGraphError(t, st, body, 400, 100, 0); !strings.Contains(e.Error.Data.Details, "monday: intervals overlap") {
		t.Errorf("overlapping hours: details %q", e.Error.Data.Details)
	}
	st, body = graph(t, n, "POST", "/v24.0/"+zebra.PhoneNumberID+"/whatsapp_business_profile", zebra.AccessToken,
		[]byte(`{"opening_hours":{"time_zone":"Moon/Base","weekly":{}}}`))
	if e := wantGraphError(t, st, body, 400, 100, 0); !strings.Contains(e.Error.Data.Details, "not a known IANA time zone") {
		t.Errorf("bad zone: details %q", e.Error.Data.Details)
	}
	_, body = graph(t, n, "GET", "/v24.0/"+zebra.PhoneNumberID+"/whatsapp_business_profile?fields=about", zebra.AccessToken, nil)
	if !strings.Contains(string(body), `"about":"Coffee"`) {
		t.Errorf("a refused update changed the profile: %s", body)
	}

	// Listing through the Cloud API extension (JSON and form).
	st, body = graph(t, n, "POST", "/v24.0/"+zebra.PhoneNumberID+"/directory_listing", zebra.AccessToken,
		[]byte(`{"listed":true,"category":"restaurant","latitude":52.52,"longitude":13.405,"address":"Unter den Linden 1","city":"Berlin"}`))
	ok(st, body, "zebra listing")
	req, _ := http.NewRequest("POST", n.base+"/v24.0/"+nord.PhoneNumberID+"/directory_listing",
		strings.NewReader(url.Values{"listed": {"true"}, "category": {"GROCERY"}, "latitude": {"53.5511"}, "longitude": {"9.9937"}, "city": {"Hamburg"}}.Encode()))
	req.Header.Set("Authorization", "Bearer "+nord.AccessToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("form listing: %v %v", resp, err)
	}
	st, body = graph(t, n, "GET", "/v24.0/"+zebra.PhoneNumberID+"/directory_listing", zebra.AccessToken, nil)
	for _, want := range []string{`"listed":true`, `"category":"RESTAURANT"`, `"latitude":52.52`, `"city":"Berlin"`, `"verified":false`, `"name":"Zebra Café"`} {
		if st != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET directory_listing: %d %s; want %s", st, body, want)
		}
	}

	// Bad input gets Meta's envelope and changes nothing.
	for _, tc := range []struct{ name, body, msg string }{
		{"latitude_range", `{"latitude":91,"longitude":13}`, "latitude must be a number between -90 and 90"},
		{"longitude_range", `{"latitude":52,"longitude":-181}`, "longitude must be a number between -180 and 180"},
		{"not_a_number", `{"latitude":"north","longitude":13}`, "must both be numbers"},
		{"half_a_point", `{"latitude":52}`, "must both be numbers"},
		{"category", `{"category":"PIZZA"}`, "category must be one of"},
		{"listed", `{"listed":"maybe"}`, "listed must be true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body := graph(t, n, "POST", "/v24.0/"+zebra.PhoneNumberID+"/directory_listing", zebra.AccessToken, []byte(tc.body))
			if e := wantGraphError(t, st, body, 400, 100, 0); !strings.Contains(e.Error.Data.Details, tc.msg) {
				t.Errorf("details %q, want %q", e.Error.Data.Details, tc.msg)
			}
		})
	}
	st, body = graph(t, n, "POST", "/v24.0/"+hidden.PhoneNumberID+"/directory_listing", hidden.AccessToken, []byte(`{"listed":true}`))
	if e := wantGraphError(t, st, body, 400, 100, 0); !strings.Contains(e.Error.Data.Details, "needs a category") {
		t.Errorf("listing without category: %q", e.Error.Data.Details)
	}
	// One business can never touch another's listing.
	st, body = graph(t, n, "POST", "/v24.0/"+zebra.PhoneNumberID+"/directory_listing", nord.AccessToken, []byte(`{"listed":false}`))
	wantGraphError(t, st, body, 400, 100, 33)
	st, body = graph(t, n, "GET", "/v24.0/"+zebra.PhoneNumberID+"/directory_listing", nord.AccessToken, nil)
	wantGraphError(t, st, body, 400, 100, 33)

	// The operator's badge.
	admin := adminToken(t, n)
	var l struct {
		Verified bool   `json:"verified"`
		Name     string `json:"name"`
	}
	if st := call(t, "PUT", n.base+"/admin/v1/numbers/"+zebra.Account+"/verified", admin, map[string]bool{"verified": true}, &l); st != 200 || !l.Verified || l.Name != "Zebra Café" {
		t.Fatalf("verify: %d %+v", st, l)
	}
	if st := call(t, "PUT", n.base+"/admin/v1/numbers/"+zebra.PhoneNumberID+"/verified", zebra.AccessToken, map[string]bool{"verified": false}, nil); st != 401 {
		t.Errorf("verify with a business token: %d, want 401", st)
	}
	// The Cloud API's number object calls the badge an Official Business Account.
	for _, c := range []struct {
		b    business
		want string
	}{{zebra, `"is_official_business_account":true`}, {nord, `"is_official_business_account":false`}} {
		if st, body := graph(t, n, "GET", "/v24.0/"+c.b.PhoneNumberID+"?fields=is_official_business_account", c.b.AccessToken, nil); st != 200 || !strings.Contains(string(body), c.want) {
			t.Errorf("number of %s: %d %s, want %s", c.b.Account, st, body, c.want)
		}
	}

	// Client search.
	st, page, raw := searchDir(t, n, person.Token, "q=ZEB")
	if st != 200 || len(page.Results) != 1 || page.Results[0].Account != zebra.Account || !page.Results[0].Verified ||
		!page.Results[0].OpenNow || !page.Results[0].HasHours || page.Results[0].DistanceKm != nil {
		t.Fatalf("search q=ZEB: %d %s", st, raw)
	}
	st, page, raw = searchDir(t, n, person.Token, "category=grocery")
	if st != 200 || len(page.Results) != 1 || page.Results[0].Name != "Bäckerei Nord" || page.Results[0].OpenNow || page.Results[0].HasHours {
		t.Fatalf("search category: %d %s", st, raw)
	}
	st, page, raw = searchDir(t, n, person.Token, "lat=52.50&lng=13.40&radius_km=10")
	if st != 200 || len(page.Results) != 1 || page.Results[0].Name != "Zebra Café" || page.Results[0].DistanceKm == nil ||
		*page.Results[0].DistanceKm < 2 || *page.Results[0].DistanceKm > 3 {
		t.Fatalf("search near Berlin: %d %s", st, raw)
	}
	st, page, raw = searchDir(t, n, person.Token, "lat=52.50&lng=13.40&radius_km=500&limit=1")
	if st != 200 || len(page.Results) != 1 || page.Results[0].Name != "Zebra Café" || page.NextCursor == "" {
		t.Fatalf("search page 1: %d %s", st, raw)
	}
	st, page, raw = searchDir(t, n, person.Token, "lat=52.50&lng=13.40&radius_km=500&limit=1&cursor="+page.NextCursor)
	if st != 200 || len(page.Results) != 1 || page.Results[0].Name != "Bäckerei Nord" || page.NextCursor != "" {
		t.Fatalf("search page 2: %d %s", st, raw)
	}
	for _, tc := range []struct{ q, msg string }{
		{"lat=95&lng=10", "latitude must be a number between -90 and 90"},
		{"lat=52", "lat and lng must be given together"},
		{"lat=x&lng=1", "lat must be a number"},
		{"lat=1&lng=1&radius_km=-3", "radius_km must be between"},
		{"radius_km=3", "radius_km needs lat and lng"},
		{"category=PIZZA", "category must be one of"},
		{"limit=500", "limit must be between 1 and 50"},
		{"cursor=abc", "cursor is not valid"},
	} {
		st, _, raw := searchDir(t, n, person.Token, tc.q)
		if st != 400 || !strings.Contains(raw, tc.msg) {
			t.Errorf("search %s: %d %s; want 400 %q", tc.q, st, raw, tc.msg)
		}
	}
	if st := call(t, "GET", n.base+"/v1/directory?q=zeb", "", nil, nil); st != 401 {
		t.Errorf("search without a token: %d", st)
	}

	// The business card shows hours, open now, badge and listing.
	var card struct {
		Verified bool `json:"verified"`
		Profile  struct {
			OpeningHours struct {
				TimeZone string `json:"time_zone"`
			} `json:"opening_hours"`
		} `json:"profile"`
		Hours *struct {
			OpenNow    bool   `json:"open_now"`
			NextChange *int64 `json:"next_change"`
		} `json:"hours"`
		Listing *struct {
			Category string `json:"category"`
			City     string `json:"city"`
		} `json:"listing"`
	}
	if st := call(t, "GET", n.base+"/v1/accounts/"+zebra.Account+"/business", person.Token, nil, &card); st != 200 || !card.Verified ||
		card.Hours == nil || !card.Hours.OpenNow || card.Hours.NextChange != nil || card.Profile.OpeningHours.TimeZone != "Europe/Berlin" ||
		card.Listing == nil || card.Listing.Category != "RESTAURANT" {
		t.Fatalf("card: %d %+v", st, card)
	}

	// The names list, revalidated by ETag.
	names := func(etag string) (int, string, string) {
		req, _ := http.NewRequest("GET", n.base+"/v1/directory/names", nil)
		req.Header.Set("Authorization", "Bearer "+person.Token)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("ETag"), string(b)
	}
	st, etag, raw := names("")
	if st != 200 || etag == "" || !strings.Contains(raw, `{"name":"Zebra Café","account":"`+zebra.Account+`"}`) || !strings.Contains(raw, "Bäckerei Nord") ||
		strings.Contains(raw, "Hidden") {
		t.Fatalf("names: %d %q %s", st, etag, raw)
	}
	if st, _, raw := names(etag); st != 304 || raw != "" {
		t.Errorf("names with a current ETag: %d %s, want 304", st, raw)
	}
	// The operator unlists Nord: it leaves search and names at once.
	var ol struct {
		Listed bool `json:"listed"`
	}
	if st := call(t, "POST", n.base+"/admin/v1/numbers/"+nord.PhoneNumberID+"/listing", admin, map[string]any{"listed": false}, &ol); st != 200 || ol.Listed {
		t.Fatalf("operator unlist: %d %+v", st, ol)
	}
	if st, etag2, raw := names(etag); st != 200 || etag2 == etag || strings.Contains(raw, "Nord") {
		t.Errorf("names after unlisting: %d %q %s", st, etag2, raw)
	}
	if _, page, raw := searchDir(t, n, person.Token, "category=GROCERY"); len(page.Results) != 0 {
		t.Errorf("search after unlisting: %s", raw)
	}

	// Searches are rate-limited per account.
	limited := false
	for i := 0; i < 70 && !limited; i++ {
		st, _, raw := searchDir(t, n, person.Token, "q=a")
		if st == 429 {
			limited = strings.Contains(raw, "rate_limited")
		}
	}
	if !limited {
		t.Error("70 searches in a row were never rate-limited")
	}
}

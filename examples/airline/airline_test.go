package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/app/apptest"
	"github.com/parley-chat/parley/examples/cloudapi"
)

func submit(t *testing.T, srv *httptest.Server, ref, last, phone string, consent bool) (int, string) {
	t.Helper()
	v := url.Values{"ref": {ref}, "last": {last}, "phone": {phone}}
	if consent {
		v.Set("consent", "yes")
	}
	resp, err := http.PostForm(srv.URL+"/checkin", v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The PDF's cross-reference table points at its objects, byte for byte.
func TestBoardingPassPDF(t *testing.T) {
	pdf := boardingPassPDF("Boarding pass", []string{"Passenger: Jonas Müller (PY 88)", `Back\slash`})
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		t.Fatalf("not a PDF: %q…", pdf[:20])
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n`).FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no startxref")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(pdf[xref:], []byte("xref\n0 6\n")) {
		t.Fatalf("startxref %d does not point at the xref table", xref)
	}
	rows := strings.Split(string(pdf[xref:]), "\n")[3:8]
	for i, row := range rows {
		off, _ := strconv.Atoi(row[:10])
		if want := fmt.Sprintf("%d 0 obj\n", i+1); !bytes.HasPrefix(pdf[off:], []byte(want)) {
			t.Errorf("object %d: offset %d points at %q", i+1, off, pdf[off:off+10])
		}
	}
	if !bytes.Contains(pdf, []byte(`(Passenger: Jonas M?ller \(PY 88\)) Tj`)) || !bytes.Contains(pdf, []byte(`(Back\\slash) Tj`)) {
		t.Errorf("text not escaped for PDF strings:\n%s", pdf)
	}
	stream := regexp.MustCompile(`(?s)<< /Length (\d+) >>\nstream\n(.*)endstream`).FindSubmatch(pdf)
	if n, _ := strconv.Atoi(string(stream[1])); n != len(stream[2]) {
		t.Errorf("stream /Length %d, stream has %d bytes", n, len(stream[2]))
	}
}

// A passenger checks in on the website with their number and consent:
// the opt-in lands in the ledger with the form as evidence, and the
// passenger's messenger receives the departure time with the boarding
// pass as a PDF. Without consent, with a wrong booking or number, nothing
// is recorded or sent and the page says why.
func TestCheckinSendsBoardingPass(t *testing.T) {
	node := apptest.Start(t)
	biz := node.CreateBusiness("Parley Air", nil)
	passenger := node.Customer(apptest.Phone())
	api := &cloudapi.Client{BaseURL: node.Base + "/v24.0", Token: biz.AccessToken, PhoneNumberID: biz.PhoneNumberID, WABAID: biz.WABAID}
	bookings := demoBookings(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	a := New(api, bookings, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := a.Setup(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `<input type="checkbox" id="consent" name="consent" value="yes">`) {
		t.Fatalf("form: %d %s", resp.StatusCode, page)
	}

	bad := []struct {
		ref, last, phone string
		consent          bool
		status           int
		says             string
	}{
		{"PX7Q2D", "Smith", passenger.Phone, true, 404, "We found no booking"},
		{"PX7Q2D", "Doe", "0151 1234", true, 400, "with the country code"},
		{"PX7Q2D", "Doe", passenger.Phone, false, 400, "without your consent"},
		{"PX7Q2D", "Doe", "+1 555 999 0000", true, 400, "no Parley account"},
		{"<script>", "<b>x</b>", "<i>", true, 404, "We found no booking"},
	}
	for _, b := range bad {
		st, body := submit(t, srv, b.ref, b.last, b.phone, b.consent)
		if st != b.status || !strings.Contains(body, b.says) || strings.Contains(body, "<script>") || strings.Contains(body, "<b>x") {
			t.Errorf("%+v: %d, page:\n%s", b, st, body)
		}
	}
	if st, raw := node.Call("GET", "/v24.0/"+biz.PhoneNumberID+"/consents?wa_id="+strings.TrimPrefix(passenger.Phone, "+"), biz.AccessToken, nil, nil); st != 200 || strings.Contains(string(raw), "opted_in") {
		t.Fatalf("consent before a valid check-in: %d %s", st, raw)
	}
	if got := passenger.Inbox(); len(got) != 0 {
		t.Fatalf("passenger received %v before consenting", got)
	}

	st, body := submit(t, srv, "px7q2d", "doe", " "+strings.Replace(passenger.Phone, "+", "00", 1)+" ", true)
	if st != 200 || !strings.Contains(body, "Done: your boarding pass is on its way to &#43;"+strings.TrimPrefix(passenger.Phone, "+")) {
		t.Fatalf("check-in: %d %s", st, body)
	}

	var consent struct {
		States  []struct{ Purpose, Status string } `json:"states"`
		History []struct {
			Action   string   `json:"action"`
			Purposes []string `json:"purposes"`
			Source   struct{ Type, ID, Evidence string }
			Hash     string `json:"hash"`
		} `json:"history"`
	}
	if st, raw := node.Call("GET", "/v24.0/"+biz.PhoneNumberID+"/consents?wa_id="+strings.TrimPrefix(passenger.Phone, "+"), biz.AccessToken, nil, &consent); st != 200 {
		t.Fatalf("consents: %d %s", st, raw)
	}
	if len(consent.States) != 1 || consent.States[0].Purpose != Purpose || consent.States[0].Status != "opted_in" ||
		len(consent.History) != 1 || consent.History[0].Source.Type != "website_form" || consent.History[0].Hash == "" ||
		!strings.Contains(consent.History[0].Source.Evidence, ConsentText) || !strings.Contains(consent.History[0].Source.Evidence, "booking PX7Q2D") {
		t.Fatalf("consent = %+v", consent)
	}

	got := passenger.WaitInbox(1)
	b := bookings["PX7Q2D"]
	wantPDF := boardingPassPDF("Parley Air boarding pass", []string{
		"Passenger: Jane Doe", "Flight: PY 123 to Lisbon", "Departure: " + b.Departure.Format("2 January 2006 15:04"),
		"Gate: B22", "Seat: 14C", "Booking: PX7Q2D",
	})
	sum := sha256.Sum256(wantPDF)
	m := got[0]
	raw, _ := json.Marshal(m)
	media, _ := m["media"].(map[string]any)
	if m["type"] != "template" || media == nil || media["mime_type"] != "application/pdf" ||
		media["filename"] != "boarding-pass-PX7Q2D.pdf" || media["sha256"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("passenger received %s", raw)
	}
	if !strings.Contains(string(raw), "departs at {{4}}") || !strings.Contains(string(raw), `"14:35 on 3 December"`) {
		t.Errorf("the template does not carry the departure time: %s", raw)
	}
	if len(passenger.Inbox()) != 1 {
		t.Errorf("more than one message for one check-in")
	}

	// The footer's promise: replying STOP ends the flight updates too.
	passenger.Send("+"+biz.Account, "STOP")
	deadline := time.Now().Add(20 * time.Second)
	for {
		node.Call("GET", "/v24.0/"+biz.PhoneNumberID+"/consents?wa_id="+strings.TrimPrefix(passenger.Phone, "+"), biz.AccessToken, nil, &consent)
		stopped := 0
		for _, st := range consent.States {
			if st.Status == "opted_out" && (st.Purpose == Purpose || st.Purpose == "marketing") {
				stopped++
			}
		}
		if stopped == 2 && len(consent.States) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after STOP: %+v", consent)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

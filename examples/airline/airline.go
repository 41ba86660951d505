package main

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/parley-chat/parley/examples/cloudapi"
)

// Purpose is the utility topic passengers opt in to on the form.
const Purpose = "flight updates"

// ConsentText is what the checkbox says; it is recorded as the evidence
// of the opt-in, so that the airline can show what the passenger agreed to.
const ConsentText = "Send my boarding pass and updates about this flight to my Parley messenger. I can stop them at any time by replying STOP."

// DepartureTemplate is the utility template with the boarding pass as a
// PDF document header.
var DepartureTemplate = cloudapi.Template{Name: "flight_departure", Language: "en_US", Category: "UTILITY",
	Components: []map[string]any{
		{"type": "HEADER", "format": "DOCUMENT", "example": map[string]any{"header_handle": []string{"4::YXBwbGljYXRpb24vcGRm:ARb"}}},
		{"type": "BODY", "text": "Hello {{1}}, flight {{2}} to {{3}} departs at {{4}} from gate {{5}}. Your boarding pass is attached.",
			"example": map[string]any{"body_text": [][]string{{"Jane Doe", "PY 123", "Lisbon", "14:35 on 3 December", "B22"}}}},
		{"type": "FOOTER", "text": "Reply STOP to stop flight updates"},
	}}

// Booking is one passenger's booking (the example keeps a few in memory).
type Booking struct {
	Ref         string
	LastName    string
	Passenger   string
	Flight      string
	Destination string
	Departure   time.Time
	Gate        string
	Seat        string
}

// Airline serves the check-in form and sends boarding passes.
type Airline struct {
	API      *cloudapi.Client
	Bookings map[string]Booking // by booking reference
	Log      *slog.Logger
	// Consent records the passenger's opt-in in the business's ledger
	// before anything is sent (Parley's consent API).
	Consent func(ctx context.Context, phone, evidence string) error
}

// Setup creates the template (once).
func (a *Airline) Setup(ctx context.Context) error {
	status, err := a.API.EnsureTemplate(ctx, DepartureTemplate)
	if err != nil {
		return fmt.Errorf("template %s: %w", DepartureTemplate.Name, err)
	}
	if status != "APPROVED" {
		return fmt.Errorf("template %s is %s, not APPROVED yet", DepartureTemplate.Name, status)
	}
	return nil
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley Air — boarding pass to your messenger</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}
label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=tel]{width:100%;padding:.5rem;font:inherit}
.consent{display:flex;gap:.5rem;align-items:flex-start;margin:1rem 0}.error{color:#a40000}.ok{color:#0a5d00}
button{padding:.6rem 1.2rem;font:inherit}</style></head><body>
<h1>Boarding pass to your messenger</h1>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
{{if .Done}}<p class="ok" role="status">{{.Done}}</p>{{else}}
<form method="post" action="/checkin">
<label for="ref">Booking reference</label><input type="text" id="ref" name="ref" value="{{.Ref}}" required maxlength="6" autocomplete="off">
<label for="last">Last name</label><input type="text" id="last" name="last" value="{{.Last}}" required maxlength="60">
<label for="phone">Mobile number (with country code, e.g. +49 151 12345678)</label><input type="tel" id="phone" name="phone" value="{{.Phone}}" required maxlength="20">
<div class="consent"><input type="checkbox" id="consent" name="consent" value="yes"><label for="consent" style="margin:0">{{.ConsentText}}</label></div>
<button type="submit">Send my boarding pass</button>
</form>{{end}}
</body></html>`))

type form struct {
	Ref, Last, Phone, Error, Done, ConsentText string
}

var spaces = regexp.MustCompile(`[\s\-()/.]`)

// phone normalises what people type into E.164, or reports why not.
func phone(s string) (string, error) {
	s = spaces.ReplaceAllString(strings.TrimSpace(s), "")
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if !regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`).MatchString(s) {
		return "", errors.New("Please enter your mobile number with the country code, for example +49 151 12345678.")
	}
	return s, nil
}

func (a *Airline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := form{ConsentText: ConsentText}
	status := http.StatusOK
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/":
	case r.Method == http.MethodPost && r.URL.Path == "/checkin":
		r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
		if err := r.ParseForm(); err != nil {
			f.Error, status = "The form could not be read; please try again.", http.StatusBadRequest
			break
		}
		f.Ref, f.Last, f.Phone = strings.ToUpper(strings.TrimSpace(r.PostFormValue("ref"))), strings.TrimSpace(r.PostFormValue("last")), r.PostFormValue("phone")
		msg, code := a.checkin(r, f.Ref, f.Last, f.Phone, r.PostFormValue("consent") == "yes")
		if code == http.StatusOK {
			f.Done = msg
		} else {
			f.Error, status = msg, code
		}
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.WriteHeader(status)
	page.Execute(w, f)
}

// checkin records the opt-in and sends the boarding pass; it returns
// the sentence to show and the HTTP status.
func (a *Airline) checkin(r *http.Request, ref, last, rawPhone string, consent bool) (string, int) {
	ctx := r.Context()
	b, ok := a.Bookings[ref]
	if !ok || !strings.EqualFold(b.LastName, last) {
		return "We found no booking with that reference and last name.", http.StatusNotFound
	}
	to, err := phone(rawPhone)
	if err != nil {
		return err.Error(), http.StatusBadRequest
	}
	if !consent {
		return "We will not send anything to your messenger without your consent: tick the box to receive your boarding pass there.", http.StatusBadRequest
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	evidence := fmt.Sprintf("check-in form %s; booking %s; checkbox: %q; from %s; user agent %q", r.Host, ref, ConsentText, host, r.UserAgent())
	if err := a.Consent(ctx, to, evidence); err != nil {
		a.Log.Warn("recording consent", "booking", ref, "err", err)
		return friendly(err, "We could not record your consent, so we sent nothing."), statusOf(err)
	}
	pdf := boardingPassPDF("Parley Air boarding pass", []string{
		"Passenger: " + b.Passenger, "Flight: " + b.Flight + " to " + b.Destination,
		"Departure: " + b.Departure.Format("2 January 2006 15:04"), "Gate: " + b.Gate, "Seat: " + b.Seat, "Booking: " + b.Ref,
	})
	id, err := a.API.UploadMedia(ctx, "application/pdf", "boarding-pass-"+b.Ref+".pdf", pdf)
	if err != nil {
		a.Log.Warn("uploading the boarding pass", "booking", ref, "err", err)
		return friendly(err, "We could not prepare your boarding pass; please try again in a minute."), statusOf(err)
	}
	_, err = a.API.SendTemplate(ctx, to, DepartureTemplate.Name, DepartureTemplate.Language, []cloudapi.Component{
		{Type: "header", Parameters: []cloudapi.Parameter{{Type: "document", Document: &cloudapi.Media{ID: id, Filename: "boarding-pass-" + b.Ref + ".pdf"}}}},
		{Type: "body", Parameters: []cloudapi.Parameter{cloudapi.Text(b.Passenger), cloudapi.Text(b.Flight), cloudapi.Text(b.Destination),
			cloudapi.Text(b.Departure.Format("15:04 on 2 January")), cloudapi.Text(b.Gate)}},
	})
	if err != nil {
		a.Log.Warn("sending the boarding pass", "booking", ref, "err", err)
		return friendly(err, "We could not send your boarding pass; please try again in a minute."), statusOf(err)
	}
	return "Done: your boarding pass is on its way to " + to + ". You will also get updates about flight " + b.Flight + ".", http.StatusOK
}

// friendly says what went wrong without the API's internals, except for
// problems the passenger can fix.
func friendly(err error, fallback string) string {
	var e *cloudapi.Error
	if errors.As(err, &e) && e.Status == http.StatusBadRequest && e.Code == 100 && strings.Contains(e.Details, "no Parley account") {
		return "That number has no Parley account yet: install Parley, register with this number, and try again."
	}
	return fallback
}

func statusOf(err error) int {
	var e *cloudapi.Error
	if errors.As(err, &e) && e.Status == http.StatusBadRequest {
		return http.StatusBadRequest
	}
	return http.StatusBadGateway
}

// Command airline is a worked example of notifications on request: an
// airline's check-in page takes the passenger's mobile number, records the
// opt-in in the business's consent ledger, and sends a utility template
// with the departure time and the boarding pass as a PDF document header
// through the Cloud API of a Parley server.
//
//	PARLEY_API=http://localhost:8080/v24.0 ACCESS_TOKEN=… PHONE_NUMBER_ID=… WABA_ID=… \
//	  go run ./examples/airline --addr :8091
//
// then open http://localhost:8091/ and check in with booking PX7Q2D, last
// name Doe. See examples/README.md for the whole walk-through.
package main

import (
	"context"
	"flag"
	"log/slog"
	"net/http"
	"time"

	"github.com/parley-chat/parley/examples/cloudapi"
	"github.com/parley-chat/parley/examples/internal/serve"
)

// demoBookings are the bookings the example knows.
func demoBookings(now time.Time) map[string]Booking {
	dep := time.Date(now.Year(), now.Month(), now.Day(), 14, 35, 0, 0, time.UTC).AddDate(0, 0, 1)
	return map[string]Booking{
		"PX7Q2D": {Ref: "PX7Q2D", LastName: "Doe", Passenger: "Jane Doe", Flight: "PY 123", Destination: "Lisbon", Departure: dep, Gate: "B22", Seat: "14C"},
		"K9M4TR": {Ref: "K9M4TR", LastName: "Müller", Passenger: "Jonas Müller", Flight: "PY 88", Destination: "Oslo", Departure: dep.Add(3 * time.Hour), Gate: "A3", Seat: "2A"},
	}
}

// New wires an Airline to the Cloud API: the opt-in goes into the
// consent ledger with the form as evidence.
func New(api *cloudapi.Client, bookings map[string]Booking, log *slog.Logger) *Airline {
	return &Airline{API: api, Bookings: bookings, Log: log,
		Consent: func(ctx context.Context, phone, evidence string) error {
			_, err := api.RecordConsent(ctx, phone, "opt_in", []string{Purpose}, cloudapi.ConsentSource{Type: "website_form", ID: "check-in", Evidence: evidence})
			return err
		}}
}

func main() {
	addr := flag.String("addr", ":8091", "address of the check-in page")
	flag.Parse()
	serve.Main(*addr, "check-in page", func(ctx context.Context, api *cloudapi.Client, log *slog.Logger) (http.Handler, error) {
		a := New(api, demoBookings(time.Now()), log)
		return a, a.Setup(ctx)
	})
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"unicode/utf8"

	"github.com/parley-chat/parley/examples/cloudapi"
)

// Parcel statuses in the order a parcel passes them.
const (
	Accepted       = "accepted"
	OutForDelivery = "out_for_delivery"
	Delivered      = "delivered"
)

var rank = map[string]int{Accepted: 1, OutForDelivery: 2, Delivered: 3}

// Templates are the utility templates the shop sends, one per status
// (language en_US). Utility templates may go to a customer outside the
// 24-hour window; they need no marketing consent.
var Templates = []cloudapi.Template{
	{Name: "parcel_accepted", Language: "en_US", Category: "UTILITY", Components: []map[string]any{
		{"type": "BODY", "text": "Hi {{1}}, the carrier has your parcel {{2}}. We will tell you when it is on its way.",
			"example": map[string]any{"body_text": [][]string{{"Jane", "JJD0003900071"}}}},
		{"type": "FOOTER", "text": "Lucky Shrub parcel updates"},
	}},
	{Name: "parcel_out_for_delivery", Language: "en_US", Category: "UTILITY", Components: []map[string]any{
		{"type": "BODY", "text": "Your parcel {{1}} is out for delivery and should arrive {{2}}.",
			"example": map[string]any{"body_text": [][]string{{"JJD0003900071", "today between 14:00 and 16:00"}}}},
		{"type": "FOOTER", "text": "Lucky Shrub parcel updates"},
	}},
	{Name: "parcel_delivered", Language: "en_US", Category: "UTILITY", Components: []map[string]any{
		{"type": "BODY", "text": "Your parcel {{1}} was delivered: {{2}}. Enjoy your plants!",
			"example": map[string]any{"body_text": [][]string{{"JJD0003900071", "left with a neighbour"}}}},
		{"type": "FOOTER", "text": "Lucky Shrub parcel updates"},
	}},
}

// Event is what the carrier posts for each scan of a parcel.
type Event struct {
	ID     string `json:"event_id"` // the carrier's id; carriers retry, so the same event can come twice
	Parcel string `json:"parcel"`
	Phone  string `json:"phone"` // the customer's number, E.164, given at checkout
	Name   string `json:"name"`
	Status string `json:"status"` // accepted, out_for_delivery, delivered
	Detail string `json:"detail"` // "today between 14:00 and 16:00", "left with a neighbour"
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

func (e *Event) validate() error {
	switch {
	case e.ID == "" || len(e.ID) > 128:
		return badEvent("event_id is required (at most 128 characters)")
	case e.Parcel == "" || len(e.Parcel) > 64:
		return badEvent("parcel is required (at most 64 characters)")
	case !e164.MatchString(e.Phone):
		return badEvent("phone must be an E.164 number such as +4915112345678")
	case rank[e.Status] == 0:
		return badEvent("status %q is not one of accepted, out_for_delivery, delivered", e.Status)
	case utf8.RuneCountInString(e.Name) > 60 || utf8.RuneCountInString(e.Detail) > 200:
		return badEvent("name (60) or detail (200 characters) is too long")
	}
	return nil
}

// Notifier turns parcel events into template messages as they arrive.
// It remembers (in memory: this is an example; a shop would keep it in
// its database) which events it handled and how far each parcel got, so
// that a retried event sends nothing and a late scan ("out for delivery"
// arriving after "delivered") does not confuse the customer.
type Notifier struct {
	API *cloudapi.Client
	Log *slog.Logger

	mu     sync.Mutex
	seen   map[string]string // event id → wamid
	parcel map[string]int    // parcel → rank of the last status sent
}

// Setup creates the templates (once).
func (n *Notifier) Setup(ctx context.Context) error {
	for _, t := range Templates {
		status, err := n.API.EnsureTemplate(ctx, t)
		if err != nil {
			return fmt.Errorf("template %s: %w", t.Name, err)
		}
		if status != "APPROVED" {
			return fmt.Errorf("template %s is %s, not APPROVED yet", t.Name, status)
		}
	}
	return nil
}

// Result is the answer to a posted event.
type Result struct {
	WAMID   string `json:"wamid,omitempty"`
	Skipped string `json:"skipped,omitempty"` // why nothing was sent
}

// Handle sends the message for one event.
func (n *Notifier) Handle(ctx context.Context, e *Event) (Result, error) {
	if err := e.validate(); err != nil {
		return Result{}, err
	}
	// One event at a time keeps each parcel's messages in order; a shop
	// with many parcels would lock per parcel instead.
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.seen == nil {
		n.seen, n.parcel = map[string]string{}, map[string]int{}
	}
	if w, ok := n.seen[e.ID]; ok {
		return Result{WAMID: w, Skipped: "duplicate event"}, nil
	}
	if rank[e.Status] <= n.parcel[e.Parcel] {
		n.seen[e.ID] = ""
		return Result{Skipped: "the customer already has a later status"}, nil
	}
	var name string
	var params []cloudapi.Parameter
	switch e.Status {
	case Accepted:
		first := e.Name
		if first == "" {
			first = "there"
		}
		name, params = "parcel_accepted", []cloudapi.Parameter{cloudapi.Text(first), cloudapi.Text(e.Parcel)}
	case OutForDelivery:
		name, params = "parcel_out_for_delivery", []cloudapi.Parameter{cloudapi.Text(e.Parcel), cloudapi.Text(orDefault(e.Detail, "today"))}
	case Delivered:
		name, params = "parcel_delivered", []cloudapi.Parameter{cloudapi.Text(e.Parcel), cloudapi.Text(orDefault(e.Detail, "at your door"))}
	}
	wamid, err := n.API.SendTemplate(ctx, e.Phone, name, "en_US", []cloudapi.Component{{Type: "body", Parameters: params}})
	if err != nil {
		return Result{}, err
	}
	n.seen[e.ID], n.parcel[e.Parcel] = wamid, rank[e.Status]
	n.Log.Info("parcel update sent", "parcel", e.Parcel, "status", e.Status, "wamid", wamid)
	return Result{WAMID: wamid}, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// ServeHTTP is POST /parcel-events with one Event as JSON.
func (n *Notifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST a parcel event", http.StatusMethodNotAllowed)
		return
	}
	var e Event
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the body must be one JSON parcel event: " + err.Error()})
		return
	}
	res, err := n.Handle(r.Context(), &e)
	var apiErr *cloudapi.Error
	switch {
	case errors.As(err, &apiErr):
		// The carrier retries on 5xx: right for an outage, useless for a
		// number that cannot receive messages (4xx from the API).
		status := http.StatusBadGateway
		if apiErr.Status < 500 {
			status = http.StatusUnprocessableEntity
		}
		writeJSON(w, status, map[string]string{"error": apiErr.Error()})
	case errors.As(err, new(*inputError)):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	case err != nil:
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

// inputError is an event the shop cannot use; the carrier should not retry it.
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

func badEvent(format string, args ...any) error { return &inputError{fmt.Sprintf(format, args...)} }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

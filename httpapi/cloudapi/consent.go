package cloudapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

// The opt-in ledger's routes: Parley extensions (Meta's Cloud API has no
// consent API), in the same style and with the same tokens and errors.
func (a *API) consentRoutes(mux router) {
	mux.Handle("POST /{id}/consents", a.authed(a.withConsent(a.recordConsent)))
	mux.Handle("GET /{id}/consents", a.authed(a.withConsent(a.getConsents)))
	mux.Handle("GET /{id}/consents/verify", a.authed(a.withConsent(a.verifyConsents)))
	mux.Handle("GET /{id}/consent_keywords", a.authed(a.withConsent(a.getConsentKeywords)))
	mux.Handle("POST /{id}/consent_keywords", a.authed(a.withConsent(a.setConsentKeywords)))
}

// withConsent answers like an unknown edge when the node has no ledger.
func (a *API) withConsent(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if a.Consent == nil {
			return unsupported(r.PathValue("id"))
		}
		return h(w, r)
	}
}

type consentSourceJSON struct {
	Type     string `json:"type"`
	ID       string `json:"id,omitempty"`
	Evidence string `json:"evidence,omitempty"`
}

type consentRequest struct {
	MessagingProduct string            `json:"messaging_product"`
	WaID             string            `json:"wa_id"`
	Action           string            `json:"action"`
	Purposes         []string          `json:"purposes"`
	Source           consentSourceJSON `json:"source"`
}

// ConsentEntryJSON is an entry as the API shows it; the customer's
// export (GET /v1/me/export) uses the same shape.
type ConsentEntryJSON struct {
	ID            string            `json:"id"` // "<waba-id>.<seq>"
	BusinessID    string            `json:"business_id"`
	Seq           int64             `json:"seq"`
	PhoneNumberID string            `json:"phone_number_id,omitempty"`
	WaID          string            `json:"wa_id"` // "" once erased
	Action        string            `json:"action"`
	Purposes      []string          `json:"purposes"`
	Source        consentSourceJSON `json:"source"`
	RecordedAt    string            `json:"recorded_at"` // RFC 3339, microseconds
	PrevHash      string            `json:"prev_hash"`
	Hash          string            `json:"hash"`
	Erased        bool              `json:"erased,omitempty"`
}

// ConsentEntryOf shapes an entry for JSON.
func ConsentEntryOf(e *parley.ConsentEntry) ConsentEntryJSON {
	return ConsentEntryJSON{ID: e.Business + "." + strconv.FormatInt(e.Seq, 10), BusinessID: e.Business, Seq: e.Seq,
		PhoneNumberID: e.Number, WaID: e.Customer, Action: e.Action, Purposes: e.Purposes,
		Source:     consentSourceJSON{Type: e.Source.Type, ID: e.Source.ID, Evidence: e.Source.Evidence},
		RecordedAt: e.RecordedAt.UTC().Format(time.RFC3339Nano), PrevHash: e.PrevHash, Hash: e.Hash, Erased: e.Erased()}
}

// recordConsent is POST /{phone-number-id}/consents.
func (a *API) recordConsent(w http.ResponseWriter, r *http.Request) error {
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	var req consentRequest
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&req); err != nil {
		return parley.Errorf(parley.EINVALID, "Request body is not a valid consent record: %s", jsonProblem(err))
	}
	if req.MessagingProduct != "" && req.MessagingProduct != "whatsapp" {
		return parley.Errorf(parley.EINVALID, "messaging_product must be whatsapp")
	}
	if req.WaID == "" {
		return parley.Errorf(parley.EINVALID, "The parameter wa_id is required.")
	}
	e, err := a.Consent.Record(r.Context(), caller(r), r.PathValue("id"), service.ConsentRequest{WaID: req.WaID, Action: req.Action,
		Purposes: req.Purposes, Source: parley.ConsentSource{Type: req.Source.Type, ID: req.Source.ID, Evidence: req.Source.Evidence}})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ConsentEntryOf(e))
	return nil
}

type consentStateJSON struct {
	Purpose   string `json:"purpose"`
	Status    string `json:"status"` // opted_in or opted_out
	Seq       int64  `json:"seq"`
	UpdatedAt string `json:"updated_at"`
}

// getConsents is GET /{phone-number-id}/consents?wa_id=…: the customer's
// current states with the business and the entries about them.
func (a *API) getConsents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	waID := q.Get("wa_id")
	if waID == "" {
		if c := caller(r); c != nil && c.Business == r.PathValue("id") {
			return a.listLedger(w, r)
		}
		return parley.Errorf(parley.EINVALID, "The parameter wa_id is required.")
	}
	c, err := a.Consent.Customer(r.Context(), caller(r), r.PathValue("id"), waID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, CustomerConsentJSON(c))
	return nil
}

// listLedger is GET /{waba-id}/consents[?after=SEQ][&limit=N]: the
// business's ledger in order, up to limit (100, at most 1000) entries.
func (a *API) listLedger(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var after int64
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return parley.Errorf(parley.EINVALID, "after must be an entry's seq")
		}
		after = n
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return parley.Errorf(parley.EINVALID, "limit must be between 1 and 1000")
		}
		limit = n
	}
	entries, err := a.Consent.Ledger(r.Context(), caller(r), r.PathValue("id"), after, limit+1)
	if err != nil {
		return err
	}
	more := len(entries) > limit
	if more {
		entries = entries[:limit]
	}
	data := make([]ConsentEntryJSON, 0, len(entries))
	for i := range entries {
		data = append(data, ConsentEntryOf(&entries[i]))
	}
	out := object{"data": data}
	if more {
		out["paging"] = object{"cursors": object{"after": strconv.FormatInt(entries[len(entries)-1].Seq, 10)}}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// CustomerConsentJSON shapes a customer's consent for JSON.
func CustomerConsentJSON(c *service.CustomerConsent) object {
	states := make([]consentStateJSON, 0, len(c.States))
	marketing := false
	for _, s := range c.States {
		st := "opted_out"
		if s.Action == parley.ConsentOptIn {
			st = "opted_in"
		}
		if s.Purpose == parley.PurposeMarketing {
			marketing = s.Action == parley.ConsentOptIn
		}
		states = append(states, consentStateJSON{Purpose: s.Purpose, Status: st, Seq: s.Seq, UpdatedAt: s.At.UTC().Format(time.RFC3339Nano)})
	}
	hist := make([]ConsentEntryJSON, 0, len(c.History))
	for i := range c.History {
		hist = append(hist, ConsentEntryOf(&c.History[i]))
	}
	return object{"wa_id": c.WaID, "marketing_allowed": marketing, "states": states, "history": hist}
}

// VerificationJSON shapes a chain verification for JSON.
func VerificationJSON(v *service.Verification) object {
	o := object{"business_id": v.Business, "valid": v.Valid, "entries": v.Entries, "head": object{"seq": v.HeadSeq, "hash": v.HeadHash}}
	if !v.Valid {
		o["broken_at"], o["problem"] = v.BrokenAt, v.Problem
	}
	return o
}

// verifyConsents is GET /{waba-id}/consents/verify.
func (a *API) verifyConsents(w http.ResponseWriter, r *http.Request) error {
	v, err := a.Consent.Verify(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, VerificationJSON(v))
	return nil
}

func keywordsJSON(k *parley.ConsentKeywords) object {
	return object{"stop": k.Stop, "start": k.Start}
}

// getConsentKeywords is GET /{waba-id}/consent_keywords.
func (a *API) getConsentKeywords(w http.ResponseWriter, r *http.Request) error {
	k, err := a.Consent.Keywords(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, keywordsJSON(k))
	return nil
}

// setConsentKeywords is POST /{waba-id}/consent_keywords {"stop":[…],
// "start":[…]}; a list left out stays as it is.
func (a *API) setConsentKeywords(w http.ResponseWriter, r *http.Request) error {
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	var req struct {
		Stop  []string `json:"stop"`
		Start []string `json:"start"`
	}
	if err := json.Unmarshal(b, &req); err != nil {
		return parley.Errorf(parley.EINVALID, "Request body is not valid: %s", jsonProblem(err))
	}
	k, err := a.Consent.SetKeywords(r.Context(), caller(r), r.PathValue("id"), req.Stop, req.Start)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, keywordsJSON(k))
	return nil
}

package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi/cloudapi"
	"github.com/parley-chat/parley/service"
)

// consentRoutes are the customer's GDPR routes (export, erasure) and the
// operator's routes of the opt-in ledger.
func (s *Server) consentRoutes(mux *http.ServeMux) {
	mux.Handle("GET /v1/me/export", s.authed(s.exportMe))
	mux.Handle("POST /v1/me/business-data/erase", s.authed(s.eraseMe))

	mux.Handle("POST /admin/v1/consents", s.admin(s.adminRecordConsent))
	mux.Handle("GET /admin/v1/businesses/{waba}/consents", s.admin(s.adminConsents))
	mux.Handle("GET /admin/v1/businesses/{waba}/consents/verify", s.admin(s.adminVerifyConsents))
	mux.Handle("GET /admin/v1/businesses/{waba}/consent-keywords", s.admin(s.adminKeywords))
	mux.Handle("PUT /admin/v1/businesses/{waba}/consent-keywords", s.admin(s.adminSetKeywords))
	mux.Handle("GET /admin/v1/customers/{phone}/export", s.admin(s.adminExport))
	mux.Handle("POST /admin/v1/customers/{phone}/erase", s.admin(s.adminErase))
	if sw, ok := s.Sandbox.(marketingSwitch); ok {
		mux.Handle("POST /admin/v1/customers/{phone}/marketing", s.admin(func(w http.ResponseWriter, r *http.Request) error {
			var in struct {
				To        string `json:"to"`
				Marketing *bool  `json:"marketing"`
			}
			if err := decode(w, r, &in); err != nil {
				return err
			}
			if in.To == "" || in.Marketing == nil {
				return parley.Errorf(parley.EINVALID, "to and marketing (true or false) are required")
			}
			id, err := sw.SetMarketing(r.Context(), phoneParam(r), in.To, *in.Marketing)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, map[string]string{"message_id": id})
			return nil
		}))
	}
}

// marketingSwitch is the sandbox customers' marketing switch (the
// consent payload a client sends to a business).
type marketingSwitch interface {
	SetMarketing(ctx context.Context, phone, to string, marketing bool) (string, error)
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// exportJSON is the GDPR Art. 15 export.
func exportJSON(x *service.CustomerExport) map[string]any {
	devs := make([]map[string]any, 0, len(x.Devices))
	for _, d := range x.Devices {
		devs = append(devs, map[string]any{"id": d.ID, "name": d.Name, "platform": d.Platform, "created_at": rfc3339(d.CreatedAt),
			"last_seen_at": rfc3339(d.LastSeenAt), "has_keys": d.HasKeys})
	}
	cons := make([]cloudapi.ConsentEntryJSON, 0, len(x.Consents))
	for i := range x.Consents {
		cons = append(cons, cloudapi.ConsentEntryOf(&x.Consents[i]))
	}
	msgs := make([]map[string]any, 0, len(x.BusinessData.Messages))
	for _, m := range x.BusinessData.Messages {
		dir := "to_customer"
		if m.Inbound {
			dir = "from_customer"
		}
		msgs = append(msgs, map[string]any{"wamid": m.WAMID, "message_id": m.MessageID, "phone_number_id": m.Number,
			"direction": dir, "created_at": rfc3339(m.CreatedAt)})
	}
	wins := make([]map[string]any, 0, len(x.BusinessData.Windows))
	for _, w := range x.BusinessData.Windows {
		wins = append(wins, map[string]any{"phone_number_id": w.Number, "last_message_at": rfc3339(w.LastInboundAt)})
	}
	reach := make([]map[string]any, 0, len(x.BusinessData.Reach))
	for _, r := range x.BusinessData.Reach {
		reach = append(reach, map[string]any{"business_id": r.Business, "reached_at": rfc3339(r.ReachedAt)})
	}
	return map[string]any{
		"account": map[string]any{"id": x.Account.ID, "name": x.Account.Name, "presence": x.Account.Presence,
			"created_at": rfc3339(x.Account.CreatedAt)},
		"devices":  devs,
		"consents": cons,
		"business": map[string]any{"messages": msgs, "windows": wins, "reach": reach, "inbox": x.Inbox},
		"not_included": "end-to-end encrypted messages and files waiting for delivery (the server cannot read them) " +
			"and what businesses keep in their own systems (through webhooks and the API)",
		"exported_at": rfc3339(x.ExportedAt),
	}
}

func erasureJSON(e *service.Erasure) map[string]any {
	return map[string]any{"consents_withdrawn": e.Withdrawn, "consent_entries_erased": e.ConsentEntries, "business_records_deleted": e.BusinessRecords,
		"kept": "per consent entry: business, action, purposes, source type and id, time, a digest of the erased fields and " +
			"a keyed pseudonym of the number, as proof of consent and withdrawal (GDPR Art. 7(1)) and so that an opt-out stays honoured"}
}

// exportMe is GET /v1/me/export: everything stored about the account.
func (s *Server) exportMe(w http.ResponseWriter, r *http.Request) error {
	x, err := s.Consent.Export(r.Context(), device(r).Account)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, exportJSON(x))
	return nil
}

// eraseMe is POST /v1/me/business-data/erase.
func (s *Server) eraseMe(w http.ResponseWriter, r *http.Request) error {
	e, err := s.Consent.Erase(r.Context(), device(r).Account)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, erasureJSON(e))
	return nil
}

func accountParam(r *http.Request) (string, error) {
	a := strings.TrimPrefix(r.PathValue("phone"), "+")
	if !parley.ValidAccountID(a) {
		return "", parley.Errorf(parley.EINVALID, "%q is not a phone number in E.164", r.PathValue("phone"))
	}
	return a, nil
}

func (s *Server) adminExport(w http.ResponseWriter, r *http.Request) error {
	a, err := accountParam(r)
	if err != nil {
		return err
	}
	x, err := s.Consent.Export(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, exportJSON(x))
	return nil
}

func (s *Server) adminErase(w http.ResponseWriter, r *http.Request) error {
	a, err := accountParam(r)
	if err != nil {
		return err
	}
	e, err := s.Consent.Erase(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, erasureJSON(e))
	return nil
}

type adminConsentRequest struct {
	PhoneNumberID string   `json:"phone_number_id"`
	WaID          string   `json:"wa_id"`
	Action        string   `json:"action"`
	Purposes      []string `json:"purposes"`
	Source        struct {
		Type     string `json:"type"`
		ID       string `json:"id"`
		Evidence string `json:"evidence"`
	} `json:"source"`
}

func (s *Server) adminRecordConsent(w http.ResponseWriter, r *http.Request) error {
	var req adminConsentRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if !parley.ValidGraphID(req.PhoneNumberID) {
		return parley.Errorf(parley.EINVALID, "phone_number_id must be a Graph id")
	}
	e, err := s.Consent.RecordAsOperator(r.Context(), req.PhoneNumberID, service.ConsentRequest{WaID: req.WaID, Action: req.Action,
		Purposes: req.Purposes, Source: parley.ConsentSource{Type: req.Source.Type, ID: req.Source.ID, Evidence: req.Source.Evidence}})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, cloudapi.ConsentEntryOf(e))
	return nil
}

// adminConsents is GET /admin/v1/businesses/{waba}/consents: with
// ?wa_id= one customer's states and history, else the ledger's entries
// after ?after= (seq), up to ?limit= (100, at most 1000).
func (s *Server) adminConsents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("wa_id") != "" {
		c, err := s.Consent.CustomerAsOperator(r.Context(), r.PathValue("waba"), q.Get("wa_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, cloudapi.CustomerConsentJSON(c))
		return nil
	}
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	entries, err := s.Consent.Entries(r.Context(), r.PathValue("waba"), after, limit)
	if err != nil {
		return err
	}
	out := make([]cloudapi.ConsentEntryJSON, 0, len(entries))
	for i := range entries {
		out = append(out, cloudapi.ConsentEntryOf(&entries[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": out})
	return nil
}

func (s *Server) adminVerifyConsents(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Consent.VerifyAsOperator(r.Context(), r.PathValue("waba"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, cloudapi.VerificationJSON(v))
	return nil
}

func (s *Server) adminKeywords(w http.ResponseWriter, r *http.Request) error {
	k, err := s.Consent.KeywordsAsOperator(r.Context(), r.PathValue("waba"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"stop": k.Stop, "start": k.Start})
	return nil
}

func (s *Server) adminSetKeywords(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Stop  []string `json:"stop"`
		Start []string `json:"start"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	k, err := s.Consent.SetKeywords(r.Context(), nil, r.PathValue("waba"), req.Stop, req.Start)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"stop": k.Stop, "start": k.Start})
	return nil
}

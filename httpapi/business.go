package httpapi

import (
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

// The operator API of the business platform, behind the operator token
// (parley admin business|token|template). Secrets (app secret, access
// token) appear only in the answers that create them.

func (s *Server) businessRoutes(mux *http.ServeMux) {
	if s.Business == nil {
		return
	}
	mux.Handle("POST /admin/v1/businesses", s.admin(s.createBusiness))
	mux.Handle("GET /admin/v1/businesses", s.admin(s.listBusinesses))
	mux.Handle("POST /admin/v1/businesses/{id}/tokens", s.admin(s.createToken))
	mux.Handle("GET /admin/v1/businesses/{id}/tokens", s.admin(s.listTokens))
	mux.Handle("POST /admin/v1/tokens/revoke", s.admin(s.revokeToken))
	mux.Handle("PUT /admin/v1/numbers/{id}/throughput", s.admin(s.setThroughput))
	mux.Handle("POST /admin/v1/templates/{id}/review", s.admin(s.reviewTemplate))
}

type createBusinessRequest struct {
	Name         string `json:"name"`
	Phone        string `json:"phone"`
	VerifiedName string `json:"verified_name,omitempty"`
	WebhookURL   string `json:"webhook_url,omitempty"`
	VerifyToken  string `json:"verify_token,omitempty"`
	Throughput   int    `json:"throughput,omitempty"`
}

// BusinessCreated is the answer to POST /admin/v1/businesses, printed by
// `parley admin business create --json`.
type BusinessCreated struct {
	WABAID             string `json:"waba_id"`
	Name               string `json:"name"`
	AppID              string `json:"app_id"`
	AppSecret          string `json:"app_secret"`
	PhoneNumberID      string `json:"phone_number_id"`
	DisplayPhoneNumber string `json:"display_phone_number"`
	Account            string `json:"account"`
	AccessToken        string `json:"access_token"`
	TokenID            string `json:"token_id"`
	WebhookURL         string `json:"webhook_url,omitempty"`
	Throughput         int    `json:"throughput"`
}

func (s *Server) createBusiness(w http.ResponseWriter, r *http.Request) error {
	var req createBusinessRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	res, err := s.Business.CreateBusiness(r.Context(), service.NewBusinessRequest{Name: req.Name, Phone: req.Phone,
		VerifiedName: req.VerifiedName, WebhookURL: req.WebhookURL, VerifyToken: req.VerifyToken, Throughput: req.Throughput})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, BusinessCreated{WABAID: res.Business.ID, Name: res.Business.Name, AppID: res.App.ID, AppSecret: res.AppSecret,
		PhoneNumberID: res.Number.ID, DisplayPhoneNumber: res.Number.DisplayPhone, Account: res.Number.Account,
		AccessToken: res.AccessToken, TokenID: res.TokenID, WebhookURL: res.App.CallbackURL, Throughput: res.Number.Rate()})
	return nil
}

type numberJSON struct {
	PhoneNumberID      string `json:"phone_number_id"`
	DisplayPhoneNumber string `json:"display_phone_number"`
	VerifiedName       string `json:"verified_name"`
	Throughput         int    `json:"throughput"`
	WebhookURL         string `json:"webhook_url,omitempty"`
}

func numberOf(n *parley.BusinessNumber) numberJSON {
	return numberJSON{n.ID, n.DisplayPhone, n.VerifiedName, n.Rate(), n.WebhookURL}
}

func (s *Server) listBusinesses(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Business.ListBusinesses(r.Context())
	if err != nil {
		return err
	}
	type appJSON struct {
		AppID       string `json:"app_id"`
		CallbackURL string `json:"callback_url,omitempty"`
	}
	type bizJSON struct {
		WABAID    string       `json:"waba_id"`
		Name      string       `json:"name"`
		CreatedAt int64        `json:"created_at"`
		Numbers   []numberJSON `json:"numbers"`
		Apps      []appJSON    `json:"apps"`
	}
	out := struct {
		Businesses []bizJSON `json:"businesses"`
	}{Businesses: []bizJSON{}}
	for _, b := range list {
		bj := bizJSON{WABAID: b.Business.ID, Name: b.Business.Name, CreatedAt: b.Business.CreatedAt.Unix(), Numbers: []numberJSON{}, Apps: []appJSON{}}
		for i := range b.Numbers {
			bj.Numbers = append(bj.Numbers, numberOf(&b.Numbers[i]))
		}
		for _, a := range b.Apps {
			bj.Apps = append(bj.Apps, appJSON{a.ID, a.CallbackURL})
		}
		out.Businesses = append(out.Businesses, bj)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	tok, id, err := s.Business.CreateToken(r.Context(), r.PathValue("id"), req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		WABAID      string `json:"waba_id"`
		TokenID     string `json:"token_id"`
		AccessToken string `json:"access_token"`
	}{r.PathValue("id"), id, tok})
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.Business.Tokens(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	type tokenJSON struct {
		TokenID   string `json:"token_id"`
		Name      string `json:"name"`
		CreatedAt int64  `json:"created_at"`
		RevokedAt int64  `json:"revoked_at,omitempty"`
	}
	out := struct {
		Tokens []tokenJSON `json:"tokens"`
	}{Tokens: []tokenJSON{}}
	for _, t := range ts {
		tj := tokenJSON{TokenID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt.Unix()}
		if !t.RevokedAt.IsZero() {
			tj.RevokedAt = t.RevokedAt.Unix()
		}
		out.Tokens = append(out.Tokens, tj)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Token string `json:"token"` // the token id or the whole token
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := s.Business.RevokeToken(r.Context(), req.Token); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) setThroughput(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		MPS int `json:"mps"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	n, err := s.Business.SetThroughput(r.Context(), r.PathValue("id"), req.MPS)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, numberOf(n))
	return nil
}

func (s *Server) reviewTemplate(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Approve bool   `json:"approve"`
		Reason  string `json:"reason,omitempty"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	t, err := s.Business.ReviewTemplate(r.Context(), r.PathValue("id"), req.Approve, req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Status string `json:"status"`
		Reason string `json:"rejected_reason"`
	}{t.ID, t.Name, t.Status, t.RejectedReason})
	return nil
}

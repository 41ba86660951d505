package httpapi

import (
	"net/http"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

// The business app's profile editor (docs/inbox.md, "Business app"):
// the numbers of the agent's business and their business profiles, with
// the card's "open now" so that the app can preview what customers see.

func (s *Server) inboxProfileRoutes(mux *http.ServeMux) {
	if s.Inbox == nil || s.Business == nil {
		return
	}
	mux.Handle("GET "+inboxPrefix+"/numbers", s.agent(s.inboxNumbers))
	mux.Handle("GET "+inboxPrefix+"/numbers/{id}/profile", s.agent(s.inboxProfile))
	mux.Handle("PUT "+inboxPrefix+"/numbers/{id}/profile", s.agent(s.inboxPutProfile))
	mux.Handle("PUT "+inboxPrefix+"/numbers/{id}/picture", s.agent(s.inboxPutPicture))
}

func (s *Server) inboxProfiles() *service.InboxProfiles {
	return &service.InboxProfiles{Inbox: s.Inbox, Business: s.Business}
}

type inboxNumberJSON struct {
	ID           string `json:"id"`
	Account      string `json:"account"`
	DisplayPhone string `json:"display_phone_number"`
	VerifiedName string `json:"verified_name"`
}

func (s *Server) inboxNumbers(w http.ResponseWriter, r *http.Request) error {
	ns, err := s.inboxProfiles().Numbers(r.Context(), agentOf(r))
	if err != nil {
		return err
	}
	out := struct {
		Numbers []inboxNumberJSON `json:"numbers"`
	}{Numbers: []inboxNumberJSON{}}
	for _, n := range ns {
		out.Numbers = append(out.Numbers, inboxNumberJSON{ID: n.ID, Account: n.Account, DisplayPhone: n.DisplayPhone, VerifiedName: n.VerifiedName})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// profileEditJSON is the editable profile: the Cloud API's field names.
type profileEditJSON struct {
	About        string               `json:"about"`
	Address      string               `json:"address"`
	Description  string               `json:"description"`
	Email        string               `json:"email"`
	Websites     []string             `json:"websites"`
	Vertical     string               `json:"vertical"`
	OpeningHours *parley.OpeningHours `json:"opening_hours"`
}

func profileAnswer(w http.ResponseWriter, n *parley.BusinessNumber, p *parley.BusinessProfile, pictureURL string, now time.Time) {
	out := struct {
		Number     inboxNumberJSON `json:"number"`
		Profile    profileEditJSON `json:"profile"`
		PictureURL string          `json:"picture_url,omitempty"` // the public picture route`
		Hours      *hoursJSON      `json:"hours,omitempty"`       // as the customer's card shows it
		UpdatedAt  int64           `json:"updated_at"`            // the version to send back with a change; 0: never saved
	}{
		Number: inboxNumberJSON{ID: n.ID, Account: n.Account, DisplayPhone: n.DisplayPhone, VerifiedName: n.VerifiedName},
		Profile: profileEditJSON{About: p.About, Address: p.Address, Description: p.Description, Email: p.Email,
			Websites: p.Websites, Vertical: p.Vertical},
		PictureURL: pictureURL,
	}
	if out.Profile.Websites == nil {
		out.Profile.Websites = []string{}
	}
	if !p.Hours.IsZero() {
		out.Profile.OpeningHours = &p.Hours
		st := hoursState(&p.Hours, now)
		out.Hours = &st
	}
	if !p.UpdatedAt.IsZero() {
		out.UpdatedAt = p.UpdatedAt.UnixMilli()
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) inboxProfile(w http.ResponseWriter, r *http.Request) error {
	ps := s.inboxProfiles()
	n, p, err := ps.Profile(r.Context(), agentOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	profileAnswer(w, n, p, s.pictureURL(r, n), ps.Now())
	return nil
}

// inboxPutProfile replaces the profile: every field of profileEditJSON
// plus "updated_at", the version the agent saw (0 for a profile never
// saved); a stale version is 409.
func (s *Server) inboxPutProfile(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		profileEditJSON
		UpdatedAt int64 `json:"updated_at"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p := &parley.BusinessProfile{About: in.About, Address: in.Address, Description: in.Description, Email: in.Email,
		Websites: in.Websites, Vertical: in.Vertical}
	if in.OpeningHours != nil {
		p.Hours = *in.OpeningHours
	}
	ps := s.inboxProfiles()
	a := agentOf(r)
	saved, err := ps.PutProfile(r.Context(), a, r.PathValue("id"), p, in.UpdatedAt)
	if err != nil {
		return err
	}
	n, _, err := ps.Profile(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	profileAnswer(w, n, saved, s.pictureURL(r, n), ps.Now())
	return nil
}

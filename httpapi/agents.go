package httpapi

import (
	"net/http"
	"time"
)

// The operator's agent routes: `parley admin business agent …`.
func (s *Server) agentAdminRoutes(mux *http.ServeMux) {
	if s.Inbox == nil {
		return
	}
	mux.Handle("POST /admin/v1/businesses/{id}/agents", s.admin(s.adminAddAgent))
	mux.Handle("GET /admin/v1/businesses/{id}/agents", s.admin(s.adminListAgents))
	mux.Handle("DELETE /admin/v1/businesses/{id}/agents/{email}", s.admin(s.adminRemoveAgent))
	mux.Handle("PUT /admin/v1/businesses/{id}/agents/{email}/password", s.admin(s.adminResetPassword))
}

func (s *Server) adminAddAgent(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Email    string `json:"email"`
		Name     string `json:"name,omitempty"`
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	a, err := s.Inbox.AddAgent(r.Context(), r.PathValue("id"), req.Email, req.Name, req.Role, req.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, agentView(a, time.Now()))
	return nil
}

func (s *Server) adminListAgents(w http.ResponseWriter, r *http.Request) error {
	as, err := s.Inbox.Agents(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := []agentJSON{}
	now := time.Now()
	for i := range as {
		out = append(out, agentView(&as[i], now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"agents": out})
	return nil
}

func (s *Server) adminRemoveAgent(w http.ResponseWriter, r *http.Request) error {
	if err := s.Inbox.RemoveAgent(r.Context(), r.PathValue("id"), r.PathValue("email")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminResetPassword(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Password  string `json:"password"`
		ClearTOTP bool   `json:"clear_totp,omitempty"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := s.Inbox.ResetPassword(r.Context(), r.PathValue("id"), r.PathValue("email"), req.Password, req.ClearTOTP); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

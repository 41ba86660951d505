package httpapi

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/qrimage"
	"github.com/parley-chat/parley/service"
)

// The business inbox API (docs/inbox.md): agents sign in with email,
// password and optionally a TOTP code and get a session cookie
// (HttpOnly, SameSite=Strict); every request that changes something
// must also carry the session's CSRF token in X-CSRF-Token. Everything
// is scoped to the agent's business.

// SessionCookie is the inbox session's cookie name.
const SessionCookie = "parley_session"

const inboxPrefix = "/business/api"

func (s *Server) inboxRoutes(mux *http.ServeMux) {
	if s.Inbox == nil {
		return
	}
	p := inboxPrefix
	mux.Handle("POST "+p+"/login", s.handle(s.inboxLogin))
	mux.Handle("POST "+p+"/logout", s.agent(s.inboxLogout))
	mux.Handle("GET "+p+"/me", s.agent(s.inboxMe))
	mux.Handle("GET "+p+"/sessions", s.agent(s.inboxSessions))
	mux.Handle("DELETE "+p+"/sessions/{id}", s.agent(s.inboxRevokeSession))
	mux.Handle("POST "+p+"/totp", s.agent(s.inboxBeginTOTP))
	mux.Handle("POST "+p+"/totp/confirm", s.agent(s.inboxConfirmTOTP))
	mux.Handle("DELETE "+p+"/totp", s.agent(s.inboxDisableTOTP))
	mux.Handle("PUT "+p+"/password", s.agent(s.inboxChangePassword))
	mux.Handle("GET "+p+"/agents", s.agent(s.inboxAgents))
	mux.Handle("POST "+p+"/agents", s.agent(s.inboxAddAgent))
	mux.Handle("DELETE "+p+"/agents/{id}", s.agent(s.inboxRemoveAgent))
	mux.Handle("PUT "+p+"/agents/{id}/role", s.agent(s.inboxSetRole))
	mux.Handle("GET "+p+"/audit", s.agent(s.inboxAudit))

	mux.Handle("GET "+p+"/conversations", s.agent(s.inboxConversations))
	mux.Handle("GET "+p+"/conversations/{id}", s.agent(s.inboxConversation))
	mux.Handle("GET "+p+"/conversations/{id}/messages", s.agent(s.inboxMessages))
	mux.Handle("POST "+p+"/conversations/{id}/messages", s.agent(s.inboxReply))
	mux.Handle("POST "+p+"/conversations/{id}/notes", s.agent(s.inboxNote))
	mux.Handle("POST "+p+"/conversations/{id}/read", s.agent(s.inboxRead))
	mux.Handle("PUT "+p+"/conversations/{id}/state", s.agent(s.inboxState))
	mux.Handle("PUT "+p+"/conversations/{id}/assignee", s.agent(s.inboxAssign))
	mux.Handle("PUT "+p+"/conversations/{id}/labels", s.agent(s.inboxSetLabels))
	mux.Handle("GET "+p+"/conversations/{id}/quick-reply", s.agent(s.inboxExpandQuickReply))
	mux.Handle("GET "+p+"/customers/{customer}/conversations", s.agent(s.inboxHistory))

	mux.Handle("GET "+p+"/labels", s.agent(s.inboxLabels))
	mux.Handle("PUT "+p+"/labels/{name}", s.agent(s.inboxPutLabel))
	mux.Handle("DELETE "+p+"/labels/{name}", s.agent(s.inboxDeleteLabel))
	mux.Handle("GET "+p+"/quick-replies", s.agent(s.inboxQuickReplies))
	mux.Handle("PUT "+p+"/quick-replies", s.agent(s.inboxPutQuickReply))
	mux.Handle("DELETE "+p+"/quick-replies", s.agent(s.inboxDeleteQuickReply))
	mux.Handle("GET "+p+"/settings", s.agent(s.inboxSettings))
	mux.Handle("PUT "+p+"/settings", s.agent(s.inboxPutSettings))
	mux.Handle("GET "+p+"/events", s.agent(s.inboxEvents))
	if s.Business != nil {
		mux.Handle("POST "+p+"/conversations/{id}/media", s.agent(s.inboxUpload))
		mux.Handle("GET "+p+"/media/{id}", s.agent(s.inboxMedia))
		mux.Handle("GET "+p+"/templates", s.agent(s.inboxTemplates))
		mux.Handle("GET "+p+"/catalogs/{id}/products", s.agent(s.inboxProducts))
	}
}

const agentKey ctxKey = 1

func agentOf(r *http.Request) *service.AgentAuth {
	return r.Context().Value(agentKey).(*service.AgentAuth)
}

// agent wraps h so that it runs only for a signed-in agent, and for
// methods other than GET and HEAD only with the session's CSRF token.
func (s *Server) agent(h handlerFunc) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		c, err := r.Cookie(SessionCookie)
		if err != nil {
			return parley.Errorf(parley.EUNAUTHORIZED, "not signed in")
		}
		a, err := s.Inbox.Authenticate(r.Context(), c.Value)
		if err != nil {
			if parley.Match(err, parley.EUNAUTHORIZED) {
				clearSessionCookie(w, r, s.TrustProxy)
			}
			return err
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !s.Inbox.CheckCSRF(a, r.Header.Get("X-CSRF-Token")) {
			return parley.Errorf(parley.EFORBIDDEN, "missing or wrong X-CSRF-Token header")
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		return h(w, r.WithContext(context.WithValue(r.Context(), agentKey, a)))
	})
}

func secure(r *http.Request, trustProxy bool) bool {
	return r.TLS != nil || (trustProxy && r.Header.Get("X-Forwarded-Proto") == "https")
}

func clearSessionCookie(w http.ResponseWriter, r *http.Request, trustProxy bool) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/business/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: secure(r, trustProxy)})
}

type agentJSON struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Business string `json:"business"`
	TOTP     bool   `json:"totp"`
	Online   bool   `json:"online"`
}

func agentView(a *parley.Agent, now time.Time) agentJSON {
	return agentJSON{ID: a.ID, Email: a.Email, Name: a.Name, Role: a.Role, Business: a.Business, TOTP: a.TOTPSealed != nil && a.TOTPLastStep >= 0,
		Online: now.Sub(a.LastSeenAt) < service.AgentOnline}
}

type meJSON struct {
	Agent     agentJSON `json:"agent"`
	CSRFToken string    `json:"csrf_token"`
	Session   string    `json:"session"`
	ExpiresAt int64     `json:"expires_at"`
}

func (s *Server) inboxLogin(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		Code     string `json:"code,omitempty"`
		Business string `json:"business,omitempty"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	l, err := s.Inbox.Login(r.Context(), req.Email, req.Password, req.Code, req.Business, s.clientIP(r), r.UserAgent())
	if err != nil {
		return err
	}
	if len(l.Choose) > 0 {
		// The email and password fit agents of several businesses: the
		// client asks which, then signs in again with "business".
		type choice struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		}
		out := struct {
			Choose []choice `json:"choose_business"`
		}{}
		for _, c := range l.Choose {
			out.Choose = append(out.Choose, choice{c.ID, c.Name})
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: l.Token, Path: "/business/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: secure(r, s.TrustProxy), Expires: time.Now().Add(service.SessionMax)})
	writeJSON(w, http.StatusOK, meJSON{Agent: agentView(l.Auth.Agent, time.Now()), CSRFToken: l.CSRF, Session: l.Auth.Session.ID,
		ExpiresAt: l.Auth.Session.ExpiresAt.UnixMilli()})
	return nil
}

func (s *Server) inboxLogout(w http.ResponseWriter, r *http.Request) error {
	if err := s.Inbox.RevokeSession(r.Context(), agentOf(r), ""); err != nil {
		return err
	}
	clearSessionCookie(w, r, s.TrustProxy)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) inboxMe(w http.ResponseWriter, r *http.Request) error {
	a := agentOf(r)
	c, _ := r.Cookie(SessionCookie)
	writeJSON(w, http.StatusOK, meJSON{Agent: agentView(a.Agent, time.Now()), CSRFToken: service.CSRFToken(c.Value), Session: a.Session.ID,
		ExpiresAt: a.Session.ExpiresAt.UnixMilli()})
	return nil
}

func (s *Server) inboxSessions(w http.ResponseWriter, r *http.Request) error {
	a := agentOf(r)
	ss, err := s.Inbox.Sessions(r.Context(), a)
	if err != nil {
		return err
	}
	type sessionJSON struct {
		ID         string `json:"id"`
		UserAgent  string `json:"user_agent"`
		CreatedAt  int64  `json:"created_at"`
		LastSeenAt int64  `json:"last_seen_at"`
		ExpiresAt  int64  `json:"expires_at"`
		Current    bool   `json:"current,omitempty"`
	}
	out := []sessionJSON{}
	for _, x := range ss {
		out = append(out, sessionJSON{x.ID, x.UserAgent, x.CreatedAt.UnixMilli(), x.LastSeenAt.UnixMilli(), x.ExpiresAt.UnixMilli(), x.ID == a.Session.ID})
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
	return nil
}

func (s *Server) inboxRevokeSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.Inbox.RevokeSession(r.Context(), agentOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) inboxBeginTOTP(w http.ResponseWriter, r *http.Request) error {
	t, err := s.Inbox.BeginTOTP(r.Context(), agentOf(r))
	if err != nil {
		return err
	}
	// The QR code is drawn here (the business app has no QR library) and
	// travels in this answer's body, never in a URL that could be logged.
	svg, err := qrimage.SVG([]byte(t.URL), "otpauth")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"secret": t.Secret, "otpauth_url": t.URL, "qr_svg": string(svg)})
	return nil
}

func (s *Server) inboxConfirmTOTP(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Code string `json:"code"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := s.Inbox.ConfirmTOTP(r.Context(), agentOf(r), req.Code); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) inboxDisableTOTP(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Password string `json:"password"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := s.Inbox.DisableTOTP(r.Context(), agentOf(r), req.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) inboxChangePassword(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := s.Inbox.ChangePassword(r.Context(), agentOf(r), req.Current, req.New); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) inboxAgents(w http.ResponseWriter, r *http.Request) error {
	as, err := s.Inbox.TeamAgents(r.Context(), agentOf(r))
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

func (s *Server) inboxAddAgent(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Email    string `json:"email"`
		Name     string `json:"name,omitempty"`
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	a, err := s.Inbox.AddTeamAgent(r.Context(), agentOf(r), req.Email, req.Name, req.Role, req.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, agentView(a, time.Now()))
	return nil
}

func (s *Server) inboxRemoveAgent(w http.ResponseWriter, r *http.Request) error {
	if err := s.Inbox.RemoveTeamAgent(r.Context(), agentOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) inboxSetRole(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Role string `json:"role"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	a, err := s.Inbox.SetTeamRole(r.Context(), agentOf(r), r.PathValue("id"), req.Role)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, agentView(a, time.Now()))
	return nil
}

func (s *Server) inboxAudit(w http.ResponseWriter, r *http.Request) error {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	es, err := s.Inbox.Audit(r.Context(), agentOf(r), before, limit)
	if err != nil {
		return err
	}
	type entry struct {
		Seq    int64  `json:"seq"`
		Agent  string `json:"agent,omitempty"`
		Action string `json:"action"`
		Target string `json:"target,omitempty"`
		Detail string `json:"detail,omitempty"`
		At     int64  `json:"at"`
	}
	out := []entry{}
	for _, e := range es {
		out = append(out, entry{e.Seq, e.Agent, e.Action, e.Target, e.Detail, e.At.UnixMilli()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": out})
	return nil
}

// before parses the paging parameter "before" (unix milliseconds, as
// the API's times are): it includes that whole millisecond, since stored
// times are finer, so paging never skips an item; items of that
// millisecond already shown come again (clients dedupe by id). Absent:
// the zero time.
func before(r *http.Request) (time.Time, error) {
	v := r.URL.Query().Get("before")
	if v == "" {
		return time.Time{}, nil
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}, parley.Errorf(parley.EINVALID, "before must be unix milliseconds")
	}
	return time.UnixMilli(ms + 1), nil
}

func (s *Server) inboxConversations(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var cq service.ConversationQuery
	cq.State, cq.Assignee, cq.Label, cq.Search = q.Get("state"), q.Get("assignee"), q.Get("label"), q.Get("q")
	cq.Unread = q.Get("unread") == "1" || q.Get("unread") == "true"
	var err error
	if cq.Before, err = before(r); err != nil {
		return err
	}
	if v := q.Get("limit"); v != "" {
		if cq.Limit, err = strconv.Atoi(v); err != nil || cq.Limit < 1 || cq.Limit > 500 {
			return parley.Errorf(parley.EINVALID, "limit must be between 1 and 500")
		}
	}
	cs, err := s.Inbox.Conversations(r.Context(), agentOf(r), cq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversations": cs})
	return nil
}

func (s *Server) inboxConversation(w http.ResponseWriter, r *http.Request) error {
	c, err := s.Inbox.Conversation(r.Context(), agentOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) inboxMessages(w http.ResponseWriter, r *http.Request) error {
	older, err := before(r)
	if err != nil {
		return err
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	ms, err := s.Inbox.Messages(r.Context(), agentOf(r), r.PathValue("id"), older, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": ms})
	return nil
}

func (s *Server) inboxReply(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Text      string                `json:"text,omitempty"`
		Template  *parley.CloudTemplate `json:"template,omitempty"`
		Message   *parley.CloudMessage  `json:"message,omitempty"`
		ContextID string                `json:"context_id,omitempty"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	m, err := s.Inbox.Reply(r.Context(), agentOf(r), r.PathValue("id"), service.Reply{Text: req.Text, Template: req.Template, Message: req.Message, ContextID: req.ContextID})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) inboxNote(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Text string `json:"text"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	m, err := s.Inbox.AddNote(r.Context(), agentOf(r), r.PathValue("id"), req.Text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) inboxRead(w http.ResponseWriter, r *http.Request) error {
	c, err := s.Inbox.MarkRead(r.Context(), agentOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// versioned reads a change's body, whose version must be the one the
// agent saw (a stale one gets 409).
func versioned(w http.ResponseWriter, r *http.Request, v any, version *int64) error {
	if err := decode(w, r, v); err != nil {
		return err
	}
	if *version <= 0 {
		return parley.Errorf(parley.EINVALID, "version is required: the conversation's version as last read")
	}
	return nil
}

func (s *Server) inboxState(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		State   string `json:"state"`
		Version int64  `json:"version"`
	}
	if err := versioned(w, r, &req, &req.Version); err != nil {
		return err
	}
	c, err := s.Inbox.SetState(r.Context(), agentOf(r), r.PathValue("id"), req.State, req.Version)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) inboxAssign(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Agent   string `json:"agent"` // an agent id, "auto" or ""
		Version int64  `json:"version"`
	}
	if err := versioned(w, r, &req, &req.Version); err != nil {
		return err
	}
	c, err := s.Inbox.Assign(r.Context(), agentOf(r), r.PathValue("id"), req.Agent, req.Version)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) inboxSetLabels(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Labels  []string `json:"labels"`
		Version int64    `json:"version"`
	}
	if err := versioned(w, r, &req, &req.Version); err != nil {
		return err
	}
	c, err := s.Inbox.SetLabels(r.Context(), agentOf(r), r.PathValue("id"), req.Labels, req.Version)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) inboxExpandQuickReply(w http.ResponseWriter, r *http.Request) error {
	text, err := s.Inbox.ExpandQuickReply(r.Context(), agentOf(r), r.PathValue("id"), r.URL.Query().Get("shortcut"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"text": text})
	return nil
}

func (s *Server) inboxHistory(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.Inbox.History(r.Context(), agentOf(r), r.PathValue("customer"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversations": cs})
	return nil
}

func (s *Server) inboxLabels(w http.ResponseWriter, r *http.Request) error {
	ls, err := s.Inbox.Labels(r.Context(), agentOf(r))
	if err != nil {
		return err
	}
	type labelJSON struct {
		Name  string `json:"name"`
		Color string `json:"color"`
	}
	out := []labelJSON{}
	for _, l := range ls {
		out = append(out, labelJSON{l.Name, l.Color})
	}
	writeJSON(w, http.StatusOK, map[string]any{"labels": out})
	return nil
}

func (s *Server) inboxPutLabel(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Color string `json:"color"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	l, err := s.Inbox.PutLabel(r.Context(), agentOf(r), r.PathValue("name"), req.Color)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"name": l.Name, "color": l.Color})
	return nil
}

func (s *Server) inboxDeleteLabel(w http.ResponseWriter, r *http.Request) error {
	if err := s.Inbox.DeleteLabel(r.Context(), agentOf(r), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type quickReplyJSON struct {
	Shortcut  string `json:"shortcut"`
	Text      string `json:"text"`
	UpdatedAt int64  `json:"updated_at,omitempty"`
}

func (s *Server) inboxQuickReplies(w http.ResponseWriter, r *http.Request) error {
	qs, err := s.Inbox.QuickReplies(r.Context(), agentOf(r))
	if err != nil {
		return err
	}
	out := []quickReplyJSON{}
	for _, q := range qs {
		out = append(out, quickReplyJSON{q.Shortcut, q.Text, q.UpdatedAt.UnixMilli()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"quick_replies": out})
	return nil
}

func (s *Server) inboxPutQuickReply(w http.ResponseWriter, r *http.Request) error {
	var req quickReplyJSON
	if err := decode(w, r, &req); err != nil {
		return err
	}
	q, err := s.Inbox.PutQuickReply(r.Context(), agentOf(r), req.Shortcut, req.Text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, quickReplyJSON{q.Shortcut, q.Text, q.UpdatedAt.UnixMilli()})
	return nil
}

func (s *Server) inboxDeleteQuickReply(w http.ResponseWriter, r *http.Request) error {
	if err := s.Inbox.DeleteQuickReply(r.Context(), agentOf(r), r.URL.Query().Get("shortcut")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type settingsJSON struct {
	GreetingEnabled bool   `json:"greeting_enabled"`
	Greeting        string `json:"greeting"`
	AwayEnabled     bool   `json:"away_enabled"`
	Away            string `json:"away"`
	// RetentionDays: omitted in a PUT keeps the stored value.
	RetentionDays *int  `json:"retention_days,omitempty"`
	Version       int64 `json:"version"`
}

func settingsOf(st *parley.InboxSettings) settingsJSON {
	return settingsJSON{st.GreetingEnabled, st.Greeting, st.AwayEnabled, st.Away, &st.RetentionDays, st.Version}
}

func (s *Server) inboxSettings(w http.ResponseWriter, r *http.Request) error {
	st, err := s.Inbox.Settings(r.Context(), agentOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, settingsOf(st))
	return nil
}

func (s *Server) inboxPutSettings(w http.ResponseWriter, r *http.Request) error {
	var req settingsJSON
	if err := decode(w, r, &req); err != nil {
		return err
	}
	st := &parley.InboxSettings{GreetingEnabled: req.GreetingEnabled, Greeting: req.Greeting, AwayEnabled: req.AwayEnabled, Away: req.Away,
		Version: req.Version}
	if req.RetentionDays != nil {
		st.RetentionDays = *req.RetentionDays
	} else {
		cur, err := s.Inbox.Settings(r.Context(), agentOf(r))
		if err != nil {
			return err
		}
		st.RetentionDays = cur.RetentionDays
	}
	if err := s.Inbox.PutSettings(r.Context(), agentOf(r), st); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, settingsOf(st))
	return nil
}

// eventsHeartbeat is how often the event stream sends a comment (keeps
// proxies from closing it and marks the agent online).
const eventsHeartbeat = 25 * time.Second

// inboxEvents is the agent's live event stream (Server-Sent Events):
// one "data:" line of JSON per service.InboxEvent. It starts with a
// "ready" event once the stream is subscribed. When the agent falls
// behind the stream ends; EventSource reconnects by itself, and the page
// reloads what it shows.
func (s *Server) inboxEvents(w http.ResponseWriter, r *http.Request) error {
	a := agentOf(r)
	st, err := s.Inbox.Subscribe(r.Context(), a)
	if err != nil {
		return err
	}
	defer st.Close()
	s.Inbox.Heartbeat(r.Context(), a)
	rc, ok := openStream(w, "retry: 2000\nevent: ready\ndata: {}\n\n")
	if !ok {
		return nil
	}
	t := time.NewTicker(eventsHeartbeat)
	defer t.Stop()
	closing := s.streamsClosing()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-closing:
			// The node shuts down: the browser reconnects to another one.
			return nil
		case <-t.C:
			s.Inbox.Heartbeat(r.Context(), a)
			w.Write([]byte(": ping\n\n"))
		case ev, ok := <-st.Events():
			if !ok {
				// Dropped for falling behind: say so, so that the page
				// reloads what it shows when EventSource reconnects.
				w.Write([]byte("event: overflow\ndata: {}\n\n"))
				rc.Flush()
				return nil
			}
			var b strings.Builder
			b.WriteString("data: ")
			b.Write(ev)
			b.WriteString("\n\n")
			w.Write([]byte(b.String()))
		}
		rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

// inboxUpload stores a file for a reply on the conversation's number:
// the body is the file, Content-Type its type, ?filename= its name. The
// answer's id goes into a reply's message object
// ({"type":"image","image":{"id":…}}), as with the Cloud API's media.
func (s *Server) inboxUpload(w http.ResponseWriter, r *http.Request) error {
	a := agentOf(r)
	c, err := s.Inbox.Conversation(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	mt := r.Header.Get("Content-Type")
	body := http.MaxBytesReader(w, r.Body, parley.MaxCloudMedia+1)
	m, err := s.Business.UploadMedia(r.Context(), &service.Caller{Business: a.Agent.Business}, c.Number, mt, body,
		func() (string, string, error) { return mt, r.URL.Query().Get("filename"), nil })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": m.ID, "mime_type": m.MIMEType, "size": m.Size})
	return nil
}

// inboxMedia serves a media object of the agent's business (customers'
// files by the id in their message, and uploads), always as an
// attachment in a sandbox, so that a file never runs as a page of the
// inbox's origin.
func (s *Server) inboxMedia(w http.ResponseWriter, r *http.Request) error {
	m, rd, err := s.Business.OpenMedia(r.Context(), &service.Caller{Business: agentOf(r).Agent.Business}, r.PathValue("id"))
	if err != nil {
		if parley.Match(err, parley.ENOTFOUND) {
			return parley.Errorf(parley.ENOTFOUND, "no such media")
		}
		return err
	}
	h := w.Header()
	h.Set("Content-Type", m.MIMEType)
	h.Set("Cache-Control", "private, max-age=300")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	params := map[string]string{}
	if m.Filename != "" {
		params["filename"] = m.Filename
	}
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", params))
	h.Set("ETag", strconv.Quote(hex.EncodeToString(m.SHA256)))
	http.ServeContent(w, r, "", m.CreatedAt, rd)
	return nil
}

// inboxTemplates lists the business's approved templates, which agents
// may send outside the 24-hour window: name, language, category,
// parameter format and the components as approved (their texts show
// where the parameters go).
// inboxProducts returns products of one of the business's catalogs by
// retailer id (?ids=a,b), for the product cards of the business app.
func (s *Server) inboxProducts(w http.ResponseWriter, r *http.Request) error {
	var ids []string
	for id := range strings.SplitSeq(r.URL.Query().Get("ids"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	ps, err := s.Business.ProductsByID(r.Context(), &service.Caller{Business: agentOf(r).Agent.Business}, r.PathValue("id"), ids)
	if err != nil {
		return err
	}
	type productJSON struct {
		RetailerID   string `json:"retailer_id"`
		Name         string `json:"name"`
		Description  string `json:"description,omitempty"`
		Price        int64  `json:"price"`
		Currency     string `json:"currency"`
		URL          string `json:"url,omitempty"`
		Availability string `json:"availability"`
	}
	out := make([]productJSON, 0, len(ps))
	for _, p := range ps {
		out = append(out, productJSON{p.RetailerID, p.Name, p.Description, p.Price, p.Currency, p.URL, p.Availability})
	}
	writeJSON(w, http.StatusOK, map[string]any{"products": out})
	return nil
}

func (s *Server) inboxTemplates(w http.ResponseWriter, r *http.Request) error {
	a := agentOf(r)
	biz := a.Agent.Business
	ts, _, err := s.Business.Templates(r.Context(), &service.Caller{Business: biz},
		parley.TemplateFilter{Business: biz, Status: parley.TemplateApproved, Limit: 1000})
	if err != nil {
		return err
	}
	type templateJSON struct {
		Name            string          `json:"name"`
		Language        string          `json:"language"`
		Category        string          `json:"category"`
		ParameterFormat string          `json:"parameter_format"`
		Components      json.RawMessage `json:"components"`
	}
	out := []templateJSON{}
	for _, t := range ts {
		out = append(out, templateJSON{t.Name, t.Language, t.Category, t.ParameterFormat, t.Components})
	}
	writeJSON(w, http.StatusOK, map[string]any{"templates": out})
	return nil
}

// openStream starts a Server-Sent Events response with its first bytes
// and reports whether they reached the client.
func openStream(w http.ResponseWriter, first string) (*http.ResponseController, bool) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(first))
	return rc, rc.Flush() == nil
}

// streamsClosing is closed when the node shuts down, which ends every
// event stream (browsers reconnect to another node); nil Streams: never.
func (s *Server) streamsClosing() <-chan struct{} {
	if s.Streams == nil {
		return nil
	}
	return s.Streams.Done()
}

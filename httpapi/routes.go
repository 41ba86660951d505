package httpapi

import (
	"net/http"
	"net/http/pprof"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// Handler returns every route of the server.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.Handle("GET /readyz", s.handle(s.readyz))
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}

	// Client API.
	mux.Handle("POST /v1/register/code", s.handle(s.requestCode))
	mux.Handle("POST /v1/register/verify", s.handle(s.verify))
	mux.Handle("POST /v1/link/wait", s.handle(s.linkWait))
	mux.Handle("POST /v1/link/approve", s.authed(s.linkApprove))
	mux.Handle("GET /v1/me", s.authed(s.me))
	mux.Handle("PATCH /v1/me", s.authed(s.updateMe))
	mux.Handle("GET /v1/devices", s.authed(s.devices))
	mux.Handle("DELETE /v1/devices/{id}", s.authed(s.unlink))
	mux.Handle("GET /v1/accounts/{id}/devices", s.authed(s.accountDevices))
	if s.Business != nil {
		mux.Handle("GET /v1/accounts/{id}/business", s.authed(s.businessCard))
	}
	mux.Handle("GET /v1/accounts/{id}/presence", s.authed(s.presence))
	s.directoryRoutes(mux)
	if s.Links != nil {
		s.linkRoutes(mux)
	}
	if s.Keys != nil {
		mux.Handle("PUT /v1/keys", s.authed(s.putKeys))
		mux.Handle("POST /v1/keys/prekeys", s.authed(s.addPrekeys))
		mux.Handle("PUT /v1/keys/signed_prekey", s.authed(s.rotateSignedPrekey))
		mux.Handle("GET /v1/keys/count", s.authed(s.keyCount))
		mux.Handle("GET /v1/keys/{account}", s.authed(s.claimKeys))
		mux.Handle("GET /v1/keys/{account}/{device}", s.authed(s.claimKeys))
	}
	if s.Groups != nil {
		mux.Handle("POST /v1/groups", s.authed(s.createGroup))
		mux.Handle("GET /v1/groups", s.authed(s.listGroups))
		mux.Handle("GET /v1/groups/{id}", s.authed(s.getGroup))
		mux.Handle("PATCH /v1/groups/{id}", s.authed(s.renameGroup))
		mux.Handle("GET /v1/groups/{id}/members/devices", s.authed(s.groupDevices))
		mux.Handle("POST /v1/groups/{id}/members", s.authed(s.addGroupMembers))
		mux.Handle("DELETE /v1/groups/{id}/members/{account}", s.authed(s.removeGroupMember))
		mux.Handle("PUT /v1/groups/{id}/admins/{account}", s.authed(s.setGroupAdmin(true)))
		mux.Handle("DELETE /v1/groups/{id}/admins/{account}", s.authed(s.setGroupAdmin(false)))
		mux.Handle("POST /v1/groups/{id}/invite", s.authed(s.createGroupInvite))
		mux.Handle("DELETE /v1/groups/{id}/invite", s.authed(s.revokeGroupInvite))
		mux.Handle("GET /v1/groups/invite/{code}", s.authed(s.previewGroupInvite))
		mux.Handle("POST /v1/groups/invite/{code}/join", s.authed(s.joinGroup))
	}
	if s.Media != nil {
		mux.Handle("POST /v1/media", s.authed(s.uploadMedia))
		mux.Handle("GET /v1/media/{id}", s.authed(s.downloadMedia))
		mux.Handle("DELETE /v1/media/{id}", s.authed(s.deleteMedia))
	}
	if s.WS != nil {
		mux.Handle("GET /v1/ws", s.WS)
	}

	// Operator API.
	mux.Handle("GET /admin/v1/otp", s.admin(s.adminOTP))
	if s.Sandbox != nil {
		s.sandboxRoutes(mux)
	}
	mux.Handle("POST /admin/v1/debug/free-memory", s.admin(s.freeMemory))
	s.businessRoutes(mux)
	if s.Consent != nil {
		s.consentRoutes(mux)
	}
	s.inboxRoutes(mux)
	s.webchatRoutes(mux)
	s.inboxProfileRoutes(mux)
	s.agentAdminRoutes(mux)
	if s.Webhooks != nil {
		mux.Handle("GET /admin/v1/webhooks/failed", s.admin(s.adminFailedWebhooks))
		mux.Handle("POST /admin/v1/webhooks/replay", s.admin(s.adminReplayWebhooks))
	}
	mux.Handle("GET /admin/v1/debug/pprof/profile", s.admin(func(w http.ResponseWriter, r *http.Request) error {
		pprof.Profile(w, r)
		return nil
	}))
	mux.Handle("GET /admin/v1/debug/pprof/trace", s.admin(func(w http.ResponseWriter, r *http.Request) error {
		pprof.Trace(w, r)
		return nil
	}))
	mux.Handle("GET /admin/v1/debug/pprof/{name}", s.admin(func(w http.ResponseWriter, r *http.Request) error {
		pprof.Handler(r.PathValue("name")).ServeHTTP(w, r)
		return nil
	}))

	notFound := s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return parley.Errorf(parley.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path)
	})
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Web != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) && !isAPIPath(r.URL.Path) {
			s.Web.ServeHTTP(w, r)
			return
		}
		notFound.ServeHTTP(w, r)
	}))
	return mux
}

// isAPIPath reports whether p belongs to an API, whose unknown paths get
// JSON errors rather than the web client.
func isAPIPath(p string) bool {
	for _, prefix := range []string{"/v1/", "/admin/", "/business/api/"} {
		if strings.HasPrefix(p, prefix) || p == strings.TrimSuffix(prefix, "/") {
			return true
		}
	}
	return false
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.Ready != nil {
		if err := s.Ready(r.Context()); err != nil {
			s.Log.Warn("not ready", "err", err)
			return &parley.Error{Code: parley.EUNAVAILABLE, Message: "not ready", Err: err}
		}
	}
	w.Write([]byte("ready\n"))
	return nil
}

type codeRequest struct {
	Phone string `json:"phone"`
}

type codeResponse struct {
	ExpiresIn   int  `json:"expires_in"` // seconds
	Development bool `json:"development,omitempty"`
}

func (s *Server) requestCode(w http.ResponseWriter, r *http.Request) error {
	var req codeRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	ttl, err := s.Accounts.RequestCode(r.Context(), req.Phone, s.clientIP(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, codeResponse{ExpiresIn: int(ttl / time.Second), Development: s.DevSMS})
	return nil
}

type verifyRequest struct {
	Phone      string `json:"phone"`
	Code       string `json:"code"`
	DeviceName string `json:"device_name"`
	Platform   string `json:"platform"`
}

type credentials struct {
	Account   string `json:"account"`
	Device    uint32 `json:"device"`
	Token     string `json:"token"`
	ExpiresAt int64  `json:"expires_at"` // unix seconds; renewed on use
	Created   bool   `json:"created,omitempty"`
}

func credentialsOf(d *parley.Device, token string, created bool) credentials {
	return credentials{Account: d.Account, Device: d.ID, Token: token, ExpiresAt: d.ExpiresAt.Unix(), Created: created}
}

func (s *Server) verify(w http.ResponseWriter, r *http.Request) error {
	var req verifyRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	reg, err := s.Accounts.Verify(r.Context(), req.Phone, req.Code, req.DeviceName, req.Platform, s.clientIP(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, credentialsOf(reg.Device, reg.Token, reg.Created))
	return nil
}

type linkRequest struct {
	Code       string `json:"code"`
	DeviceName string `json:"device_name,omitempty"`
	Platform   string `json:"platform,omitempty"`
}

// linkWait is called by the new device: it long-polls until an existing
// device approves its code.
func (s *Server) linkWait(w http.ResponseWriter, r *http.Request) error {
	var req linkRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	reg, err := s.Accounts.WaitLink(r.Context(), s.Link, req.Code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, credentialsOf(reg.Device, reg.Token, false))
	return nil
}

func (s *Server) linkApprove(w http.ResponseWriter, r *http.Request) error {
	var req linkRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	d, err := s.Accounts.ApproveLink(r.Context(), s.Link, device(r), req.Code, req.DeviceName, req.Platform)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deviceOf(d, 0))
	return nil
}

type meResponse struct {
	Account  string `json:"account"`
	Device   uint32 `json:"device"`
	Name     string `json:"name"`
	Presence string `json:"presence"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	d := device(r)
	a, err := s.Accounts.Account(r.Context(), d.Account)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, meResponse{Account: a.ID, Device: d.ID, Name: a.Name, Presence: a.Presence})
	return nil
}

type updateMeRequest struct {
	Name     *string `json:"name"`
	Presence *string `json:"presence"`
}

func (s *Server) updateMe(w http.ResponseWriter, r *http.Request) error {
	var req updateMeRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	d := device(r)
	a, err := s.Accounts.UpdateProfile(r.Context(), d, req.Name, req.Presence)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, meResponse{Account: a.ID, Device: d.ID, Name: a.Name, Presence: a.Presence})
	return nil
}

type deviceJSON struct {
	ID         uint32 `json:"id"`
	Name       string `json:"name"`
	Platform   string `json:"platform"`
	CreatedAt  int64  `json:"created_at"`
	LastSeenAt int64  `json:"last_seen_at"`
	Current    bool   `json:"current,omitempty"`
}

func deviceOf(d *parley.Device, current uint32) deviceJSON {
	return deviceJSON{ID: d.ID, Name: d.Name, Platform: d.Platform, CreatedAt: d.CreatedAt.Unix(),
		LastSeenAt: d.LastSeenAt.Unix(), Current: d.ID == current}
}

func (s *Server) devices(w http.ResponseWriter, r *http.Request) error {
	me := device(r)
	devs, err := s.Accounts.Devices(r.Context(), me.Account)
	if err != nil {
		return err
	}
	out := struct {
		Devices []deviceJSON `json:"devices"`
	}{Devices: make([]deviceJSON, len(devs))}
	for i := range devs {
		out.Devices[i] = deviceOf(&devs[i], me.ID)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) unlink(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 32)
	if err != nil {
		return parley.Errorf(parley.EINVALID, "device id must be a number")
	}
	if err := s.Accounts.Revoke(r.Context(), device(r), uint32(id)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) accountDevices(w http.ResponseWriter, r *http.Request) error {
	acct := r.PathValue("id")
	ids, err := s.Accounts.RecipientDevices(r.Context(), acct)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Account string   `json:"account"`
		Devices []uint32 `json:"devices"`
	}{acct, ids})
	return nil
}

// businessCard answers what a client shows of a business it chats with.
func (s *Server) businessCard(w http.ResponseWriter, r *http.Request) error {
	acct := r.PathValue("id")
	if !parley.ValidAccountID(acct) {
		return parley.Errorf(parley.EINVALID, "account must be a phone number in digits")
	}
	c, err := s.Business.Card(r.Context(), acct)
	if err != nil {
		return err
	}
	type profile struct {
		About       string   `json:"about,omitempty"`
		Address     string   `json:"address,omitempty"`
		Description string   `json:"description,omitempty"`
		Email       string   `json:"email,omitempty"`
		Websites    []string `json:"websites,omitempty"`
		Vertical    string   `json:"vertical,omitempty"`
		// Parley extensions:
		OpeningHours *parley.OpeningHours `json:"opening_hours,omitempty"`
	}
	out := struct {
		Account      string       `json:"account"`
		VerifiedName string       `json:"verified_name"`
		Hosted       bool         `json:"hosted"`
		Verified     bool         `json:"verified"` // the operator's badge
		Profile      *profile     `json:"profile,omitempty"`
		Hours        *hoursJSON   `json:"hours,omitempty"`   // when opening hours are published
		Listing      *ListingJSON `json:"listing,omitempty"` // when listed in the directory
		PictureURL   string       `json:"picture_url,omitempty"`
	}{Account: c.Account, VerifiedName: c.VerifiedName, Hosted: c.Hosted}
	if c.Picture != nil {
		out.PictureURL = picturePath(c.Account, c.Picture)
	}
	if p := c.Profile; p != nil {
		out.Profile = &profile{About: p.About, Address: p.Address, Description: p.Description, Email: p.Email, Websites: p.Websites, Vertical: p.Vertical}
		if !p.Hours.IsZero() {
			out.Profile.OpeningHours = &p.Hours
			st := hoursState(&p.Hours, c.Now)
			out.Hours = &st
		}
	}
	if l := c.Listing; l != nil {
		out.Verified = l.Verified
		if l.Listed {
			lj := listingJSON(l)
			out.Listing = &lj
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) presence(w http.ResponseWriter, r *http.Request) error {
	acct := r.PathValue("id")
	if !parley.ValidAccountID(acct) {
		return parley.Errorf(parley.EINVALID, "account must be a phone number in digits")
	}
	p, err := s.Messaging.Presence(r.Context(), device(r).Account, acct)
	if err != nil {
		return err
	}
	out := struct {
		Account  string `json:"account"`
		Online   bool   `json:"online"`
		LastSeen int64  `json:"last_seen,omitempty"`
		Hidden   bool   `json:"hidden,omitempty"`
	}{Account: acct, Online: p.Online, Hidden: p.Hidden}
	if !p.Online && !p.LastSeen.IsZero() {
		out.LastSeen = p.LastSeen.UnixMilli()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// freeMemory runs a garbage collection and returns freed memory to the
// operating system, as parley serve does by itself when it goes idle
// after a burst (internal/gcpace) and the runtime within about two
// minutes. Benchmarks call it to read the idle steady state.
func (s *Server) freeMemory(w http.ResponseWriter, r *http.Request) error {
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	writeJSON(w, http.StatusOK, struct {
		HeapInuse  uint64 `json:"heap_inuse"`
		StackInuse uint64 `json:"stack_inuse"`
		Goroutines int    `json:"goroutines"`
	}{ms.HeapInuse, ms.StackInuse, runtime.NumGoroutine()})
	return nil
}

func (s *Server) adminOTP(w http.ResponseWriter, r *http.Request) error {
	if !s.DevSMS {
		return parley.Errorf(parley.EFORBIDDEN, "codes can be read only with the development SMS provider (parley serve --dev)")
	}
	// A "+" in a query string decodes to a space; accept either form.
	q := strings.TrimSpace(r.URL.Query().Get("phone"))
	if !strings.HasPrefix(q, "+") {
		q = "+" + q
	}
	phone, err := parley.ParsePhone(q)
	if err != nil {
		return err
	}
	text, at, err := s.SMSLog.LastSMS(r.Context(), phone)
	if parley.Match(err, parley.ENOTFOUND) {
		return parley.Errorf(parley.ENOTFOUND, "no code was sent to +%s", phone)
	} else if err != nil {
		return err
	}
	code := text
	if i := len(text) - 6; i >= 0 {
		code = text[i:]
	}
	writeJSON(w, http.StatusOK, struct {
		Phone  string `json:"phone"`
		Code   string `json:"code"`
		Text   string `json:"text"`
		SentAt int64  `json:"sent_at"`
	}{"+" + phone, code, text, at.Unix()})
	return nil
}

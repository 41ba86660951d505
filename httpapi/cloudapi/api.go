package cloudapi

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

// DefaultVersion is the Graph API version reported for unversioned calls.
const DefaultVersion = "v24.0"

// API serves the Graph-style Cloud API. Fields are set by the app.
type API struct {
	Business   *service.Business
	Directory  *service.Directory // the directory_listing extension; nil: not served
	Consent    *service.Consent   // the opt-in ledger's extension routes; nil: not served
	Links      *service.Links     // QR codes and short links
	Log        *slog.Logger
	TrustProxy bool // take client addresses from X-Forwarded-For (and the scheme from X-Forwarded-Proto)
	// PublicURL is the server's public base URL for the links it hands
	// out (deep_link_url, qr_image_url); "": the request's.
	PublicURL string
}

// Match reports whether path belongs to the Cloud API: its first segment
// is a Graph version ("v24.0") or a Graph id (digits). The node's other
// APIs (/v1, /admin/v1, /healthz, ...) never start that way.
func Match(path string) bool {
	seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if seg == "" {
		return false
	}
	if isVersion(seg) || strings.HasPrefix(seg, "upload:") { // upload sessions (uploads.go)
		return true
	}
	return parley.AllDigits(seg)
}

// isVersion reports whether s is "v" major "." minor.
func isVersion(s string) bool {
	major, minor, ok := strings.Cut(strings.TrimPrefix(s, "v"), ".")
	return ok && strings.HasPrefix(s, "v") && parley.AllDigits(major) && parley.AllDigits(minor) && len(major) <= 3 && len(minor) <= 3
}

// Handler returns the API: it strips an optional version prefix and
// serves the routes of routes(). Put it in front of the node's other
// handlers with Match.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	a.routes(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		version := DefaultVersion
		p := r.URL.Path
		if seg, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/"); isVersion(seg) {
			version, p = seg, "/"+rest
		}
		w.Header().Set("facebook-api-version", version)
		// A shallow copy with its own URL, as http.StripPrefix makes: a
		// deep Clone copied every header of every request.
		u := *r.URL
		u.Path, u.RawPath = p, ""
		r2 := r.WithContext(context.WithValue(r.Context(), versionKey, version))
		r2.URL = &u
		mux.ServeHTTP(w, r2)
	})
}

type ctxKey int

const (
	versionKey ctxKey = iota
	callerKey
)

func versionOf(r *http.Request) string {
	if v, ok := r.Context().Value(versionKey).(string); ok {
		return v
	}
	return DefaultVersion
}

func caller(r *http.Request) *service.Caller { return r.Context().Value(callerKey).(*service.Caller) }

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// router is what routes registers on: an *http.ServeMux, or the route
// list of the OpenAPI test.
type router interface {
	Handle(pattern string, h http.Handler)
}

// routes registers every route of the Cloud API. Ids are Graph ids;
// which kind an id is (number, business, template, app) is up to the
// handler, which answers 100/33 for ids that are unknown or belong to
// another business. Each path also has a method-less pattern, so that
// another method gets Meta's "Unsupported ... request" error.
func (a *API) routes(mux router) {
	mux.Handle("POST /{id}/messages", a.authed(a.sendMessage))
	mux.Handle("GET /{id}/message_templates", a.authed(a.listTemplates))
	mux.Handle("POST /{id}/message_templates", a.authed(a.createTemplate))
	mux.Handle("DELETE /{id}/message_templates", a.authed(a.deleteTemplates))
	mux.Handle("GET /{id}/message_templates/{template}", a.authed(a.getWABATemplate))
	mux.Handle("GET /{id}/phone_numbers", a.authed(a.listNumbers))
	mux.Handle("GET /{id}/whatsapp_business_profile", a.authed(a.getProfile))
	mux.Handle("POST /{id}/whatsapp_business_profile", a.authed(a.updateProfile))
	mux.Handle("GET /{id}/directory_listing", a.authed(a.getListing))
	mux.Handle("POST /{id}/directory_listing", a.authed(a.updateListing))
	mux.Handle("GET /{id}/subscribed_apps", a.authed(a.listSubscribedApps))
	mux.Handle("POST /{id}/subscribed_apps", a.authed(a.subscribeApp))
	mux.Handle("DELETE /{id}/subscribed_apps", a.authed(a.unsubscribeApp))
	mux.Handle("GET /{id}/subscriptions", a.authed(a.getAppSubscriptions))
	mux.Handle("POST /{id}/subscriptions", a.authed(a.setAppSubscription))
	mux.Handle("DELETE /{id}/subscriptions", a.authed(a.deleteAppSubscription))
	mux.Handle("POST /{id}/media", a.authed(a.uploadMedia))
	mux.Handle("POST /{id}/uploads", a.authed(a.startUpload))
	mux.Handle("GET /{id}/download", a.authed(a.downloadMedia))
	a.consentRoutes(mux)
	a.catalogRoutes(mux)
	mux.Handle("POST /{id}/message_qrdls", a.authed(a.createQRDL))
	mux.Handle("GET /{id}/message_qrdls", a.authed(a.listQRDLs))
	mux.Handle("GET /{id}/message_qrdls/{code}", a.authed(a.getQRDL))
	mux.Handle("DELETE /{id}/message_qrdls/{code}", a.authed(a.deleteQRDL))
	mux.Handle("GET /{id}", a.authed(a.getObject))
	mux.Handle("POST /{id}", a.authed(a.updateObject))
	mux.Handle("DELETE /{id}", a.authed(a.deleteObject))
	for _, p := range []string{"/{id}/messages", "/{id}/media", "/{id}/uploads", "/{id}/download", "/{id}/message_templates", "/{id}/message_templates/{template}", "/{id}/phone_numbers", "/{id}/whatsapp_business_profile",
		"/{id}/directory_listing", "/{id}/subscribed_apps", "/{id}/subscriptions", "/{id}/consents", "/{id}/consents/verify", "/{id}/consent_keywords",
		"/{id}/message_qrdls", "/{id}/message_qrdls/{code}", "/{id}"} {
		mux.Handle(p, a.authed(func(w http.ResponseWriter, r *http.Request) error {
			return unsupported(r.PathValue("id"))
		}))
	}
	mux.Handle("/", a.handle(func(w http.ResponseWriter, r *http.Request) error {
		e := parley.Errorf(parley.ENOTFOUND, "Unknown path components: %s", r.URL.Path)
		e.Reason = parley.ReasonUnknownPath
		return e
	}))
}

func unsupported(id string) error {
	e := parley.Errorf(parley.ENOTFOUND, "Object with ID '%s' does not exist", id)
	e.Reason = parley.ReasonObject
	return e
}

func (a *API) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// token takes the access token from "Authorization: Bearer|OAuth" or
// the access_token query or form parameter.
func token(r *http.Request) string {
	h := r.Header.Get("Authorization")
	for _, p := range []string{"Bearer ", "OAuth ", "bearer "} {
		if t, ok := strings.CutPrefix(h, p); ok {
			return strings.TrimSpace(t)
		}
	}
	return r.URL.Query().Get("access_token")
}

// authed runs h with the caller of a valid token.
func (a *API) authed(h handlerFunc) http.Handler {
	return a.handle(func(w http.ResponseWriter, r *http.Request) error {
		c, err := a.Business.Authenticate(r.Context(), token(r), a.clientIP(r))
		if err != nil {
			return err
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), callerKey, c)))
	})
}

func (a *API) clientIP(r *http.Request) string {
	if a.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			return strings.TrimSpace(first)
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func success(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte(`{"success":true}`))
	return nil
}

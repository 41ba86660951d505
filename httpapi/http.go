package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

// Server holds what the handlers need. Fields are set by cmd/parley.
type Server struct {
	Accounts  *service.Accounts
	Messaging *service.Messaging
	Groups    *service.Groups    // groups; their routes are served only when set
	Keys      *service.Keys      // the key directory; its routes are served only when set
	Media     *service.Media     // media blobs; their routes are served only when set
	Business  *service.Business  // the business platform's operator routes; served only when set
	Directory *service.Directory // the business directory (client and operator routes); served only when set
	Sandbox   SandboxAPI         // sandbox customers (operator API); served only when set
	Webhooks  WebhookOperator    // dead webhook events; the operator's routes are served only when set
	Consent   *service.Consent   // the opt-in ledger: GDPR routes and the operator's consent routes; served only when set
	Inbox     *service.Inbox     // the business inbox API (/business/api) and agent admin; served only when set
	Streams   context.Context    // its end ends long-lived responses (the inbox's event streams) on shutdown; nil: never
	Links     *service.Links     // public reads behind click-to-chat and QR codes; served only when set
	PublicURL string             // the server's public base URL ("": the request's); see cloudapi.BaseURL
	Link      service.Link
	SMSLog    parley.SMSLog
	DevSMS    bool         // the development SMS provider is in use
	AdminHash [32]byte     // SHA-256 of the operator token
	WS        http.Handler // the WebSocket endpoint
	Web       http.Handler // the web client, for GET and HEAD outside /v1 and /admin; nil: none
	Metrics   http.Handler
	Ready     func(ctx context.Context) error
	Log       *slog.Logger
	// TrustProxy takes the client address from X-Forwarded-For (set it
	// only behind a reverse proxy that overwrites that header).
	TrustProxy bool
}

// statusOf maps domain error codes to HTTP statuses: the one table.
var statusOf = map[string]int{
	parley.EINVALID:      http.StatusBadRequest,
	parley.ENOTFOUND:     http.StatusNotFound,
	parley.ECONFLICT:     http.StatusConflict,
	parley.EUNAUTHORIZED: http.StatusUnauthorized,
	parley.EFORBIDDEN:    http.StatusForbidden,
	parley.ERATELIMIT:    http.StatusTooManyRequests,
	parley.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	parley.ESTALE:        http.StatusConflict,
	parley.EEXPIRED:      http.StatusGone,
	parley.ELOCKED:       http.StatusLocked,
	parley.EUNAVAILABLE:  http.StatusServiceUnavailable,
	parley.EINTERNAL:     http.StatusInternalServerError,
}

type errorBody struct {
	Error struct {
		Code    string              `json:"code"`
		Message string              `json:"message"`
		Devices map[string][]uint32 `json:"devices,omitempty"`
	} `json:"error"`
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handler that returns an error.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := parley.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		s.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var body errorBody
	body.Error.Code = code
	body.Error.Message = parley.ErrorMessage(err)
	var e *parley.Error
	if errors.As(err, &e) {
		body.Error.Devices = e.Devices
	}
	if code == parley.ERATELIMIT {
		w.Header().Set("Retry-After", "60")
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

const maxBody = 64 << 10

// decode reads a JSON request body into v, rejecting unknown fields,
// trailing data and bodies over 64 KiB.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return parley.Errorf(parley.ETOOLARGE, "request body is larger than %d bytes", maxBody)
		}
		if errors.Is(err, io.EOF) {
			return parley.Errorf(parley.EINVALID, "request body is empty; send JSON")
		}
		return parley.Errorf(parley.EINVALID, "request body is not valid JSON: %s", jsonProblem(err))
	}
	if dec.More() {
		return parley.Errorf(parley.EINVALID, "request body has data after the JSON object")
	}
	return nil
}

// jsonProblem describes a decoding error without echoing input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "malformed"
}

// clientIP is the caller's address for rate limits.
func (s *Server) clientIP(r *http.Request) string {
	if s.TrustProxy {
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

type ctxKey int

const deviceKey ctxKey = 0

func bearer(r *http.Request) (string, bool) {
	return strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// authed wraps h so that it runs only with valid device credentials.
func (s *Server) authed(h handlerFunc) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		tok, ok := bearer(r)
		if !ok {
			return parley.Errorf(parley.EUNAUTHORIZED, "missing Authorization: Bearer token")
		}
		d, err := s.Accounts.Authenticate(r.Context(), tok)
		if err != nil {
			return err
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), deviceKey, d)))
	})
}

func device(r *http.Request) *parley.Device { return r.Context().Value(deviceKey).(*parley.Device) }

// admin wraps h so that it runs only with the operator token.
func (s *Server) admin(h handlerFunc) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		tok, ok := bearer(r)
		sum := sha256.Sum256([]byte(tok))
		if !ok || subtle.ConstantTimeCompare(sum[:], s.AdminHash[:]) != 1 {
			return parley.Errorf(parley.EUNAUTHORIZED, "missing or wrong operator token")
		}
		return h(w, r)
	})
}

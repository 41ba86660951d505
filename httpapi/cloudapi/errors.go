package cloudapi

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/parley-chat/parley"
)

// This file is the one table between domain errors and the Cloud API's
// error envelope: Meta's numeric code, subcode, HTTP status and title
// for each (domain code, reason). Everything the API answers with an
// error goes through writeError.

type metaError struct {
	code    int
	subcode int
	status  int
	title   string // "(#code) title" is the message; "" uses the domain message alone
	graph   bool   // GraphMethodException instead of OAuthException
}

type errorKey struct{ code, reason string }

var errorTable = map[errorKey]metaError{
	{parley.EINVALID, ""}:                             {code: 100, status: 400, title: "Invalid parameter"},
	{parley.ETOOLARGE, ""}:                            {code: 100, status: 400, title: "Invalid parameter"},
	{parley.ECONFLICT, ""}:                            {code: 100, status: 400, title: "Invalid parameter"},
	{parley.ECONFLICT, parley.ReasonTemplateExists}:   {code: 100, subcode: 2388024, status: 400, title: "Invalid parameter"},
	{parley.ENOTFOUND, ""}:                            {code: 100, subcode: 33, status: 400, graph: true},
	{parley.ENOTFOUND, parley.ReasonObject}:           {code: 100, subcode: 33, status: 400, graph: true},
	{parley.ENOTFOUND, parley.ReasonUnknownPath}:      {code: 2500, status: 400},
	{parley.EUNAUTHORIZED, ""}:                        {code: 190, status: 401},
	{parley.EUNAUTHORIZED, parley.ReasonTokenRevoked}: {code: 190, subcode: 460, status: 401},
	{parley.EFORBIDDEN, ""}:                           {code: 10, status: 403, title: "Application does not have permission for this action"},
	{parley.ERATELIMIT, ""}:                           {code: 4, status: 400, title: "Application request limit reached"},
	{parley.ERATELIMIT, parley.ReasonCallLimit}:       {code: 4, status: 400, title: "Application request limit reached"},
	{parley.ERATELIMIT, parley.ReasonThroughput}:      {code: 130429, status: 400, title: "Rate limit hit"},
	{parley.ERATELIMIT, parley.ReasonPairRate}:        {code: 131056, status: 400, title: "(Business Account, Consumer Account) pair rate limit hit"},
	{parley.EINVALID, parley.ReasonRecipientIsSender}: {code: 131021, status: 400, title: "Recipient cannot be sender"},
	{parley.EINVALID, parley.ReasonUnsupportedType}:   {code: 131051, status: 400, title: "Unsupported message type"},
	{parley.EINVALID, parley.ReasonCallbackVerify}:    {code: 2200, status: 400, title: "Callback verification failed"},
	{parley.ENOTFOUND, parley.ReasonTemplateMissing}:  {code: 132001, status: 404, title: "Template name does not exist in the translation"},
	{parley.EINVALID, parley.ReasonTemplateParams}:    {code: 132000, status: 400, title: "Number of parameters does not match the expected number of params"},
	{parley.EINVALID, parley.ReasonTemplateFormat}:    {code: 132012, status: 400, title: "Parameter format does not match format in the created template"},
	{parley.EINVALID, parley.ReasonTemplateParam}:     {code: 132008, status: 400, title: "Template Parameter is invalid"},
	{parley.EINVALID, parley.ReasonTemplatePaused}:    {code: 132015, status: 400, title: "Template is Paused"},
	{parley.EINVALID, parley.ReasonTemplateDisabled}:  {code: 132016, status: 400, title: "Template is Disabled"},
	{parley.ENOTFOUND, parley.ReasonUnknownCustomer}:  {code: 100, status: 400, title: "Invalid parameter"},
	{parley.ECONFLICT, parley.ReasonConsentReplay}:    {code: 100, status: 400, title: "Invalid parameter"},
	{parley.EINVALID, parley.ReasonInvalidPhone}:      {code: 100, status: 400, title: "Invalid parameter"},
	{parley.EUNAVAILABLE, ""}:                         {code: 2, status: 503, title: "Service temporarily unavailable"},
	{parley.EINTERNAL, ""}:                            {code: 131000, status: 500, title: "Something went wrong"},
}

type errorEnvelope struct {
	Error graphError `json:"error"`
}

type graphError struct {
	Message   string     `json:"message"`
	Type      string     `json:"type"`
	Code      int        `json:"code"`
	Subcode   int        `json:"error_subcode,omitempty"`
	Data      *errorData `json:"error_data,omitempty"`
	FBTraceID string     `json:"fbtrace_id"`
}

type errorData struct {
	MessagingProduct string `json:"messaging_product"`
	Details          string `json:"details"`
}

// lookup returns the table entry of err.
func lookup(err error) metaError {
	code, reason := parley.ErrorCode(err), parley.ErrorReason(err)
	if m, ok := errorTable[errorKey{code, reason}]; ok {
		return m
	}
	if m, ok := errorTable[errorKey{code, ""}]; ok {
		return m
	}
	return errorTable[errorKey{parley.EINTERNAL, ""}]
}

func traceID() string {
	var b [12]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// envelope builds Meta's error body for err on a request with method.
func envelope(err error, method string) (int, errorEnvelope) {
	m := lookup(err)
	msg := parley.ErrorMessage(err)
	g := graphError{Type: "OAuthException", Code: m.code, Subcode: m.subcode, FBTraceID: traceID()}
	switch {
	case m.graph:
		g.Type = "GraphMethodException"
		g.Message = "Unsupported " + lowerMethod(method) + " request. " + msg +
			", cannot be loaded due to missing permissions, or does not support this operation."
	case m.code == 190 || m.code == 2500:
		g.Message = msg
	default:
		g.Message = "(#" + strconv.Itoa(m.code) + ") " + m.title
		g.Data = &errorData{MessagingProduct: "whatsapp", Details: msg}
	}
	return m.status, errorEnvelope{Error: g}
}

func lowerMethod(m string) string { return strings.ToLower(m) }

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := envelope(err, r.Method)
	if status >= 500 {
		a.Log.Error("cloud api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	h := w.Header()
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_token" "`+body.Error.Message+`"`)
	}
	h.Set("x-fb-trace-id", body.Error.FBTraceID)
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"message":"(#131000) Something went wrong","type":"OAuthException","code":131000}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

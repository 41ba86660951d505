package sdk

import (
	"errors"
	"fmt"
	"time"
)

// Error codes the server uses, over HTTP and on the socket.
const (
	CodeInvalid      = "invalid"
	CodeUnauthorized = "unauthorized"
	CodeForbidden    = "forbidden"
	CodeNotFound     = "not_found"
	CodeConflict     = "conflict"
	CodeStaleDevices = "stale_devices"
	CodeExpired      = "expired"
	CodeTooLarge     = "too_large"
	CodeLocked       = "locked"
	CodeRateLimited  = "rate_limited"
	CodeUnavailable  = "unavailable"
	CodeInternal     = "internal"
)

// Error is a failure answered by the server.
type Error struct {
	Status  int    // HTTP status; 0 for an error frame on the WebSocket
	Code    string // one of the Code constants ("" if the answer had none)
	Message string // the server's message, safe to show
	// Devices holds the current device lists with stale_devices, keyed by
	// account; the sender's own list excludes the sending device.
	Devices map[string][]uint32
	// RetryAfter is the server's Retry-After with rate_limited.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	switch {
	case e.Message != "" && e.Code != "":
		return e.Message + " (" + e.Code + ")"
	case e.Message != "":
		return e.Message
	case e.Code != "":
		return e.Code
	}
	return fmt.Sprintf("HTTP status %d", e.Status)
}

// ErrorCode returns the code of the *Error in err's chain, or "".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// CloseError is a connection closed by the server with a close code.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("connection closed (%d)", e.Code)
	}
	return fmt.Sprintf("connection closed: %s (%d)", e.Reason, e.Code)
}

// Close codes of the protocol.
const (
	CloseNormal       = 1000
	CloseGoingAway    = 1001 // shutdown or idle: reconnect
	ClosePolicy       = 1008 // the client read too slowly: reconnect
	CloseUnauthorized = 4001 // unknown credentials: register again
	CloseRevoked      = 4002 // this device was unlinked
	CloseExpired      = 4003 // credentials expired: register again
	CloseAuthTimeout  = 4004 // no auth frame in time, or another frame first
	CloseReplaced     = 4009 // the same device connected again elsewhere
	CloseServerError  = 4500 // server fault: reconnect with backoff
)

// Fatal reports whether err ends a connection in a way that reconnecting
// with the same credentials cannot fix: close codes 4000–4099 (4001–4004
// need new credentials; 4009 means the device connected elsewhere, and the
// protocol says not to fight over it). Every other error, including
// abnormal drops, invites a reconnect.
func Fatal(err error) bool {
	var ce *CloseError
	return errors.As(err, &ce) && ce.Code >= 4000 && ce.Code < 4100
}

// ErrStopped is returned by requests on a Messenger whose Run has ended
// without a fatal error (its context was cancelled).
var ErrStopped = errors.New("sdk: messenger stopped")

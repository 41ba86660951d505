package parley

import (
	"errors"
	"fmt"
)

// Error codes. The set is small on purpose: each transport maps these to
// its own wire codes in one table (HTTP status, WebSocket error code).
const (
	EINVALID      = "invalid"       // the request is malformed or fails validation
	ENOTFOUND     = "not_found"     // the named object does not exist (or is not visible)
	ECONFLICT     = "conflict"      // the object exists or the state changed underneath
	EUNAUTHORIZED = "unauthorized"  // missing, unknown, revoked or expired credentials
	EFORBIDDEN    = "forbidden"     // authenticated, but not allowed
	ERATELIMIT    = "rate_limited"  // too many requests; retry later
	ETOOLARGE     = "too_large"     // a payload exceeds a limit
	ESTALE        = "stale_devices" // the sender's device list for a recipient is out of date
	EEXPIRED      = "expired"       // a code or token is past its lifetime
	ELOCKED       = "locked"        // too many failed attempts; locked out for a while
	EUNAVAILABLE  = "unavailable"   // a dependency is down; retry later
	EINTERNAL     = "internal"      // a bug or an unexpected failure
)

// Error is the one error type of the domain. Message is safe to show to a
// client; Err is the internal cause and is only logged.
type Error struct {
	Code    string
	Message string
	Op      string // the operation, e.g. "messaging.Send"
	Err     error  // internal cause, never sent to clients

	// Devices carries the current device lists with ESTALE, keyed by
	// account id, so that a client can re-encrypt and retry.
	Devices map[string][]uint32

	// Reason refines Code for transports with a finer code set than
	// ours (the Cloud API's numeric codes): one of the Reason constants
	// in business.go, or "".
	Reason string
}

func (e *Error) Error() string {
	var s string
	if e.Op != "" {
		s = e.Op + ": "
	}
	if e.Code != "" {
		s += e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a client-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorReason returns the Reason of the first *Error in err's chain.
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// ErrorCode returns the code of the first *Error in err's chain,
// EINTERNAL for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err. Internal errors
// get a generic message so that causes never leak to clients.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != "" && e.Code != EINTERNAL {
		if e.Message != "" {
			return e.Message
		}
		return e.Code
	}
	return "internal error"
}

// Match reports whether err carries the given code.
func Match(err error, code string) bool { return ErrorCode(err) == code }

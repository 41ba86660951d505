package ws

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Close codes from RFC 6455 section 7.4.1.
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001 // shutdown or idle timeout
	CloseProtocolError   = 1002
	CloseUnsupportedData = 1003
	CloseNoStatus        = 1005 // reported to OnClose when the peer's close frame had no code; never sent
	CloseAbnormal        = 1006 // reported to OnClose when the connection dropped without a close frame; never sent
	CloseInvalidPayload  = 1007 // invalid UTF-8 in a text message
	ClosePolicyViolation = 1008 // slow consumer, slow sender
	CloseTooBig          = 1009
	CloseInternalError   = 1011
)

// Causes reported to OnClose and returned by writes; match with errors.Is.
var (
	ErrClosed        = errors.New("ws: connection closed")
	ErrServerClosed  = errors.New("ws: server shut down")
	ErrIdleTimeout   = errors.New("ws: idle timeout")
	ErrReadTimeout   = errors.New("ws: frame not completed within ReadTimeout")
	ErrWriteTimeout  = errors.New("ws: write not completed within WriteTimeout")
	ErrProtocol      = errors.New("ws: protocol error")
	ErrMessageTooBig = errors.New("ws: message exceeds MaxMessageSize")
	ErrInvalidUTF8   = errors.New("ws: invalid UTF-8 in text message")
	ErrHandlerPanic  = errors.New("ws: handler panicked")
)

// failure is a read error that closes the connection with a code. reason
// goes to the peer in the close frame; err goes to OnClose.
type failure struct {
	code   int
	reason string
	err    error
}

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

func protocolError(reason string) error {
	return &failure{code: CloseProtocolError, reason: reason, err: fmt.Errorf("%w: %s", ErrProtocol, reason)}
}

// receivable reports whether a peer may send code (RFC 6455 section 7.4 and
// the IANA registry): 1005, 1006 and 1015 describe local events and must
// never appear on the wire.
func receivable(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// closePayload encodes a close frame body into p (at least 125 bytes). The
// reason is cut at a rune boundary to fit the 125-byte control frame limit.
func closePayload(p []byte, code int, reason string) int {
	if code == CloseNoStatus {
		return 0
	}
	p[0], p[1] = byte(code>>8), byte(code)
	const max = 125 - 2
	if len(reason) > max {
		n := max
		for n > 0 && !utf8.RuneStart(reason[n]) {
			n--
		}
		reason = reason[:n]
	}
	return 2 + copy(p[2:], reason)
}

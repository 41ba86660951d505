package parley

import (
	"math"
	"time"
)

// Disappearing messages. The per-chat timer is an end-to-end encrypted
// setting between the clients; what the server sees is the expires_in of
// each send. It deletes undelivered copies once they are that old, never
// hands out an expired copy, and passes expires_in on with every delivered
// copy so that the receiving client deletes its own copy that long after
// the message was read.

// Bounds of a message's expiry; 0 means the message does not expire.
const (
	MinExpiresIn = time.Minute
	MaxExpiresIn = 90 * 24 * time.Hour
)

// ValidateExpiresIn checks a message's expiry: 0, or whole seconds from
// MinExpiresIn to MaxExpiresIn.
func ValidateExpiresIn(d time.Duration) error {
	if d == 0 {
		return nil
	}
	if d < MinExpiresIn || d > MaxExpiresIn || d%time.Second != 0 {
		return errExpiresIn()
	}
	return nil
}

func errExpiresIn() error {
	return Errorf(EINVALID, "expires_in must be 0 or whole seconds from %d to %d", int64(MinExpiresIn/time.Second), int64(MaxExpiresIn/time.Second))
}

// ExpiresInSeconds converts the expires_in of the protocol (seconds) to a
// duration and validates it.
func ExpiresInSeconds(s int64) (time.Duration, error) {
	if s < 0 || s > math.MaxInt64/int64(time.Second) {
		return 0, errExpiresIn()
	}
	d := time.Duration(s) * time.Second
	return d, ValidateExpiresIn(d)
}

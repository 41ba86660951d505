package parley

import "context"

// SMSProvider sends a text message to a phone number. Parley ships only a
// development provider (it records codes in the store where operators and
// tests read them); a real gateway implements this interface.
type SMSProvider interface {
	// Send delivers text to the phone (account id form, digits).
	Send(ctx context.Context, phone, text string) error
	// Development reports whether codes may be read back by operators.
	Development() bool
}

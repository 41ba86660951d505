package parley

import (
	"strconv"
	"strings"
	"time"
)

// Account is a person (or, later, a business number) registered by phone.
// Its ID is the phone number in E.164 digits without the plus sign, the
// same form WhatsApp uses for wa_id.
type Account struct {
	ID        string
	Name      string
	Presence  string // PresenceEveryone or PresenceNobody
	CreatedAt time.Time
}

// Presence visibility settings. Like WhatsApp, visibility is reciprocal:
// an account that hides its own last-seen cannot see anybody else's.
const (
	PresenceEveryone = "everyone"
	PresenceNobody   = "nobody"
)

// Validate checks the fields a client can set.
func (a *Account) Validate() error {
	if _, err := ParsePhone("+" + a.ID); err != nil {
		return err
	}
	if len(a.Name) > 64 {
		return Errorf(EINVALID, "name is longer than 64 bytes")
	}
	switch a.Presence {
	case PresenceEveryone, PresenceNobody:
	default:
		return Errorf(EINVALID, "presence must be %q or %q", PresenceEveryone, PresenceNobody)
	}
	return nil
}

// Device is one of an account's linked devices (phone, web, desktop, CLI).
// Device IDs are small integers per account and never reused, so that a
// revoked device's address cannot be taken over by a new one.
type Device struct {
	Account    string
	ID         uint32
	Name       string
	Platform   string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // the credential's expiry; renewed on use
	RevokedAt  time.Time // zero while active
	TokenHash  []byte    // SHA-256 of the device secret; never the secret
	// HasKeys says whether the device has published its keys (the key
	// directory); set by AccountStore.Devices only. Senders encrypt only
	// to devices with keys, so the server requires copies only for them.
	HasKeys bool
}

// Active reports whether the device may still authenticate at t.
func (d *Device) Active(t time.Time) bool {
	return d.RevokedAt.IsZero() && (d.ExpiresAt.IsZero() || t.Before(d.ExpiresAt))
}

// Address is the routing address of one device: "<account>.<device>".
func (d *Device) Address() string { return DeviceAddress(d.Account, d.ID) }

// DeviceAddress formats an account and device id as "<account>.<device>".
func DeviceAddress(account string, device uint32) string {
	return account + "." + strconv.FormatUint(uint64(device), 10)
}

// Validate checks the client-supplied fields of a new device.
func (d *Device) Validate() error {
	if len(d.Name) > 64 {
		return Errorf(EINVALID, "device name is longer than 64 bytes")
	}
	if len(d.Platform) > 32 {
		return Errorf(EINVALID, "platform is longer than 32 bytes")
	}
	return nil
}

// ParsePhone accepts an E.164 number with a leading plus and optional
// spaces, dashes, dots and parentheses ("+49 (30) 1234-567") and returns
// its digits ("49301234567"). Numbers have 8 to 15 digits and never start
// with 0.
func ParsePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "+") {
		return "", Errorf(EINVALID, "phone number must be in international format starting with +")
	}
	s = s[1:]
	digits := s
	// Digits alone, the common case, are returned as they are; a number
	// with separators is copied without them.
	if !AllDigits(s) {
		b := make([]byte, 0, len(s))
		for _, r := range s {
			switch {
			case r >= '0' && r <= '9':
				b = append(b, byte(r))
			case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
			default:
				return "", Errorf(EINVALID, "phone number contains %q", r)
			}
		}
		digits = string(b)
	}
	if len(digits) < 8 || len(digits) > 15 {
		return "", Errorf(EINVALID, "phone number must have 8 to 15 digits")
	}
	if digits[0] == '0' {
		return "", Errorf(EINVALID, "phone number must not start with 0 after the +")
	}
	return digits, nil
}

// AllDigits reports whether s is one or more ASCII digits, the form of
// account ids and of the Cloud API's Graph ids.
func AllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// ValidAccountID reports whether id is a phone number in digits, the
// form of Account.ID: 8 to 15 ASCII digits, the first not 0 (what
// ParsePhone returns). It is checked on every message, so it allocates
// nothing.
func ValidAccountID(id string) bool {
	return len(id) >= 8 && len(id) <= 15 && id[0] != '0' && AllDigits(id)
}

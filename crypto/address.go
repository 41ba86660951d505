package crypto

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.mau.fi/libsignal/protocol"
)

// Address names one device of one account: the unit a Signal session is
// kept with. Its String form, "<account>.<device>", is the key of every
// per-peer map in the stored state.
type Address struct {
	Account string
	Device  uint32
}

// String returns "<account>.<device>", the protocol's device address.
func (a Address) String() string {
	return a.Account + "." + strconv.FormatUint(uint64(a.Device), 10)
}

// Validate reports whether a can be used as a peer: a non-empty account
// of at most 64 bytes without dots or control characters, and a device
// number of at least 1.
func (a Address) Validate() error {
	if a.Account == "" || len(a.Account) > 64 || !utf8.ValidString(a.Account) ||
		strings.IndexFunc(a.Account, func(r rune) bool { return r == '.' || unicode.IsControl(r) }) >= 0 {
		return fmt.Errorf("%w: bad account in device address", ErrMalformed)
	}
	if a.Device == 0 {
		return fmt.Errorf("%w: device 0 in device address", ErrMalformed)
	}
	return nil
}

// ParseAddress parses the String form of an Address.
func ParseAddress(s string) (Address, error) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return Address{}, fmt.Errorf("%w: device address without a dot", ErrMalformed)
	}
	dev, err := strconv.ParseUint(s[i+1:], 10, 32)
	if err != nil {
		return Address{}, fmt.Errorf("%w: bad device number in device address", ErrMalformed)
	}
	a := Address{Account: s[:i], Device: uint32(dev)}
	if err := a.Validate(); err != nil {
		return Address{}, err
	}
	return a, nil
}

func (a Address) signal() *protocol.SignalAddress {
	return protocol.NewSignalAddress(a.Account, a.Device)
}

// key returns the map key for a libsignal address. Maps are never keyed by
// *protocol.SignalAddress: libsignal makes a new pointer per call.
func key(sa *protocol.SignalAddress) string {
	return Address{Account: sa.Name(), Device: sa.DeviceID()}.String()
}

package gateway

import (
	"encoding/base64"
	"encoding/json"
	"math"
)

// decodeFrame decodes a client frame into f (a zero inFrame) exactly as
// json.Unmarshal does. Every message costs its sender a send frame and
// its two acks, and encoding/json's reflection was about 5 % of the
// server's CPU at saturation, so the frames clients usually send are
// decoded by hand: an object whose keys are inFrame's own names, each
// once, with plain values (strings without escapes or bytes outside
// printable ASCII, unsigned integers without sign, fraction or exponent,
// no null). Anything else — escapes, other keys, other spellings of a
// key, malformed input — goes to json.Unmarshal, which then decides. A
// fuzz test checks that what the fast path accepts, json.Unmarshal
// decodes to the same frame.
func decodeFrame(data []byte, f *inFrame) error {
	if fastDecodeFrame(data, f) {
		return nil
	}
	*f = inFrame{}
	return json.Unmarshal(data, f)
}

// fastDecodeFrame reports false for input it leaves to json.Unmarshal;
// f may then hold part of the frame.
func fastDecodeFrame(data []byte, f *inFrame) bool {
	d := decoder{b: data}
	var seen uint32
	ok := d.object(func(key []byte) bool {
		bit, ok := frameKeys[string(key)]
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		switch bit {
		case kType:
			f.Type, ok = d.str()
		case kID:
			f.ID, ok = d.str()
		case kToken:
			f.Token, ok = d.str()
		case kTo:
			f.To, ok = d.str()
		case kCopies:
			f.Copies, ok = d.copies()
		case kSeqs:
			f.Seqs, ok = d.uints()
		case kIDs:
			f.IDs, ok = d.strs()
		case kState:
			f.State, ok = d.str()
		case kAccounts:
			f.Accounts, ok = d.strs()
		case kDevice:
			f.Device, ok = d.uint32()
		case kMessage:
			f.Message, ok = d.str()
		case kClientID:
			f.ClientID, ok = d.str()
		case kGroup:
			f.Group, ok = d.str()
		case kBody:
			f.Body, ok = d.base64()
		case kMedia:
			f.Media, ok = d.strs()
		case kExpiresIn:
			var n uint64
			n, ok = d.uint(math.MaxInt64)
			f.ExpiresIn = int64(n)
		}
		return ok
	})
	return ok && d.end()
}

const (
	kType uint32 = 1 << iota
	kID
	kToken
	kTo
	kCopies
	kSeqs
	kIDs
	kState
	kAccounts
	kDevice
	kMessage
	kClientID
	kGroup
	kBody
	kMedia
	kExpiresIn
)

// frameKeys are inFrame's JSON names (its struct tags).
var frameKeys = map[string]uint32{
	"type": kType, "id": kID, "token": kToken, "to": kTo, "copies": kCopies, "seqs": kSeqs,
	"message_ids": kIDs, "state": kState, "accounts": kAccounts, "device": kDevice,
	"message_id": kMessage, "client_id": kClientID, "group": kGroup, "body": kBody,
	"media": kMedia, "expires_in": kExpiresIn,
}

// decoder reads the subset of JSON that fastDecodeFrame takes.
type decoder struct {
	b []byte
	i int
}

func (d *decoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// next skips white space and consumes c if it comes next.
func (d *decoder) next(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (d *decoder) end() bool {
	d.space()
	return d.i == len(d.b)
}

// object reads an object, calling value for each key with the decoder
// at its value.
func (d *decoder) object(value func(key []byte) bool) bool {
	if !d.next('{') {
		return false
	}
	if d.next('}') {
		return true
	}
	for {
		key, ok := d.raw()
		if !ok || !d.next(':') || !value(key) {
			return false
		}
		if d.next('}') {
			return true
		}
		if !d.next(',') {
			return false
		}
	}
}

// array reads an array, calling elem for each element.
func (d *decoder) array(elem func() bool) bool {
	if !d.next('[') {
		return false
	}
	if d.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.next(']') {
			return true
		}
		if !d.next(',') {
			return false
		}
	}
}

// raw reads a string of printable ASCII without escapes and returns its
// bytes, which alias the input.
func (d *decoder) raw() ([]byte, bool) {
	if !d.next('"') {
		return nil, false
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return d.b[start : d.i-1], true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, false
		}
		d.i++
	}
	return nil, false
}

func (d *decoder) str() (string, bool) {
	b, ok := d.raw()
	return string(b), ok
}

func (d *decoder) strs() ([]string, bool) {
	out := []string{}
	ok := d.array(func() bool {
		s, ok := d.str()
		out = append(out, s)
		return ok
	})
	return out, ok
}

// uint reads an unsigned integer of at most max, in JSON's form (no
// leading zeros).
func (d *decoder) uint(max uint64) (uint64, bool) {
	d.space()
	start := d.i
	var n uint64
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		v := uint64(d.b[d.i] - '0')
		if n > (max-v)/10 {
			return 0, false
		}
		n = n*10 + v
		d.i++
	}
	if d.i == start || (d.b[start] == '0' && d.i-start > 1) {
		return 0, false
	}
	// A fraction or exponent would follow; such numbers are json's to judge.
	if d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		return 0, false
	}
	return n, true
}

func (d *decoder) uint32() (uint32, bool) {
	n, ok := d.uint(math.MaxUint32)
	return uint32(n), ok
}

func (d *decoder) uints() ([]uint64, bool) {
	out := []uint64{}
	ok := d.array(func() bool {
		n, ok := d.uint(math.MaxUint64)
		out = append(out, n)
		return ok
	})
	return out, ok
}

// base64 reads a []byte as encoding/json does: standard base64 in a
// string.
func (d *decoder) base64() ([]byte, bool) {
	s, ok := d.raw()
	if !ok {
		return nil, false
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(b, s)
	return b[:n], err == nil
}

func (d *decoder) copies() ([]wireCopy, bool) {
	out := []wireCopy{}
	ok := d.array(func() bool {
		var c wireCopy
		var seen uint8
		ok := d.object(func(key []byte) bool {
			var bit uint8
			switch string(key) {
			case "account":
				bit = 1
			case "device":
				bit = 2
			case "body":
				bit = 4
			}
			if bit == 0 || seen&bit != 0 {
				return false
			}
			seen |= bit
			var ok bool
			switch bit {
			case 1:
				c.Account, ok = d.str()
			case 2:
				c.Device, ok = d.uint32()
			case 4:
				c.Body, ok = d.base64()
			}
			return ok
		})
		out = append(out, c)
		return ok
	})
	return out, ok
}

// Package jsonscan reads the small subset of JSON that the protocol's
// frames use in their usual shapes, without reflection: objects, arrays,
// strings of printable ASCII without escapes, unsigned integers in JSON's
// form, booleans and base64 strings. Anything outside that subset makes a
// method report false, and the caller hands the whole input to
// encoding/json instead, which then decides; so a caller decodes exactly
// what json.Unmarshal would, faster where it can (the gateway's client
// frames, the SDK's server frames; both fuzz-test that equivalence).
package jsonscan

import (
	"encoding/base64"
	"math"
)

// Decoder reads a JSON text from its start.
type Decoder struct {
	b []byte
	i int
}

// New returns a decoder at the start of b.
func New(b []byte) Decoder { return Decoder{b: b} }

func (d *Decoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// Next skips white space and consumes c if it comes next.
func (d *Decoder) Next(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// End reports whether only white space is left.
func (d *Decoder) End() bool {
	d.space()
	return d.i == len(d.b)
}

// Object reads an object, calling value for each key with the decoder
// at its value.
func (d *Decoder) Object(value func(key []byte) bool) bool {
	if !d.Next('{') {
		return false
	}
	if d.Next('}') {
		return true
	}
	for {
		key, ok := d.Raw()
		if !ok || !d.Next(':') || !value(key) {
			return false
		}
		if d.Next('}') {
			return true
		}
		if !d.Next(',') {
			return false
		}
	}
}

// Array reads an array, calling elem for each element.
func (d *Decoder) Array(elem func() bool) bool {
	if !d.Next('[') {
		return false
	}
	if d.Next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.Next(']') {
			return true
		}
		if !d.Next(',') {
			return false
		}
	}
}

// Raw reads a string of printable ASCII without escapes and returns its
// bytes, which alias the input.
func (d *Decoder) Raw() ([]byte, bool) {
	if !d.Next('"') {
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

// Str reads a string (a copy).
func (d *Decoder) Str() (string, bool) {
	b, ok := d.Raw()
	return string(b), ok
}

// Strs reads an array of strings; an empty array is an empty, non-nil
// slice, as json.Unmarshal makes it.
func (d *Decoder) Strs() ([]string, bool) {
	out := []string{}
	ok := d.Array(func() bool {
		s, ok := d.Str()
		out = append(out, s)
		return ok
	})
	return out, ok
}

// Uint reads an unsigned integer of at most max, in JSON's form (no
// sign, no leading zeros, no fraction or exponent).
func (d *Decoder) Uint(max uint64) (uint64, bool) {
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

// Uint32 reads an unsigned integer that fits 32 bits.
func (d *Decoder) Uint32() (uint32, bool) {
	n, ok := d.Uint(math.MaxUint32)
	return uint32(n), ok
}

// Int64 reads a non-negative integer that fits an int64 (negative ones
// are json's to judge).
func (d *Decoder) Int64() (int64, bool) {
	n, ok := d.Uint(math.MaxInt64)
	return int64(n), ok
}

// Uints reads an array of unsigned integers.
func (d *Decoder) Uints() ([]uint64, bool) {
	out := []uint64{}
	ok := d.Array(func() bool {
		n, ok := d.Uint(math.MaxUint64)
		out = append(out, n)
		return ok
	})
	return out, ok
}

// Bool reads true or false.
func (d *Decoder) Bool() (bool, bool) {
	d.space()
	rest := d.b[d.i:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		d.i += 4
		return true, d.delimited()
	case len(rest) >= 5 && string(rest[:5]) == "false":
		d.i += 5
		return false, d.delimited()
	}
	return false, false
}

// delimited reports whether what follows a literal ends it (a later
// letter, as in "trueish", is json's to reject).
func (d *Decoder) delimited() bool {
	if d.i == len(d.b) {
		return true
	}
	switch d.b[d.i] {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// Base64 reads a []byte as encoding/json does: standard base64 in a
// string.
func (d *Decoder) Base64() ([]byte, bool) {
	s, ok := d.Raw()
	if !ok {
		return nil, false
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(b, s)
	return b[:n], err == nil
}

package webhook

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// AppendASCII appends JSON text src to dst with every non-ASCII character
// written as a lowercase \uXXXX escape, characters above U+FFFF as UTF-16
// surrogate pairs, and invalid UTF-8 as \ufffd (what decoders read it
// as). ASCII bytes are copied unchanged: in valid JSON non-ASCII can only
// occur inside strings, where an escape means the same character.
func AppendASCII(dst, src []byte) []byte {
	i := 0
	for i < len(src) {
		start := i
		for i < len(src) && src[i] < utf8.RuneSelf {
			i++
		}
		dst = append(dst, src[start:i]...)
		if i == len(src) {
			break
		}
		r, n := utf8.DecodeRune(src[i:])
		i += n
		if r >= 0x10000 {
			r -= 0x10000
			dst = appendU(dst, 0xd800+(r>>10))
			dst = appendU(dst, 0xdc00+(r&0x3ff))
			continue
		}
		dst = appendU(dst, r) // RuneError (U+FFFD) for invalid bytes
	}
	return dst
}

func appendU(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// IsASCII reports whether b holds only ASCII bytes.
func IsASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Marshal encodes v as compact ASCII-only JSON: encoding/json's output
// without HTML escaping (Meta does not escape <, > and &), then
// AppendASCII. It is the encoding of every payload this package builds.
func Marshal(v any) ([]byte, error) {
	b, err := encodeNoHTML(v)
	if err != nil {
		return nil, err
	}
	if IsASCII(b) {
		return b, nil
	}
	return AppendASCII(make([]byte, 0, len(b)+len(b)/4), b), nil
}

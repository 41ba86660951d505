package parley

import (
	"strings"
)

// NormalizeRecipient turns the "to" of a Cloud API send into a wa_id (E.164
// digits). It accepts "+", spaces, dashes, dots and parentheses. With a
// leading "+" the number is international. Without one, the digits are
// first taken as a full international number (the form of wa_id and of
// webhook "from", which integrations echo back); only when that is not a
// plausible number (no known country code, a national number of the wrong
// length for it) is the country code of the business number (from)
// prepended, after dropping a national trunk "0". Numbers starting with
// "00" are refused, as Meta does.
func NormalizeRecipient(to, from string) (string, error) {
	s := strings.TrimSpace(to)
	plus := strings.HasPrefix(s, "+")
	if plus {
		s = s[1:]
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", Errorf(EINVALID, "to must be a phone number; it contains %q", r)
		}
	}
	d := b.String()
	if d == "" {
		return "", Errorf(EINVALID, "to must be a phone number")
	}
	if plus {
		if !ValidAccountID(d) {
			return "", Errorf(EINVALID, "to is not a valid international phone number")
		}
		return d, nil
	}
	if strings.HasPrefix(d, "00") {
		return "", Errorf(EINVALID, "to must not start with 00; use the international format")
	}
	if d[0] != '0' && PlausibleNumber(d) {
		return d, nil
	}
	cc := CountryCode(from)
	if cc == "" {
		return "", Errorf(EINVALID, "to is not a valid international phone number")
	}
	national := strings.TrimPrefix(d, "0")
	if n := cc + national; ValidAccountID(n) && PlausibleNumber(n) {
		return n, nil
	}
	return "", Errorf(EINVALID, "to is not a valid phone number")
}

// PlausibleNumber reports whether the E.164 digits d start with a known
// country calling code followed by a national number of a length used in
// that country (or, for codes without a rule here, of 4 to 13 digits).
// It is a plausibility check, not a numbering-plan database.
func PlausibleNumber(d string) bool {
	if !ValidAccountID(d) {
		return false
	}
	cc := CountryCode(d)
	if cc == "" {
		return false
	}
	nat := d[len(cc):]
	if nat == "" || nat[0] == '0' && cc != "39" { // Italy keeps its leading 0
		return false
	}
	lo, hi := 4, 13
	if r, ok := nationalLengths[cc]; ok {
		lo, hi = r[0], r[1]
	}
	return len(nat) >= lo && len(nat) <= hi
}

// CountryCode returns the country calling code d (E.164 digits) starts
// with, or "" when none is known.
func CountryCode(d string) string {
	for n := 1; n <= 3 && n <= len(d); n++ {
		if countryCodes[d[:n]] {
			return d[:n]
		}
	}
	return ""
}

// countryCodes are the assigned country calling codes (ITU-T E.164).
var countryCodes = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(`1 7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58
		60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98
		211 212 213 216 218 220 221 222 223 224 225 226 227 228 229 230 231 232 233 234 235 236 237 238 239
		240 241 242 243 244 245 246 247 248 249 250 251 252 253 254 255 256 257 258 260 261 262 263 264 265
		266 267 268 269 290 291 297 298 299 350 351 352 353 354 355 356 357 358 359 370 371 372 373 374 375
		376 377 378 379 380 381 382 383 385 386 387 389 420 421 423 500 501 502 503 504 505 506 507 508 509
		590 591 592 593 594 595 596 597 598 599 670 672 673 674 675 676 677 678 679 680 681 682 683 685 686
		687 688 689 690 691 692 800 850 852 853 855 856 870 880 881 882 883 886 888 960 961 962 963 964 965
		966 967 968 970 971 972 973 974 975 976 977 979 992 993 994 995 996 998`) {
		m[c] = true
	}
	return m
}()

// nationalLengths bounds the national significant number for the
// countries where that is well known; others allow 4 to 13 digits.
var nationalLengths = map[string][2]int{
	"1": {10, 10}, "7": {10, 10}, "20": {8, 10}, "27": {9, 9}, "30": {10, 10}, "31": {9, 9}, "32": {8, 9},
	"33": {9, 9}, "34": {9, 9}, "36": {8, 9}, "39": {6, 11}, "40": {9, 9}, "41": {9, 9}, "43": {4, 13},
	"44": {9, 10}, "45": {8, 8}, "46": {7, 9}, "47": {8, 8}, "48": {9, 9}, "49": {6, 13}, "51": {8, 9},
	"52": {10, 10}, "54": {10, 11}, "55": {10, 11}, "56": {9, 9}, "57": {10, 10}, "60": {8, 10},
	"61": {9, 9}, "62": {8, 12}, "63": {8, 10}, "64": {8, 10}, "65": {8, 8}, "66": {8, 9}, "81": {9, 10},
	"82": {8, 10}, "84": {9, 10}, "86": {10, 11}, "90": {10, 10}, "91": {10, 10}, "92": {9, 10},
	"234": {8, 10}, "254": {9, 9}, "351": {9, 9}, "353": {7, 9}, "358": {6, 11}, "380": {9, 9},
	"852": {8, 8}, "886": {8, 9}, "971": {8, 9}, "972": {8, 9}, "966": {9, 9},
	"93": {9, 9}, "94": {9, 9}, "95": {7, 10}, "98": {10, 10}, "53": {8, 8}, "58": {10, 10},
	"211": {9, 9}, "212": {9, 9}, "213": {9, 9}, "216": {8, 8}, "218": {9, 9}, "221": {9, 9}, "225": {10, 10},
	"233": {9, 9}, "237": {9, 9}, "243": {9, 9}, "244": {9, 9}, "249": {9, 9}, "250": {9, 9}, "251": {9, 9},
	"255": {9, 9}, "256": {9, 9}, "260": {9, 9}, "263": {9, 9}, "359": {8, 9}, "370": {8, 8}, "371": {8, 8},
	"372": {7, 8}, "374": {8, 8}, "375": {9, 9}, "381": {8, 9}, "385": {8, 9}, "386": {8, 8}, "420": {9, 9},
	"421": {9, 9}, "502": {8, 8}, "503": {8, 8}, "504": {8, 8}, "505": {8, 8}, "506": {8, 8}, "507": {7, 8},
	"591": {8, 8}, "593": {8, 9}, "595": {9, 9}, "598": {8, 8}, "853": {8, 8}, "855": {8, 9}, "856": {8, 10},
	"880": {10, 10}, "961": {7, 8}, "962": {8, 9}, "963": {9, 9}, "964": {10, 10}, "965": {8, 8}, "968": {8, 8},
	"973": {8, 8}, "974": {8, 8}, "976": {8, 8}, "977": {8, 10}, "992": {9, 9}, "993": {8, 8}, "994": {9, 9},
	"995": {9, 9}, "996": {9, 9}, "998": {9, 9},
}

package webhook_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/parley-chat/parley/webhook"
)

func TestMarshalASCII(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"plain <b> & co", `{"s":"plain <b> & co"}`},
		{"äöå", `{"s":"\u00e4\u00f6\u00e5"}`},
		{"José 😀", `{"s":"Jos\u00e9 \ud83d\ude00"}`},
		{"👍", `{"s":"\ud83d\udc4d"}`},
		{"\u2028\u2029", `{"s":"\u2028\u2029"}`},
		{"tab\t\"q\" \\ \x01", `{"s":"tab\t\"q\" \\ \u0001"}`},
		{"\xff bad", `{"s":"\ufffd bad"}`},
		{"ᐅ€", `{"s":"\u1405\u20ac"}`},
	}
	for _, tt := range tests {
		got, err := webhook.Marshal(map[string]string{"s": tt.in})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("Marshal(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// The test vector of whatsapp-api-js (Meta's rule: sign the escaped
// form, lowercase hex): the escaped bytes give the documented signature.
func TestSignatureVector(t *testing.T) {
	raw := "Let's pretend this body is equal to the message object and can handle unicode characters like みどりいろ and J'ai mangé des pâtes"
	got := webhook.Sign([]byte("YOUR_APP_SECRET"), webhook.AppendASCII(nil, []byte(raw)))
	if want := "sha256=0363007aabdf1ab579f35936651a460fb5fa1aaf40df98b1264446b72cc96688"; got != want {
		t.Errorf("Sign(escaped) = %s, want %s", got, want)
	}
	if !webhook.Verify([]byte("YOUR_APP_SECRET"), webhook.AppendASCII(nil, []byte(raw)), got) {
		t.Error("Verify rejects its own signature")
	}
	if webhook.Verify([]byte("wrong"), []byte(raw), got) || webhook.Verify([]byte("YOUR_APP_SECRET"), []byte(raw), "md5=x") {
		t.Error("Verify accepts a wrong secret or scheme")
	}
}

// upperEscape reports whether JSON text b has a \u escape with an
// uppercase hex digit.
func upperEscape(b []byte) bool {
	for i := 0; i < len(b)-1; i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) && bytes.ContainsAny(b[i+2:i+6], "ABCDEF") {
			return true
		}
		i++ // skip the escaped character
	}
	return false
}

// FuzzMarshal: for any string, Marshal's output is ASCII, has only
// lowercase escapes, and decodes to what encoding/json's output decodes to.
func FuzzMarshal(f *testing.F) {
	for _, s := range []string{"", "hello", "äöå", "😀👍🏽", "\u2028", "\x00\x1f\x7f", "\xff\xfe", "<>&", `"\`, "\U0010ffff", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := map[string]any{"s": s, "list": []string{s, s + "x"}, s: 1}
		ours, err := webhook.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		std, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !webhook.IsASCII(ours) {
			t.Fatalf("output is not ASCII: %q", ours)
		}
		if upperEscape(ours) {
			t.Fatalf("output has an uppercase escape: %s", ours)
		}
		var a, b any
		if err := json.Unmarshal(ours, &a); err != nil {
			t.Fatalf("output does not decode: %v: %s", err, ours)
		}
		json.Unmarshal(std, &b)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("decodes to %#v, encoding/json's to %#v", a, b)
		}
	})
}

// FuzzAppendASCII: escaping any valid JSON text keeps it valid and
// decoding to the same value.
func FuzzAppendASCII(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"ü"}`, `["😀",1,null]`, "\"\xff\"", `{"k":"\u00e9"}`, `"\ud83d\ude00"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var want any
		if json.Unmarshal(in, &want) != nil {
			return
		}
		out := webhook.AppendASCII(nil, in)
		if !webhook.IsASCII(out) {
			t.Fatalf("not ASCII: %q", out)
		}
		var got any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("escaped %q to invalid JSON %q: %v", in, out, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("escaped %q to %q, which decodes to %#v, not %#v", in, out, got, want)
		}
	})
}

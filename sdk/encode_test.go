package sdk

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// checkEncode fails unless appendFrame writes what json.Marshal writes.
func checkEncode(t *testing.T, f *Frame) {
	t.Helper()
	want, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	prefix := []byte("xyz")
	got, err := appendFrame(prefix, f)
	if err != nil {
		t.Fatalf("appendFrame(%#v): %v", f, err)
	}
	if !bytes.Equal(got[:3], prefix) || !bytes.Equal(got[3:], want) {
		t.Fatalf("appendFrame(%#v) =\n%s\njson.Marshal:\n%s", f, got, want)
	}
}

// Strings that need escaping, the way encoding/json escapes them.
var encodeStrings = []string{
	"", "a", "4915112345678", `"`, `\`, "\n\r\t\b\f", "\x00\x01\x1f\x7f", "<a href=\"x\">&amp;</a>",
	"é ü €", "😀", "\u2028\u2029", "\xff", "a\xffb", "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	"ends in \xc3", "日本語", "\ufffd", "keepalive-1",
}

func TestAppendFrame(t *testing.T) {
	frames := []*Frame{
		{},
		{Type: "auth", Token: "tok"},
		{Type: "ping", ID: "keepalive-1"},
		{Type: "ack", Seqs: []uint64{1, 2, math.MaxUint64}},
		{Type: "ack", Seqs: []uint64{}},
		{Type: "send", ID: "c-1", To: "4915112345678", Copies: []Copy{{Account: "4915112345678", Device: 1, Body: []byte("ciphertext")},
			{Account: "4915187654321", Device: math.MaxUint32}, {Body: []byte{}}}, Media: []string{"m1", "m2"}, ExpiresIn: 3600},
		{Type: "send", Group: "g", Body: []byte{0, 0xff, 0xfe}, Copies: []Copy{}},
		{Type: "read", To: "a", MessageIDs: []string{"x", ""}, Media: []string{}},
		{Type: "presence", Accounts: []string{"a", "b"}, Online: true, Hidden: true, LastSeen: -1},
		{Type: "error", Code: "stale_devices", Message: "m", Devices: map[string][]uint32{"a": {1, 2}, "b": nil}},
		{Type: "error", Devices: map[string][]uint32{}},
		{Type: "ready", Version: -5, ServerTime: math.MinInt64, Timestamp: math.MaxInt64},
		{Type: "item", ID: "i", Token: "t", Version: 1, Node: "n", ServerTime: 2, To: "a", Group: "g", Media: []string{"m"},
			ExpiresIn: 3, MessageID: "m", MessageIDs: []string{"m", "n"}, Timestamp: 4, Duplicate: true, Seq: 5, Kind: "msg",
			ClientID: "c", From: "f", FromDevice: 6, Body: []byte{0, 1, 2}, Seqs: []uint64{7}, State: "paused", Account: "a",
			Device: 8, Accounts: []string{"a"}, Online: true, LastSeen: 9, Hidden: true, Code: "c", Message: "m"},
	}
	for _, s := range encodeStrings {
		frames = append(frames, &Frame{Type: s, ID: s, To: s, Copies: []Copy{{Account: s}}, Media: []string{s, s}, Message: s})
	}
	for _, f := range frames {
		checkEncode(t, f)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		checkEncode(t, randomFrame(r))
	}
}

// randomFrame fills a random subset of a frame's fields with random
// values, strings mostly from encodeStrings and random bytes.
func randomFrame(r *rand.Rand) *Frame {
	str := func() string {
		if r.IntN(3) == 0 {
			b := make([]byte, r.IntN(12))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			return string(b)
		}
		return encodeStrings[r.IntN(len(encodeStrings))]
	}
	some := func() bool { return r.IntN(2) == 0 }
	bytesOf := func() []byte {
		if some() {
			return nil
		}
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	strs := func() []string {
		if some() {
			return nil
		}
		ss := make([]string, r.IntN(4))
		for i := range ss {
			ss[i] = str()
		}
		return ss
	}
	i64 := func() int64 {
		if some() {
			return 0
		}
		return int64(r.Uint64())
	}
	var f Frame
	if some() {
		f.Type = str()
	}
	if some() {
		f.ID = str()
	}
	if some() {
		f.To = str()
	}
	if some() {
		f.Copies = make([]Copy, r.IntN(4))
		for i := range f.Copies {
			f.Copies[i] = Copy{Account: str(), Device: r.Uint32(), Body: bytesOf()}
		}
	}
	f.Token, f.Node, f.Group, f.Kind, f.ClientID, f.From = str(), str(), str(), str(), str(), str()
	f.State, f.Account, f.Code, f.Message, f.MessageID = str(), str(), str(), str(), str()
	f.Version = int(int32(i64()))
	f.ServerTime, f.ExpiresIn, f.Timestamp, f.LastSeen = i64(), i64(), i64(), i64()
	f.Seq, f.FromDevice, f.Device = uint64(i64()), uint32(i64()), uint32(i64())
	f.Duplicate, f.Online, f.Hidden = some(), some(), some()
	f.Media, f.MessageIDs, f.Accounts = strs(), strs(), strs()
	f.Body = bytesOf()
	if some() {
		f.Seqs = make([]uint64, r.IntN(5))
		for i := range f.Seqs {
			f.Seqs[i] = r.Uint64() >> r.IntN(64)
		}
	}
	return &f
}

// Random field values: appendFrame writes what json.Marshal writes, and
// both decode to the same frame.
func FuzzAppendFrame(f *testing.F) {
	f.Add("send", "c-1", "4915112345678", []byte("body"), uint32(1), uint64(7), int64(3600), true)
	f.Add("ack", "", "", []byte(nil), uint32(0), uint64(math.MaxUint64), int64(-1), false)
	f.Add("<\u2028>", "\xff\"\\", "\x00\n", []byte{0xff}, uint32(math.MaxUint32), uint64(0), int64(math.MinInt64), true)
	f.Fuzz(func(t *testing.T, typ, id, s string, body []byte, dev uint32, seq uint64, n int64, flag bool) {
		fr := &Frame{Type: typ, ID: id, To: s, Group: s, Copies: []Copy{{Account: s, Device: dev, Body: body}, {Account: id}},
			Media: []string{s, typ}, ExpiresIn: n, Timestamp: -n, Duplicate: flag, Seq: seq, Body: body, Seqs: []uint64{seq, uint64(n)},
			FromDevice: dev, Account: id, Online: !flag, Message: s + typ, Version: int(int32(n))}
		checkEncode(t, fr)
		got, _ := appendFrame(nil, fr)
		var a, b Frame
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("appendFrame wrote %q, which does not decode: %v", got, err)
		}
		want, _ := json.Marshal(fr)
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("decoded frames differ:\n%#v\n%#v", a, b)
		}
	})
}

func BenchmarkAppendFrame(b *testing.B) {
	f := &Frame{Type: "send", ID: "b12345", To: "4915187654321",
		Copies: []Copy{{Account: "4915187654321", Device: 1, Body: make([]byte, 100)}}}
	b.Run("append", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = appendFrame(buf[:0], f)
		}
	})
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(f)
		}
	})
}

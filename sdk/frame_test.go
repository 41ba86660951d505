package sdk

import (
	"encoding/json"
	"reflect"
	"testing"
)

var serverFrameSeeds = []string{
	`{"type":"item","seq":42,"kind":"msg","message_id":"0194f2aa","client_id":"c-7f3a","from":"4915112345678","from_device":1,"to":"4915187654321","timestamp":1767225600123,"body":"Y2lwaGVydGV4dA==","expires_in":3600,"media":["m1"]}`,
	`{"type":"sent","id":"c-7f3a","message_id":"0194f2aa","timestamp":1767225600123}`,
	`{"type":"sent","id":"c-7f3a","message_id":"0194f2aa","timestamp":1767225600123,"duplicate":true}`,
	`{"type":"item","seq":43,"kind":"delivered","message_id":"0194f2aa","message_ids":["0194f2aa","0194f2ab"],"from":"4915187654321","from_device":2,"timestamp":1}`,
	`{"type":"ready","version":1,"node":"n1","server_time":1767225600123,"account":"4915112345678","device":3}`,
	`{"type":"presence","account":"4915112345678","online":false,"last_seen":1767225600123,"hidden":true}`,
	`{"type":"typing","from":"4915112345678","state":"composing","group":"g1"}`,
	`{"type":"error","id":"x","code":"rate_limited","message":"slow down"}`,
	`{"type":"ack","seqs":[42,43,18446744073709551615]}`,
	` { "type" : "pong" , "accounts" : [ ] } `,
	`{}`,
	// Left to json.Unmarshal:
	`{"type":"error","code":"stale_devices","devices":{"4915112345678":[1,2]}}`,
	`{"type":"send","copies":[{"account":"a","device":1}]}`,
	`{"type":"item","seq":1,"type":"ping"}`,
	`{"Type":"ping"}`,
	`{"type":"s\u0065nt"}`,
	`{"type":"item","seq":01}`,
	`{"type":"item","timestamp":-5}`,
	`{"type":"item","timestamp":1.5}`,
	`{"type":"sent","duplicate":truex}`,
	`{"type":"sent","duplicate":null}`,
	`{"type":"ready","version":2147483648}`,
	`{"type":"item","from_device":4294967296}`,
	`{"type":"item","body":"not base64!"}`,
	`{"type":"item","unknown":{"a":[1,2]}}`,
	`{"type":"pong"} x`,
	`[1]`,
	`{"type":"é"}`,
}

// What the fast path accepts, json.Unmarshal must decode to the same
// frame; what it declines, DecodeFrame must still decode as json does.
func FuzzFastDecodeFrame(f *testing.F) {
	for _, s := range serverFrameSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want Frame
		werr := json.Unmarshal(b, &want)
		var fast Frame
		if fastDecodeFrame(b, &fast) {
			if werr != nil {
				t.Fatalf("fast path accepted %q, json.Unmarshal: %v", b, werr)
			}
			if !reflect.DeepEqual(fast, want) {
				t.Fatalf("fast path decoded %q as\n%#v\njson.Unmarshal as\n%#v", b, fast, want)
			}
		}
		got, gerr := DecodeFrame(b)
		switch {
		case werr != nil:
			if gerr == nil {
				t.Fatalf("DecodeFrame(%q) = %#v; json.Unmarshal: %v", b, got, werr)
			}
		case want.Type == "":
			if gerr == nil {
				t.Fatalf("DecodeFrame(%q) = %#v, want an error for a frame without a type", b, got)
			}
		case gerr != nil || !reflect.DeepEqual(*got, want):
			t.Fatalf("DecodeFrame(%q) = %#v, %v; json.Unmarshal: %#v", b, got, gerr, want)
		}
	})
}

// The frames servers send in their usual shapes take the fast path,
// including every field json.Marshal writes for a full Frame but the
// ones left to encoding/json.
func TestDecodeFrameFastPath(t *testing.T) {
	seeds := serverFrameSeeds[:11:11]
	full := Frame{Type: "item", ID: "i", Token: "t", Version: 1, Node: "n", ServerTime: 2, To: "a", Group: "g", Media: []string{"m"},
		ExpiresIn: 3, MessageID: "m", MessageIDs: []string{"m", "n"}, Timestamp: 4, Duplicate: true, Seq: 5, Kind: "msg",
		ClientID: "c", From: "f", FromDevice: 6, Body: []byte{0, 1, 2}, Seqs: []uint64{7}, State: "paused", Account: "a",
		Device: 8, Accounts: []string{"a"}, Online: true, LastSeen: 9, Hidden: true, Code: "c", Message: "m"}
	b, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	seeds = append(seeds, string(b))
	for _, s := range seeds {
		var f Frame
		if !fastDecodeFrame([]byte(s), &f) {
			t.Errorf("fast path declined %s", s)
		}
	}
	var f Frame
	if fastDecodeFrame(b, &f); !reflect.DeepEqual(f, full) {
		t.Errorf("fast path decoded\n%#v\nwant\n%#v", f, full)
	}
	for _, s := range serverFrameSeeds[11:] {
		var f Frame
		if fastDecodeFrame([]byte(s), &f) {
			t.Errorf("fast path accepted %s", s)
		}
	}
}

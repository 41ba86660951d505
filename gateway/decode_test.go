package gateway

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/parley-chat/parley/sdk"
)

var frameSeeds = []string{
	`{"type":"send","id":"b17","to":"4916000000051","copies":[{"account":"4916000000051","device":1,"body":"AAAAAAAAAAE="}]}`,
	`{"type":"send","id":"c-7f3a","to":"4915187654321","copies":[{"account":"4915187654321","device":1,"body":"aGk="},{"account":"4915112345678","device":3}],"body":"eA==","media":["m1","m2"],"expires_in":3600}`,
	`{"type":"ack","seqs":[42,43,18446744073709551615]}`,
	` { "type" : "ack" , "seqs" : [ ] } `,
	`{"type":"auth","token":"tok"}`,
	`{"type":"read","id":"r1","to":"4915112345678","message_ids":["0194f2aa","0194f2ab"]}`,
	`{"type":"retry","id":"x1","to":"4915112345678","device":4294967295,"message_id":"m","client_id":"c"}`,
	`{"type":"resend","id":"s1","to":"49151","group":"g1","client_id":"c","copies":[]}`,
	`{"type":"presence","id":"p","accounts":["4915112345678"]}`,
	`{"type":"typing","to":"4915112345678","state":"composing"}`,
	`{}`,
	// Left to json.Unmarshal:
	`{"type":"ack","seqs":[1],"type":"ping"}`,
	`{"Type":"ping"}`,
	`{"type":"s\u0065nd"}`,
	`{"type":"ack","seqs":[01]}`,
	`{"type":"ack","seqs":[1.5]}`,
	`{"type":"ack","seqs":[-1]}`,
	`{"type":"ack","seqs":null}`,
	`{"type":"send","device":4294967296}`,
	`{"type":"send","expires_in":-5}`,
	`{"type":"send","body":"not base64!"}`,
	`{"type":"send","unknown":{"a":[1,2]}}`,
	`{"type":"ping"} x`,
	`[1]`,
	`{"type":"é"}`,
}

// What the fast path accepts, json.Unmarshal must decode to the same
// frame; what it declines, decodeFrame must still decode as json does.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range frameSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want inFrame
		werr := json.Unmarshal(b, &want)
		var fast inFrame
		if fastDecodeFrame(b, &fast) {
			if werr != nil {
				t.Fatalf("fast path accepted %q, json.Unmarshal: %v", b, werr)
			}
			if !reflect.DeepEqual(fast, want) {
				t.Fatalf("fast path decoded %q as\n%#v\njson.Unmarshal as\n%#v", b, fast, want)
			}
		}
		var got inFrame
		gerr := decodeFrame(b, &got)
		if (gerr == nil) != (werr == nil) || !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeFrame(%q) = %#v, %v; json.Unmarshal: %#v, %v", b, got, gerr, want, werr)
		}
	})
}

// The frames the SDK writes for sends and acks take the fast path.
func TestDecodeFrameFastPath(t *testing.T) {
	seeds := frameSeeds[:11:11]
	for _, f := range []sdk.Frame{
		{Type: "send", ID: "c-1", To: "4915187654321", Copies: []sdk.Copy{{Account: "4915187654321", Device: 1, Body: []byte("ciphertext")}}, ExpiresIn: 60},
		{Type: "ack", Seqs: []uint64{1, 2, 3}},
	} {
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, string(b))
	}
	for _, s := range seeds {
		var f inFrame
		if !fastDecodeFrame([]byte(s), &f) {
			t.Errorf("fast path declined %s", s)
		}
	}
	for _, s := range frameSeeds[11:] {
		var f inFrame
		if fastDecodeFrame([]byte(s), &f) {
			t.Errorf("fast path accepted %s", s)
		}
	}
}

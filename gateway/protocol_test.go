package gateway

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func TestBusEventRoundTrip(t *testing.T) {
	for _, ev := range []busEvent{
		{T: evItem, Dev: 3, Seq: 1<<40 + 7, Frame: []byte(`{"type":"item"}`)},
		{T: evKick, Dev: 1, Conn: 0xdeadbeefcafe},
		{T: evRevoked, Dev: 9},
		{T: evPresence},
	} {
		var got busEvent
		if err := got.unmarshal(ev.marshal()); err != nil {
			t.Fatalf("unmarshal(%+v): %v", ev, err)
		}
		if got.T != ev.T || got.Dev != ev.Dev || got.Seq != ev.Seq || got.Conn != ev.Conn || !bytes.Equal(got.Frame, ev.Frame) {
			t.Errorf("round trip: got %+v, want %+v", got, ev)
		}
	}
	for _, bad := range [][]byte{nil, {busEventVersion}, append([]byte{2, evItem}, make([]byte, 20)...), append([]byte{busEventVersion, 0}, make([]byte, 20)...), append([]byte{busEventVersion, 99}, make([]byte, 20)...)} {
		var ev busEvent
		if err := ev.unmarshal(bad); err == nil {
			t.Errorf("unmarshal(%x) accepted", bad)
		}
	}
}

// Bus events arrive from other nodes: decoding must never panic, and what
// decodes must encode back to the same bytes.
func FuzzBusEvent(f *testing.F) {
	f.Add((&busEvent{T: evItem, Dev: 1, Seq: 2, Frame: []byte("{}")}).marshal())
	f.Add((&busEvent{T: evKick, Conn: 5}).marshal())
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev busEvent
		if ev.unmarshal(b) != nil {
			return
		}
		if out := ev.marshal(); !bytes.Equal(out, b) {
			t.Fatalf("re-encoded %x as %x", b, out)
		}
	})
}

// encodeItem must produce exactly what encoding/json makes of itemFrame.
func FuzzEncodeItem(f *testing.F) {
	f.Add(uint64(1), "msg", "0194f2aa", "c-1", "4915100000001", uint32(1), "4915100000002", "", int64(1767225600123), []byte("hi"), int64(0))
	f.Add(uint64(0), "delivered", "x", "", "1", uint32(0), "", "", int64(-5), []byte(nil), int64(-1))
	f.Add(uint64(9), "read", "<&>\"\\\n\r\t\b\f\x01", "\xff\u2028\u2029é😀", "a", uint32(7), "b", "g<\u2028>", int64(0), []byte{0, 255}, int64(3600e9))
	f.Add(uint64(3), "group", "0194f2ab", "", "4915100000001", uint32(2), "", "gabcdefghijklmnopqrstuvwxyz", int64(1767225600124), []byte(`{"group":"g"}`), int64(0))
	f.Add(uint64(2), "msg", "m", "c", "a", uint32(1), "b", "", int64(1), []byte("x"), int64(1500e6))
	f.Fuzz(func(t *testing.T, seq uint64, kind, mid, cid, from string, fdev uint32, to, group string, ms int64, body []byte, expires int64) {
		it := &parley.Item{Seq: seq, Kind: parley.Kind(kind), MessageID: mid, ClientID: cid, From: from, FromDevice: fdev,
			To: to, Group: group, Timestamp: time.UnixMilli(ms), Body: body, ExpiresIn: time.Duration(expires)}
		want, err := json.Marshal(itemFrame{Type: "item", Seq: it.Seq, Kind: string(it.Kind), MessageID: it.MessageID, ClientID: it.ClientID,
			From: it.From, FromDevice: it.FromDevice, To: it.To, Group: it.Group, Timestamp: it.Timestamp.UnixMilli(), Body: it.Body,
			ExpiresIn: int64(it.ExpiresIn / time.Second)})
		if err != nil {
			t.Skip()
		}
		if got := encodeItem(it); !bytes.Equal(got, want) {
			t.Fatalf("encodeItem:\n got %s\nwant %s", got, want)
		}
		if plain := !bytes.Contains(want, []byte(`\`)); plain && len(want) > itemFrameCap(it) {
			t.Fatalf("itemFrameCap = %d for a frame of %d bytes without escapes", itemFrameCap(it), len(want))
		}
		// sentItem reads back what an ack tells the store, from every frame
		// whose strings need no escapes.
		got, ok := sentItem(want)
		if ok && (got.Seq != it.Seq || got.Kind != it.Kind || got.MessageID != it.MessageID || got.From != it.From ||
			got.FromDevice != it.FromDevice || got.Group != it.Group) {
			t.Fatalf("sentItem(%s) = %+v", want, got)
		}
		plain := func(ss ...string) bool {
			for _, s := range ss {
				for i := range len(s) {
					if c := s[i]; c < 0x20 || c >= 0x7f || strings.IndexByte(`"\<>&`, c) >= 0 {
						return false
					}
				}
			}
			return true
		}
		if !ok && seq != 0 && kind != "" && mid != "" && plain(kind, mid, cid, from, to, group) {
			t.Fatalf("sentItem could not read %s", want)
		}
		it.Account, it.Device = "4915100000009", fdev+1
		ev := busEvent{T: evItem, Dev: it.Device, Seq: it.Seq, Frame: want}
		if got, want := marshalItem(it), ev.marshal(); !bytes.Equal(got, want) {
			t.Fatalf("marshalItem:\n got %x\nwant %x", got, want)
		}
	})
}

func TestSentFrameEncodeMatchesJSON(t *testing.T) {
	tests := []sentFrame{
		{Type: "sent", ID: "c-1", MessageID: "0194f2ab", Timestamp: 1767225600123},
		{Type: "sent", ID: "dup", MessageID: "m", Timestamp: 1, Duplicate: true},
		{Type: "sent", ID: "quote\" back\\ <tag> & \u2028 \x01 ünï \xff", MessageID: "", Timestamp: -5},
		{Type: "sent"},
	}
	for _, f := range tests {
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.encode(); !bytes.Equal(got, want) {
			t.Errorf("encode(%+v) = %s, want %s", f, got, want)
		}
	}
}

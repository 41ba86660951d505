package gateway

import (
	"bytes"
	"testing"
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

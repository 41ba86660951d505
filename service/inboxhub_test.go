package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/atrest"
	"github.com/parley-chat/parley/bus"
	"github.com/parley-chat/parley/service"
)

// The inbox hub on a real (embedded) bus: events reach every stream of
// the business and none of another; they cross the bus sealed; a stream
// that does not read is dropped without holding up the others.
func TestInboxHub(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := bus.Open(ctx, bus.Options{Name: "hub-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	key, err := atrest.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	hub := service.NewInboxHub(b, key, nil)
	var raw [][]byte
	b.SetHandler(func(subject string, data []byte) {
		if service.IsInboxSubject(subject) {
			raw = append(raw, data) // only the shard goroutine appends; read after the events arrived
			hub.Dispatch(subject, data)
		}
	})
	go b.Run(ctx)

	s1, err := hub.Subscribe("111", "a1")
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := hub.Subscribe("111", "a2")
	other, _ := hub.Subscribe("222", "b1")
	defer other.Close()
	hub.Publish("111", &service.InboxEvent{Type: "message", Agent: "secret words"})
	for _, s := range []*service.InboxStream{s1, s2} {
		select {
		case ev := <-s.Events():
			var got service.InboxEvent
			if json.Unmarshal(ev, &got) != nil || got.Type != "message" || got.Agent != "secret words" {
				t.Fatalf("event %s", ev)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("stream of %s got nothing", s.Agent)
		}
	}
	select {
	case ev := <-other.Events():
		t.Fatalf("another business's stream got %s", ev)
	case <-time.After(50 * time.Millisecond):
	}
	if len(raw) != 1 || strings.Contains(string(raw[0]), "secret") {
		t.Fatalf("on the bus: %q, want one sealed event", raw)
	}

	// s1 stops reading: after its buffer is full it is dropped; s2 keeps
	// receiving every event.
	for i := range 200 {
		hub.Publish("111", &service.InboxEvent{Type: "status", At: int64(i)})
		select {
		case <-s2.Events():
		case <-time.After(5 * time.Second):
			t.Fatalf("s2 missed event %d", i)
		}
	}
	n := 0
	for range s1.Events() {
		n++
	}
	if !s1.Dropped() || n != 64 {
		t.Fatalf("slow stream: dropped %v after %d buffered events, want dropped after 64", s1.Dropped(), n)
	}
	s2.Close()
	s2.Close() // twice is harmless
}

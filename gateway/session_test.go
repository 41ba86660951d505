package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/gateway/ws"
)

// connHandler hands the server side of the first connection to the test.
type connHandler struct{ conns chan *ws.Conn }

func (h connHandler) OnOpen(c *ws.Conn, r *http.Request)           { h.conns <- c }
func (h connHandler) OnMessage(c *ws.Conn, text bool, data []byte) {}
func (h connHandler) OnClose(c *ws.Conn, code int, err error)      {}

// wsPair returns a client WebSocket and the server side's connection of
// it, both closed when the test ends, and a context of the test's
// deadline.
func wsPair(t *testing.T) (context.Context, *websocket.Conn, *ws.Conn) {
	t.Helper()
	h := connHandler{conns: make(chan *ws.Conn, 1)}
	srv, err := ws.NewServer(h, ws.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	go srv.Run(ctx)
	client, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.CloseNow() })
	return ctx, client, <-h.conns
}

// Live items that arrive out of order are written in seq order without
// reading the store: the hub here has no messaging service, so a read
// would panic.
func TestDeliverWaitsForGap(t *testing.T) {
	ctx, client, conn := wsPair(t)
	s := &session{hub: &Hub{o: Options{Window: 512, Metrics: NewMetrics(nil)}}, c: conn}
	for _, seq := range []uint64{3, 2, 5, 1, 4, 2, 6} { // 2 twice: the second is dropped
		s.deliver(seq, []byte(strconv.FormatUint(seq, 10)))
	}
	for want := 1; want <= 6; want++ {
		_, got, err := client.Read(ctx)
		if err != nil || string(got) != strconv.Itoa(want) {
			t.Fatalf("frame %d = %q, %v", want, got, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastSent != 6 || s.pending != 6 || s.early != nil || s.earlyTimer != nil || s.behind {
		t.Errorf("after the gaps filled: lastSent %d, pending %d, early %v, behind %v; want 6, 6, none, false", s.lastSent, s.pending, s.early, s.behind)
	}
}

// Answers written in commit bursts on many goroutines at once (as the
// callbacks of overlapping commits are), alongside a bus burst that the
// hub holds and releases, all arrive: none is left queued behind a hold.
func TestAnswersAllArrive(t *testing.T) {
	ctx, client, conn := wsPair(t)
	hub := &Hub{o: Options{Window: 512, Metrics: NewMetrics(nil)}}
	s := &session{hub: hub, c: conn}
	const n, perBurst = 200, 20
	var wg sync.WaitGroup
	for i := 0; i < n; i += perBurst {
		wg.Go(func() {
			var b parley.Burst
			for j := i; j < i+perBurst; j++ {
				s.writeIn(&b, []byte("a"+strconv.Itoa(j)))
			}
			b.End()
		})
	}
	wg.Go(func() {
		for i := range n {
			hub.hold(s)
			s.write([]byte("b" + strconv.Itoa(i)))
			if i%7 == 0 {
				hub.EndBurst()
			}
		}
		hub.EndBurst()
	})
	wg.Wait()
	seen := make(map[string]bool)
	for range 2 * n {
		_, got, err := client.Read(ctx)
		if err != nil {
			t.Fatalf("after %d frames: %v", len(seen), err)
		}
		seen[string(got)] = true
	}
	if len(seen) != 2*n {
		t.Errorf("%d distinct frames of %d", len(seen), 2*n)
	}
}

// sentRing keeps one frame per unacknowledged item, grows up to the
// window when two items meet in a slot, drops the older frame past it,
// and holds nothing once every item is taken.
func TestSentRing(t *testing.T) {
	var r sentRing
	frame := func(seq uint64) []byte { return []byte{byte(seq)} }
	for seq := uint64(1); seq <= 40; seq++ {
		r.put(seq, frame(seq), 128)
	}
	if len(r.slots) != 64 || r.n != 40 {
		t.Fatalf("after 40 items: %d slots, %d in use; want 64, 40", len(r.slots), r.n)
	}
	r.put(65, frame(65), 128) // meets item 1 at 64 slots
	if len(r.slots) != 128 || r.n != 41 {
		t.Fatalf("after item 65: %d slots, %d in use; want 128, 41", len(r.slots), r.n)
	}
	if _, ok := r.take(41); ok {
		t.Error("take(41) found a frame never put")
	}
	for seq := uint64(1); seq <= 20; seq++ {
		if f, ok := r.take(seq); !ok || f[0] != byte(seq) {
			t.Fatalf("take(%d) = %v, %v", seq, f, ok)
		}
	}
	if _, ok := r.take(5); ok {
		t.Error("take(5) found a frame taken before")
	}
	// Item 149 meets item 21 in a ring at the window: 21's frame goes.
	r.put(149, frame(149), 128)
	if _, ok := r.take(21); ok {
		t.Error("take(21) found a frame dropped for item 149")
	}
	for _, seq := range []uint64{149, 65} {
		if f, ok := r.take(seq); !ok || f[0] != byte(seq) {
			t.Errorf("take(%d) = %v, %v", seq, f, ok)
		}
	}
	for seq := uint64(22); seq <= 40; seq++ {
		if _, ok := r.take(seq); !ok {
			t.Fatalf("take(%d) found nothing", seq)
		}
	}
	if r.slots != nil || r.n != 0 {
		t.Errorf("every item taken: %d slots, %d in use; want none", len(r.slots), r.n)
	}
}

// A session reads an ack's items back from the frames it sent them in,
// forgets the frames the ack names whether or not it knew them all, and
// drops the ring once nothing is unacknowledged.
func TestSessionKnown(t *testing.T) {
	ctx, client, conn := wsPair(t)
	s := &session{hub: &Hub{o: Options{Window: 512, Metrics: NewMetrics(nil)}}, c: conn}
	for seq := uint64(1); seq <= 5; seq++ {
		it := parley.Item{Seq: seq, Kind: parley.KindMessage, MessageID: "m" + strconv.FormatUint(seq, 10), ClientID: "c",
			From: "4915100000001", FromDevice: 2, To: "4915100000002", Timestamp: time.UnixMilli(1767225600000), Body: []byte("x")}
		s.deliver(seq, encodeItem(&it))
	}
	for range 5 {
		if _, _, err := client.Read(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := s.known([]uint64{1, 2, 3})
	if len(got) != 3 || got[1].Seq != 2 || got[1].MessageID != "m2" || got[1].From != "4915100000001" ||
		got[1].FromDevice != 2 || got[1].Kind != parley.KindMessage {
		t.Fatalf("known(1, 2, 3) = %+v", got)
	}
	if got := s.known([]uint64{2}); got != nil {
		t.Errorf("known(2) again = %+v, want nil (its frame was taken)", got)
	}
	if got := s.known([]uint64{4, 5, 9}); got != nil {
		t.Errorf("known(4, 5, 9) = %+v, want nil (9 was never sent)", got)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent != nil {
		t.Errorf("every sent frame taken, the ring is still there: %d in use", s.sent.n)
	}
}

package bus_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/bus"
	"github.com/parley-chat/parley/bus/natstest"
)

type recorder struct {
	mu  sync.Mutex
	got map[string][]string
	ch  chan struct{}
}

func newRecorder() *recorder {
	return &recorder{got: map[string][]string{}, ch: make(chan struct{}, 1<<16)}
}

func (r *recorder) handle(subject string, data []byte) {
	r.mu.Lock()
	r.got[subject] = append(r.got[subject], string(data))
	r.mu.Unlock()
	r.ch <- struct{}{}
}

func (r *recorder) wait(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-r.ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("got %d of %d events", i, n)
		}
	}
}

func open(t *testing.T, url string) (*bus.Bus, *recorder) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b, err := bus.Open(ctx, bus.Options{URL: url, Name: t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	r := newRecorder()
	b.SetHandler(r.handle)
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		b.Close()
	})
	return b, r
}

func TestEmbeddedOrderAndRefcount(t *testing.T) {
	b, r := open(t, "")
	if err := b.Subscribe("parley.d.1.1"); err != nil {
		t.Fatal(err)
	}
	if err := b.Subscribe("parley.d.1.1"); err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		if err := b.Publish("parley.d.1.1", fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	r.wait(t, 1000)
	r.mu.Lock()
	for i, s := range r.got["parley.d.1.1"] {
		if s != fmt.Sprint(i) {
			t.Fatalf("event %d = %s; order lost", i, s)
		}
	}
	if n := len(r.got["parley.d.1.1"]); n != 1000 {
		t.Fatalf("got %d events, want 1000 (one subscription shared, not two)", n)
	}
	r.mu.Unlock()

	// One Unsubscribe leaves the second registration in place.
	if err := b.Unsubscribe("parley.d.1.1"); err != nil {
		t.Fatal(err)
	}
	b.Publish("parley.d.1.1", []byte("still"))
	r.wait(t, 1)
	if err := b.Unsubscribe("parley.d.1.1"); err != nil {
		t.Fatal(err)
	}
	b.Publish("parley.d.1.1", []byte("gone"))
	b.Publish("parley.d.1.2", []byte("never subscribed"))
	select {
	case <-r.ch:
		t.Fatal("event delivered after the last Unsubscribe")
	case <-time.After(100 * time.Millisecond):
	}
}

func TestRequestAndWaitOne(t *testing.T) {
	b, _ := open(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := make(chan string, 1)
	ready := make(chan struct{})
	go func() {
		close(ready)
		data, reply, err := b.WaitOne(ctx, "parley.link.x")
		if err != nil {
			got <- err.Error()
			return
		}
		reply([]byte("ack:" + string(data)))
		got <- string(data)
	}()
	<-ready
	var resp []byte
	var err error
	for range 50 { // the waiter may not have subscribed yet
		resp, err = b.Request(ctx, "parley.link.x", []byte("creds"))
		if err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil || string(resp) != "ack:creds" {
		t.Fatalf("Request = %q, %v", resp, err)
	}
	if s := <-got; s != "creds" {
		t.Fatalf("WaitOne got %q", s)
	}
	short, c2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer c2()
	if _, err := b.Request(short, "parley.link.nobody", nil); err == nil {
		t.Fatal("Request without a waiter succeeded")
	}
}

// Two nodes on one external NATS see each other's events.
func TestClusterTwoNodes(t *testing.T) {
	url := natstest.URL(t)
	a, _ := open(t, url)
	b, rb := open(t, url)
	subject := fmt.Sprintf("parley.test.%d", time.Now().UnixNano())
	if err := b.Subscribe(subject); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish(subject, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	rb.wait(t, 1)
	rb.mu.Lock()
	defer rb.mu.Unlock()
	if got := rb.got[subject]; len(got) != 1 || got[0] != "hello" {
		t.Fatalf("node b got %q", got)
	}
}

// With the embedded server Publish hands events to local subscriptions
// directly; subscribers NATS has to match (wildcards, WaitOne) must still
// get them, and a full shard drops instead of blocking the publisher.
func TestEmbeddedDirectPublish(t *testing.T) {
	b, r := open(t, "")
	if err := b.Subscribe("parley.a.x"); err != nil {
		t.Fatal(err)
	}
	b.Publish("parley.a.x", []byte("direct"))
	r.wait(t, 1)

	if err := b.Subscribe("parley.p.*"); err != nil {
		t.Fatal(err)
	}
	b.Publish("parley.p.y", []byte("wild"))
	b.Publish("parley.a.x", []byte("while wild"))
	r.wait(t, 2)
	if err := b.Unsubscribe("parley.p.*"); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	if got := r.got["parley.p.y"]; len(got) != 1 || got[0] != "wild" {
		t.Errorf("wildcard subscriber got %q, want [wild]", got)
	}
	if got := r.got["parley.a.x"]; len(got) != 2 || got[1] != "while wild" {
		t.Errorf("exact subscriber got %q, want [direct while wild]", got)
	}
	r.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := make(chan string, 1)
	go func() {
		data, _, err := b.WaitOne(ctx, "parley.a.x")
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(data)
	}()
	// The waiter may not have subscribed yet: publish until it has.
	for {
		b.Publish("parley.a.x", []byte("waited"))
		select {
		case s := <-got:
			if s != "waited" {
				t.Fatalf("WaitOne got %q, want waited", s)
			}
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestEmbeddedFullShardDrops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := bus.Open(ctx, bus.Options{Name: t.Name(), Shards: 1, ShardBuffer: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Subscribe("parley.a.x"); err != nil {
		t.Fatal(err)
	}
	// Nothing drains the shard (Run is not running).
	for range 10 {
		if err := b.Publish("parley.a.x", []byte("e")); err != nil {
			t.Fatal(err)
		}
	}
	if got := b.Dropped(); got != 6 {
		t.Fatalf("Dropped = %d, want 6 (10 published into a shard of 4)", got)
	}
}

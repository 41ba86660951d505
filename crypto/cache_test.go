package crypto

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

type staticBundles map[string]*Bundle

func (s staticBundles) FetchBundle(_ context.Context, peer Address) (*Bundle, error) {
	if b, ok := s[peer.String()]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("no bundle for %s", peer)
}

// A randomized conversation with simultaneous session starts, reordering,
// tampering, replays and restarts must deliver every genuine message
// exactly once, with the decoded-session cache on and off. (With
// libsignal's own Cipher.Decrypt it fails within a few dozen steps: see
// ratchet.go.)
func TestRandomizedConversation(t *testing.T) {
	for _, cacheOff := range []bool{false, true} {
		t.Run(fmt.Sprintf("cache_off_%v", cacheOff), func(t *testing.T) {
			noSessionCache = cacheOff
			defer func() { noSessionCache = false }()
			randomizedConversation(t, rand.New(rand.NewPCG(7, 11)), 3000)
		})
	}
}

type inflight struct {
	ct   Ciphertext
	text string
	age  int
}

func randomizedConversation(t *testing.T, rng *rand.Rand, steps int) {
	ctx := context.Background()
	var events []string // the last events, printed if the test fails
	logf := func(format string, args ...any) {
		events = append(events, fmt.Sprintf(format, args...))
		if len(events) > 40 {
			events = events[1:]
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, e := range events {
				t.Log(e)
			}
		}
	})
	bundles := staticBundles{}
	devs := [2]*Device{}
	for i, name := range []string{"alice", "bob"} {
		d, err := NewDevice(Address{Account: name, Device: 1}, Options{Bundles: bundles})
		if err != nil {
			t.Fatal(err)
		}
		up, _ := d.Upload()
		bundles[d.Address().String()] = up.Bundle(-1)
		devs[i] = d
	}
	var queues [2][]inflight // queues[i]: messages on their way to devs[i]
	var delivered [2][]Ciphertext
	sent := 0
	deliver := func(to, idx int) {
		m := queues[to][idx]
		queues[to] = append(queues[to][:idx], queues[to][idx+1:]...)
		got, err := devs[to].Decrypt(ctx, devs[1-to].Address(), m.ct)
		logf("deliver %s (%s) to %s: %v", m.text, m.ct.Type, devs[to].Address(), err)
		if err != nil || string(got) != m.text {
			t.Fatalf("deliver %q to %s: %q, %v", m.text, devs[to].Address(), got, err)
		}
		delivered[to] = append(delivered[to], m.ct)
	}
	for step := range steps {
		for to := range queues {
			for i := range queues[to] {
				queues[to][i].age++
			}
			// Bound reordering: libsignal keeps 5 receiver chains.
			for len(queues[to]) > 0 && queues[to][0].age > 12 {
				deliver(to, 0)
			}
		}
		switch r := rng.IntN(100); {
		case r < 40: // send
			from := rng.IntN(2)
			text := fmt.Sprint("m", sent)
			sent++
			ct, err := devs[from].Encrypt(ctx, devs[1-from].Address(), []byte(text))
			if err != nil {
				t.Fatalf("step %d: Encrypt: %v", step, err)
			}
			logf("send %s (%s) from %s", text, ct.Type, devs[from].Address())
			queues[1-from] = append(queues[1-from], inflight{ct: ct, text: text})
		case r < 75: // deliver one, in any order
			to := rng.IntN(2)
			if len(queues[to]) > 0 {
				deliver(to, rng.IntN(len(queues[to])))
			}
		case r < 88: // a tampered copy of one in flight
			to := rng.IntN(2)
			if len(queues[to]) > 0 {
				idx := rng.IntN(len(queues[to]))
				m := queues[to][idx]
				bad := Ciphertext{Type: m.ct.Type, Body: append([]byte(nil), m.ct.Body...)}
				bad.Body[1+rng.IntN(len(bad.Body)-1)] ^= byte(1 + rng.IntN(255))
				got, err := devs[to].Decrypt(ctx, devs[1-to].Address(), bad)
				if err == nil {
					// libsignal authenticates a re-serialization of the parsed
					// message, and a PreKey message's registration id not at
					// all: some changes to unauthenticated encoding details
					// pass. The content must be the genuine one, once.
					if string(got) != m.text {
						t.Fatalf("step %d: tampered message decrypted to %q, want %q", step, got, m.text)
					}
					logf("step %d: tampered copy of %s (%s) accepted (same content)", step, m.text, m.ct.Type)
					queues[to] = append(queues[to][:idx], queues[to][idx+1:]...)
					delivered[to] = append(delivered[to], m.ct)
				}
			}
		case r < 95: // replay one already delivered
			to := rng.IntN(2)
			if n := len(delivered[to]); n > 0 {
				_, err := devs[to].Decrypt(ctx, devs[1-to].Address(), delivered[to][rng.IntN(n)])
				// Once its receiver chain is gone (libsignal keeps five),
				// a replay no longer looks like one and fails its MAC.
				if !errors.Is(err, ErrDuplicate) && !errors.Is(err, ErrAuthFailed) {
					t.Fatalf("step %d: replay: %v, want ErrDuplicate or ErrAuthFailed", step, err)
				}
			}
		default: // restart one side from its stored state
			i := rng.IntN(2)
			b, err := devs[i].Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if devs[i], err = Unmarshal(b, Options{Bundles: bundles}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for to := range queues {
		for len(queues[to]) > 0 {
			deliver(to, 0)
		}
	}
	if sent < steps/4 {
		t.Fatalf("only %d messages sent", sent)
	}
}

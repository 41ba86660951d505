package service

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/parley-chat/parley"
)

// devicesOnly is a MessagingStore that knows device lists and nothing
// else (the rest panics: the copy checks must not need it).
type devicesOnly struct {
	MessagingStore
	devs map[string][]parley.Device
}

func (d devicesOnly) Devices(_ context.Context, account string) ([]parley.Device, error) {
	return d.devs[account], nil
}

// TestCopiesCurrentAgreesWithCheckCopies: the send's quick check accepts
// exactly the envelopes that checkCopies accepts, for random copy lists
// (missing, extra, repeated, revoked-looking and keyless devices, notes
// to self).
func TestCopiesCurrentAgreesWithCheckCopies(t *testing.T) {
	const A, B, C = "4915100000001", "4915100000002", "4915100000003"
	st := devicesOnly{devs: map[string][]parley.Device{
		A: {{ID: 1, HasKeys: true}, {ID: 2, HasKeys: true}, {ID: 4}},
		B: {{ID: 1, HasKeys: true}, {ID: 3}},
		C: {{ID: 2}}, // no device with keys: copies may be left out
	}}
	m := NewMessaging(st, nil, nil, nil)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	accepted, refused := 0, 0
	for range 20000 {
		to := []string{A, B, C, "4915100000009"}[r.IntN(4)]
		env := &parley.Envelope{From: A, FromDevice: 1, To: to, ClientID: "c"}
		for range r.IntN(5) {
			acct := A
			if r.IntN(3) > 0 {
				acct = to
			}
			dev := uint32(1 + r.IntN(4))
			if acct == A && dev == 1 {
				continue // Validate refuses a copy for the sending device
			}
			env.Copies = append(env.Copies, parley.Copy{Account: acct, Device: dev, Body: []byte("x")})
		}
		if len(env.Copies) == 0 {
			continue
		}
		if err := env.Validate(); err != nil {
			t.Fatalf("test made an invalid envelope %+v: %v", env, err)
		}
		quick, err := m.copiesCurrent(ctx, env)
		if err != nil {
			t.Fatal(err)
		}
		_, full := m.checkCopies(ctx, env)
		if quick != (full == nil) {
			t.Fatalf("copies %+v to %s: copiesCurrent = %v, checkCopies = %v", env.Copies, to, quick, full)
		}
		if quick {
			accepted++
		} else {
			refused++
		}
	}
	if accepted < 100 || refused < 100 {
		t.Fatalf("accepted %d, refused %d: the random envelopes do not cover both outcomes", accepted, refused)
	}
}

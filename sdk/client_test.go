package sdk_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/sdk"
)

func TestHTTPErrors(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	_, err := sdk.RequestCode(ctx, s.URL(), "+12")
	var e *sdk.Error
	if !errors.As(err, &e) || e.Status != 400 || e.Code != sdk.CodeInvalid || e.Message == "" {
		t.Fatalf("bad phone: got %#v, want a 400 invalid *sdk.Error", err)
	}
	if _, err := sdk.Verify(ctx, s.URL(), alicePhone, "000000", "x", "test"); sdk.ErrorCode(err) != sdk.CodeInvalid {
		t.Fatalf("verify without a code request: %v, want invalid", err)
	}
	creds := s.register(alicePhone, "alice")
	c := sdk.NewClient(*creds)
	_, err = c.RecipientDevices(ctx, "4915199999999")
	if !errors.As(err, &e) || e.Status != 404 || e.Code != sdk.CodeNotFound {
		t.Fatalf("unknown recipient: got %v, want 404 not_found", err)
	}
	bad := sdk.NewClient(sdk.Credentials{Server: s.URL(), Token: "nonsense"})
	if _, err := bad.Me(ctx); sdk.ErrorCode(err) != sdk.CodeUnauthorized {
		t.Fatalf("bad token: %v, want unauthorized", err)
	}
	if _, err := c.LinkApprove(ctx, sdk.NewLinkCode(), "x", "test"); sdk.ErrorCode(err) != sdk.CodeNotFound {
		t.Fatalf("approve without a waiter: %v, want not_found", err)
	}

	m := run(t, creds, sdk.Options{})
	if _, err := m.m.SendText(ctx, "4915199999999", "anyone?"); sdk.ErrorCode(err) != sdk.CodeNotFound {
		t.Fatalf("send to a number without account: %v, want not_found", err)
	}
}

func TestAccountEndpoints(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	creds := s.register(alicePhone, "phone")
	if !creds.Created || creds.Account != alice || creds.Device != 1 || creds.Server != s.URL() {
		t.Fatalf("credentials %+v", creds)
	}
	second := s.register(alicePhone, "laptop")
	c := sdk.NewClient(*second)

	me, err := c.Me(ctx)
	if err != nil || me.Account != alice || me.Device != second.Device || me.Presence != "everyone" {
		t.Fatalf("me: %+v, %v", me, err)
	}
	name, nobody := "Ada", "nobody"
	me, err = c.UpdateMe(ctx, sdk.MeUpdate{Name: &name})
	if err != nil || me.Name != "Ada" || me.Presence != "everyone" {
		t.Fatalf("update name: %+v, %v", me, err)
	}
	devs, err := c.Devices(ctx)
	if err != nil || len(devs) != 2 {
		t.Fatalf("devices: %+v, %v", devs, err)
	}
	for _, d := range devs {
		if d.Current != (d.ID == second.Device) {
			t.Errorf("device %d current=%v", d.ID, d.Current)
		}
	}
	ids, err := c.RecipientDevices(ctx, alicePhone)
	if err != nil || len(ids) != 2 {
		t.Fatalf("recipient devices: %v, %v", ids, err)
	}

	bobCreds := s.register(bobPhone, "bob")
	b := sdk.NewClient(*bobCreds)
	p, err := b.Presence(ctx, alice)
	if err != nil || p.Account != alice || p.Online || p.Hidden {
		t.Fatalf("presence of offline alice: %+v, %v", p, err)
	}
	if _, err := c.UpdateMe(ctx, sdk.MeUpdate{Presence: &nobody}); err != nil {
		t.Fatal(err)
	}
	if p, err = b.Presence(ctx, alice); err != nil || !p.Hidden {
		t.Fatalf("presence of hiding alice: %+v, %v", p, err)
	}
	if err := c.Unlink(ctx, creds.Device); err != nil {
		t.Fatal(err)
	}
	if devs, err = c.Devices(ctx); err != nil || len(devs) != 1 {
		t.Fatalf("devices after unlink: %+v, %v", devs, err)
	}
}

func TestTypingAndPresenceEvents(t *testing.T) {
	s := startServer(t)
	a := run(t, s.register(alicePhone, "alice"), sdk.Options{})
	bobCreds := s.register(bobPhone, "bob")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.m.WatchPresence(ctx, bobPhone); err != nil {
		t.Fatal(err)
	}
	if p := presence(t, a); p.Account != bob || p.Online {
		t.Fatalf("first presence %+v, want bob offline", p)
	}
	b := run(t, bobCreds, sdk.Options{})
	if p := presence(t, a); p.Account != bob || !p.Online {
		t.Fatalf("presence %+v, want bob online", p)
	}
	if err := b.m.Typing(ctx, alice, true); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case ev := <-a.m.Events():
			if ty, ok := ev.(*sdk.Typing); ok {
				if ty.From != bob || ty.FromDevice != 1 || ty.State != "composing" {
					t.Fatalf("typing %+v", ty)
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("no typing event")
		}
	}
}

func presence(t *testing.T, d *device) *sdk.Presence {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-d.m.Events():
			if p, ok := ev.(*sdk.Presence); ok {
				return p
			}
		case <-timeout:
			t.Fatal("no presence event")
		}
	}
}

func TestConnDetectsDeadConnection(t *testing.T) {
	s := startServer(t)
	creds := s.register(alicePhone, "alice")
	var net dropper
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sdk.Dial(ctx, s.URL(), creds.Token, &sdk.DialOptions{HTTPClient: net.client(),
		PingInterval: 50 * time.Millisecond, DeadAfter: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Ready(); r.Account != alice || r.Device != 1 || r.Version != 1 {
		t.Fatalf("ready %+v", r)
	}
	// Pings are answered: the connection lives well past DeadAfter.
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, err := c.Read(ctx); err != nil {
				readErr <- err
				return
			}
		}
	}()
	select {
	case err := <-readErr:
		t.Fatalf("live connection ended: %v", err)
	case <-time.After(time.Second):
	}
	net.freeze()
	select {
	case err := <-readErr:
		if !errors.Is(err, sdk.ErrDead) {
			t.Fatalf("frozen connection ended with %v, want ErrDead", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("frozen connection was not declared dead")
	}
}
